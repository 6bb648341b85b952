// One or two Hamming queries over rows of whole words (AVX-512 VPOPCNTDQ +
// VBMI), in a translation unit of its own: next to the batch kernel, its
// instantiations tipped GCC's inlining budget and the batch kernel ran a
// quarter slower (measured); the VPOPCNTDQ kernel calls it through a pointer.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "../common/topk.h"
#include "../types.h"

namespace {

// Few queries over rows of W <= 8 whole u64 words (ceil(dim/8) a multiple of
// 8): 8 rows are W contiguous zmm loads, no masks and no row boundaries
// inside a load. The query is laid out in the same period (register j, lane l
// holds query word (8j + l) % W), so XOR + VPOPCNTQ gives every word's count
// in place. Counts are at most 64, so the W count vectors pack into bytes
// (register j into byte j of each lane); one VPERMB moves row r's W bytes
// into lane r and VPSADBW sums them: 8 distances for W + W + W + 3 vector
// operations, against the 8 x 4 + 21 of hammingDirect's row loads and
// transpose-add tree, which bound it below the memory stream on one core.
template <size_t W, size_t NQ>
struct StreamScan {
  const uint8_t* base;
  size_t n;
  uint64_t lastMask;

  dso::KernelResult operator()(TopKQueues& tq, const uint64_t* qwords, size_t, size_t) const {
    alignas(64) uint8_t permBytes[64];
    uint64_t permMask = 0;
    for (size_t r = 0; r < 8; ++r) {
      for (size_t s = 0; s < 8; ++s) {
        const size_t w = W * r + s;
        permBytes[8 * r + s] = s < W ? static_cast<uint8_t>(8 * (w % 8) + w / 8) : 0;
        if (s < W) permMask |= uint64_t(1) << (8 * r + s);
      }
    }
    const __m512i perm = _mm512_load_si512(permBytes);
    // keep clears a row's padding bits, whatever the caller left in them.
    __m512i keep[W], pattern[NQ][W];
    for (size_t j = 0; j < W; ++j) {
      alignas(64) uint64_t lane[8];
      for (size_t l = 0; l < 8; ++l) lane[l] = (8 * j + l) % W == W - 1 ? lastMask : ~uint64_t(0);
      keep[j] = _mm512_load_si512(lane);
      for (size_t q = 0; q < NQ; ++q) {
        for (size_t l = 0; l < 8; ++l) lane[l] = qwords[q * W + (8 * j + l) % W];
        pattern[q][j] = _mm512_load_si512(lane);
      }
    }
    const size_t full = n / 8 * 8;
    __m512i x[W];
    for (size_t r0 = 0; r0 < full; r0 += 8) {
      const uint8_t* p = base + r0 * W * 8;
      for (size_t j = 0; j < W; ++j) x[j] = _mm512_loadu_si512(p + 64 * j);
      block(tq, x, keep, pattern, perm, permMask, r0, 0xffu);
    }
    if (full < n) {
      // The last rows: masked loads read nothing past the base.
      const size_t words = (n - full) * W;
      const uint8_t* p = base + full * W * 8;
      for (size_t j = 0; j < W; ++j) {
        const size_t have = words > 8 * j ? words - 8 * j : 0;
        const __mmask8 m = have >= 8 ? __mmask8(0xff) : static_cast<__mmask8>((1u << have) - 1);
        x[j] = _mm512_maskz_loadu_epi64(m, p + 64 * j);
      }
      block(tq, x, keep, pattern, perm, permMask, full, (1u << (n - full)) - 1);
    }
    return dso::ok();
  }

  // 8 rows from `x`: (row XOR query) AND keep, counted, packed, summed per row, offered to the queues.
  static inline void block(TopKQueues& tq, const __m512i* x, const __m512i* keep, const __m512i (*pattern)[W],
                           __m512i perm, uint64_t permMask, size_t r0, uint32_t valid) {
    alignas(64) uint64_t lanes[8];
    for (size_t q = 0; q < NQ; ++q) {
      __m512i packed = _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(x[0], pattern[q][0], keep[0], 0x28));
      for (size_t j = 1; j < W; ++j) {
        const __m512i c = _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(x[j], pattern[q][j], keep[j], 0x28));
        packed = _mm512_or_si512(packed, _mm512_slli_epi64(c, static_cast<unsigned>(8 * j)));
      }
      const __m512i d = _mm512_sad_epu8(_mm512_maskz_permutexvar_epi8(permMask, perm, packed), _mm512_setzero_si512());
      uint32_t m = _mm512_cmplt_epu64_mask(d, _mm512_set1_epi64(tq.thr[q])) & valid;
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
};

template <size_t W, size_t NQ>
dso::KernelResult hammingStream(const uint8_t* base, size_t n, const uint8_t* queries, size_t dim, size_t k,
                                int32_t* ids, int32_t* dists) {
  return forQueryBlocks(queries, NQ, dim, k, n, W, ids, dists, StreamScan<W, NQ>{base, n, lastWordMask(dim)});
}

template <size_t NQ>
dso::KernelResult hammingStreamDispatch(const uint8_t* base, size_t n, const uint8_t* queries, size_t dim, size_t k,
                                        int32_t* ids, int32_t* dists) {
  switch ((dim + 63) / 64) {
    case 1:
      return hammingStream<1, NQ>(base, n, queries, dim, k, ids, dists);
    case 2:
      return hammingStream<2, NQ>(base, n, queries, dim, k, ids, dists);
    case 3:
      return hammingStream<3, NQ>(base, n, queries, dim, k, ids, dists);
    case 4:
      return hammingStream<4, NQ>(base, n, queries, dim, k, ids, dists);
    case 5:
      return hammingStream<5, NQ>(base, n, queries, dim, k, ids, dists);
    case 6:
      return hammingStream<6, NQ>(base, n, queries, dim, k, ids, dists);
    case 7:
      return hammingStream<7, NQ>(base, n, queries, dim, k, ids, dists);
    default:
      return hammingStream<8, NQ>(base, n, queries, dim, k, ids, dists);
  }
}

// Queries two at a time; ceil(dim/8) must be a multiple of 8 and at most 64.
dso::KernelResult hammingTopKAvx512Stream(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim,
                                          size_t k, int32_t* ids, int32_t* dists) {
  const size_t B = (dim + 7) / 8;
  for (size_t q0 = 0; q0 < nq; q0 += 2) {
    const size_t m = (nq - q0) < 2 ? (nq - q0) : 2;
    const dso::KernelResult r =
        m == 2 ? hammingStreamDispatch<2>(base, n, queries + q0 * B, dim, k, ids + q0 * k, dists + q0 * k)
               : hammingStreamDispatch<1>(base, n, queries + q0 * B, dim, k, ids + q0 * k, dists + q0 * k);
    if (r.status != dso::Status::Ok) return r;
  }
  return dso::ok();
}

}  // namespace
