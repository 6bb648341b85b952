// Blocked Hamming top-k for SIMD tiers. A tile of base rows is transposed once
// into word-major order (lane = row), so one vector instruction advances
// several base rows and no horizontal reduction is needed; every query of the
// block then scans the tile from L1. The tile is rebuilt per query block,
// so a batch amortises the transposition and a single query pays it once.
//
// V supplies: reg, L (u64 lanes), F (words a byte-count accumulator can take
// before flush), zero, load, store, bcast, add64, andv, gather, popXor (acc +
// per-byte or per-lane popcount of a^b), flush (to u64 lane sums), ltMask.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../types.h"
#include "topk.h"

namespace {

template <class V, int WT>
dso::KernelResult hammingTiled(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim, size_t k,
                               int32_t* ids, int32_t* dists) {
  using reg = typename V::reg;
  constexpr size_t L = V::L;
  const size_t B = (dim + 7) / 8;
  const size_t W = WT ? WT : (B + 7) / 8;
  const uint64_t lastMask = lastWordMask(dim);
  // Tile sized to stay in L1 (16 KiB of words), a multiple of the lane count.
  size_t R = (16384 / (8 * W)) / 8 * 8;
  if (R < 8) R = 8;
  if (R > 512) R = 512;
  uint64_t* tile = static_cast<uint64_t*>(std::aligned_alloc(64, W * R * 8));
  uint64_t* rowWords = static_cast<uint64_t*>(std::malloc(W * 8));
  if (!tile || !rowWords) {
    std::free(tile);
    std::free(rowWords);
    return {dso::Status::OutOfMemory, -1};
  }
  const int64_t totalBytes = static_cast<int64_t>(n * B);

  // Captures by value: by reference, stores to the u64 tile could alias the
  // captured sizes and masks, forcing reloads in the inner loops (-10% here).
  const dso::KernelResult res = forQueryBlocks(
      queries, nq, dim, k, n, W, ids, dists, [=](TopKQueues& tq, const uint64_t* qwords, size_t, size_t nqb) {
        alignas(64) int64_t laneOff[L];
        alignas(64) uint64_t lanes[L];
        for (size_t t0 = 0; t0 < n; t0 += R) {
          const size_t rows = (n - t0) < R ? (n - t0) : R;
          const size_t usedGroups = (rows + L - 1) / L;
          for (size_t g = 0; g < usedGroups; ++g) {
            const size_t r0 = t0 + g * L;
            const bool gatherSafe = r0 + L <= n && static_cast<int64_t>((r0 + L - 1) * B + 8 * W) <= totalBytes;
            if (gatherSafe) {
              for (size_t l = 0; l < L; ++l) laneOff[l] = static_cast<int64_t>((r0 + l) * B);
              for (size_t w = 0; w < W; ++w) {
                reg v = V::gather(base, laneOff, static_cast<int64_t>(8 * w));
                if (w == W - 1) v = V::andv(v, V::bcast(lastMask));
                V::store(tile + w * R + g * L, v);
              }
            } else {
              for (size_t l = 0; l < L; ++l) {
                const size_t r = r0 + l;
                if (r < n)
                  loadRowWords(base + r * B, B, W, lastMask, rowWords);
                else
                  std::memset(rowWords, 0, W * 8);
                for (size_t w = 0; w < W; ++w) tile[w * R + g * L + l] = rowWords[w];
              }
            }
          }
          const size_t tailLanes = rows - (usedGroups - 1) * L;
          const uint32_t tailValid = tailLanes >= 32 ? ~0u : ((1u << tailLanes) - 1);

          for (size_t q = 0; q < nqb; ++q) {
            const uint64_t* qw = qwords + q * W;
            uint32_t thr = tq.thr[q];
            reg qv[WT ? WT : 1];
            if (WT)
              for (size_t w = 0; w < W; ++w) qv[w] = V::bcast(qw[w]);
            for (size_t g = 0; g < usedGroups; ++g) {
              reg total = V::zero();
              for (size_t w0 = 0; w0 < W; w0 += V::F) {
                const size_t w1 = (w0 + V::F) < W ? (w0 + V::F) : W;
                reg acc = V::zero();
                for (size_t w = w0; w < w1; ++w)
                  acc = V::popXor(acc, V::load(tile + w * R + g * L), WT ? qv[WT ? w : 0] : V::bcast(qw[w]));
                total = V::add64(total, V::flush(acc));
              }
              uint32_t m = V::ltMask(total, thr);
              if (g == usedGroups - 1) m &= tailValid;
              if (m) {
                V::store(lanes, total);
                const int32_t r0 = static_cast<int32_t>(t0 + g * L);
                while (m) {
                  const int l = __builtin_ctz(m);
                  m &= m - 1;
                  tq.push(q, static_cast<uint32_t>(lanes[l]), r0 + l);
                }
                thr = tq.thr[q];
              }
            }
          }
        }
        return dso::ok();
      });
  std::free(tile);
  std::free(rowWords);
  return res;
}

// Word counts up to 16 (dims up to 1024) get fully unrolled kernels with the
// query held in registers; longer codes use the runtime-W loop.
template <class V>
dso::KernelResult hammingTiledDispatch(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim,
                                       size_t k, int32_t* ids, int32_t* dists) {
  switch (((dim + 7) / 8 + 7) / 8) {
    case 1:
      return hammingTiled<V, 1>(base, n, queries, nq, dim, k, ids, dists);
    case 2:
      return hammingTiled<V, 2>(base, n, queries, nq, dim, k, ids, dists);
    case 3:
      return hammingTiled<V, 3>(base, n, queries, nq, dim, k, ids, dists);
    case 4:
      return hammingTiled<V, 4>(base, n, queries, nq, dim, k, ids, dists);
    case 5:
      return hammingTiled<V, 5>(base, n, queries, nq, dim, k, ids, dists);
    case 6:
      return hammingTiled<V, 6>(base, n, queries, nq, dim, k, ids, dists);
    case 7:
      return hammingTiled<V, 7>(base, n, queries, nq, dim, k, ids, dists);
    case 8:
      return hammingTiled<V, 8>(base, n, queries, nq, dim, k, ids, dists);
    case 9:
      return hammingTiled<V, 9>(base, n, queries, nq, dim, k, ids, dists);
    case 10:
      return hammingTiled<V, 10>(base, n, queries, nq, dim, k, ids, dists);
    case 11:
      return hammingTiled<V, 11>(base, n, queries, nq, dim, k, ids, dists);
    case 12:
      return hammingTiled<V, 12>(base, n, queries, nq, dim, k, ids, dists);
    case 13:
      return hammingTiled<V, 13>(base, n, queries, nq, dim, k, ids, dists);
    case 14:
      return hammingTiled<V, 14>(base, n, queries, nq, dim, k, ids, dists);
    case 15:
      return hammingTiled<V, 15>(base, n, queries, nq, dim, k, ids, dists);
    case 16:
      return hammingTiled<V, 16>(base, n, queries, nq, dim, k, ids, dists);
    default:
      return hammingTiled<V, 0>(base, n, queries, nq, dim, k, ids, dists);
  }
}

}  // namespace
