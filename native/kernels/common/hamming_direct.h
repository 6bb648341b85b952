// Hamming top-k for a few queries (AVX-512): rows are read contiguously with
// masked loads (no gathers, no tile), each row's per-word popcounts land in
// one vector, and a transpose-add tree folds 8 rows' vectors into one vector
// of 8 distances. Memory-bound on a single query, where the tiled kernel's
// gathers would cost more than the DRAM stream.
//
// V supplies (beyond hamming_tiled.h): rowLoad(p, mask), wordCounts(a, b)
// (per-u64 popcount of a^b), and the constants kMaxQ.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>

#include "../types.h"
#include "hamming_tiled.h"
#include "topk.h"

namespace {

// Folds 8 vectors of 8 u64 lanes into one: lane r = sum of lanes of v[r].
inline __m512i reduce8x8(const __m512i* v) {
  __m512i a[4], b[2];
  for (int i = 0; i < 4; ++i)
    a[i] =
        _mm512_add_epi64(_mm512_unpacklo_epi64(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_epi64(v[2 * i], v[2 * i + 1]));
  // a[i] 128-bit lane L = (row 2i, row 2i+1) partial sums of words 2L, 2L+1.
  for (int i = 0; i < 2; ++i)
    b[i] = _mm512_add_epi64(_mm512_shuffle_i64x2(a[2 * i], a[2 * i + 1], 0x88),
                            _mm512_shuffle_i64x2(a[2 * i], a[2 * i + 1], 0xdd));
  // b[i] 128-bit lanes: (4i,4i+1) words 0-3, (4i,4i+1) words 4-7,
  // (4i+2,4i+3) words 0-3, (4i+2,4i+3) words 4-7.
  return _mm512_add_epi64(_mm512_shuffle_i64x2(b[0], b[1], 0x88), _mm512_shuffle_i64x2(b[0], b[1], 0xdd));
}

template <class V, size_t NQ>
dso::KernelResult hammingDirect(const uint8_t* base, size_t n, const uint8_t* queries, size_t dim, size_t k,
                                int32_t* ids, int32_t* dists) {
  const size_t B = (dim + 7) / 8;
  const size_t W = (B + 7) / 8;
  const size_t chunks = (B + 63) / 64;
  const uint64_t lastMask = lastWordMask(dim);
  const size_t tailBytes = B - 64 * (chunks - 1);
  const __mmask64 tailLoad = tailBytes >= 64 ? ~__mmask64(0) : ((__mmask64(1) << tailBytes) - 1);
  // Clears padding bits of the row's last word inside the last chunk.
  alignas(64) uint64_t tailAndWords[8];
  for (size_t l = 0; l < 8; ++l) tailAndWords[l] = (64 * (chunks - 1) + 8 * l + 8 > 8 * W) ? 0 : ~uint64_t(0);
  tailAndWords[(W - 1) % 8] = lastMask;
  const __m512i tailAnd = _mm512_load_si512(tailAndWords);

  const size_t full = n / 8 * 8;
  // Captures by value, for the same aliasing reason as the tiled kernel.
  return forQueryBlocks(
      queries, NQ, dim, k, n, chunks * 8, ids, dists, [=](TopKQueues& tq, const uint64_t* qwords, size_t, size_t) {
        alignas(64) uint64_t lanes[8];
        for (size_t r0 = 0; r0 < n; r0 += 8) {
          const size_t rowsHere = r0 < full ? 8 : n - r0;
          __m512i perRow[NQ][8];
          for (size_t l = 0; l < 8; ++l) {
            for (size_t q = 0; q < NQ; ++q) perRow[q][l] = _mm512_setzero_si512();
            if (l >= rowsHere) continue;
            const uint8_t* row = base + (r0 + l) * B;
            for (size_t c = 0; c < chunks; ++c) {
              const __m512i v = c + 1 < chunks
                                    ? _mm512_loadu_si512(row + 64 * c)
                                    : _mm512_and_si512(_mm512_maskz_loadu_epi8(tailLoad, row + 64 * c), tailAnd);
              for (size_t q = 0; q < NQ; ++q)
                perRow[q][l] =
                    _mm512_add_epi64(perRow[q][l], V::wordCounts(v, _mm512_load_si512(qwords + (q * chunks + c) * 8)));
            }
          }
          const uint32_t valid = rowsHere >= 8 ? 0xffu : ((1u << rowsHere) - 1);
          for (size_t q = 0; q < NQ; ++q) {
            const __m512i d = reduce8x8(perRow[q]);
            uint32_t m = V::ltMask(d, tq.thr[q]) & valid;
            if (m) {
              _mm512_store_si512(lanes, d);
              while (m) {
                const int l = __builtin_ctz(m);
                m &= m - 1;
                tq.push(q, static_cast<uint32_t>(lanes[l]), static_cast<int32_t>(r0 + l));
              }
            }
          }
        }
        return dso::ok();
      });
}

// Few queries: direct row scan; many: the tiled kernel.
template <class V>
dso::KernelResult hammingAvx512Any(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim,
                                   size_t k, int32_t* ids, int32_t* dists) {
  constexpr size_t kDirectMaxQ = 2;
  if (nq > kDirectMaxQ) return hammingTiledDispatch<V>(base, n, queries, nq, dim, k, ids, dists);
  const size_t B = (dim + 7) / 8;
  for (size_t q0 = 0; q0 < nq; q0 += kDirectMaxQ) {
    const size_t m = (nq - q0) < kDirectMaxQ ? (nq - q0) : kDirectMaxQ;
    const dso::KernelResult r =
        m == 2 ? hammingDirect<V, 2>(base, n, queries + q0 * B, dim, k, ids + q0 * k, dists + q0 * k)
               : hammingDirect<V, 1>(base, n, queries + q0 * B, dim, k, ids + q0 * k, dists + q0 * k);
    if (r.status != dso::Status::Ok) return r;
  }
  return dso::ok();
}

}  // namespace
