// NEON Hamming top-k: one row at a time against each query of the block,
// 16 bytes per step (vcnt per byte, pairwise-accumulated into u16 lanes).
#pragma once
#include <arm_neon.h>

#include <cstdlib>
#include <cstring>

#include "../common/topk.h"
#include "../types.h"

namespace {

dso::KernelResult hammingTopKNeon(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim,
                                  size_t k, int32_t* ids, int32_t* dists) {
  const size_t B = (dim + 7) / 8;
  const size_t W = (B + 7) / 8;
  const size_t C = (W + 1) / 2;  // 16-byte chunks per padded row
  const uint64_t lastMask = lastWordMask(dim);
  uint64_t* row = static_cast<uint64_t*>(std::aligned_alloc(16, C * 16));
  if (!row) return {dso::Status::OutOfMemory, -1};
  std::memset(row, 0, C * 16);
  const dso::KernelResult res = forQueryBlocks(
      queries, nq, dim, k, n, 2 * C, ids, dists, [&](TopKQueues& tq, const uint64_t* qwords, size_t, size_t nqb) {
        for (size_t r = 0; r < n; ++r) {
          loadRowWords(base + r * B, B, W, lastMask, row);
          const uint8_t* rb = reinterpret_cast<const uint8_t*>(row);
          for (size_t q = 0; q < nqb; ++q) {
            const uint8_t* qv = reinterpret_cast<const uint8_t*>(qwords + q * C * 2);
            uint16x8_t acc = vdupq_n_u16(0);
            for (size_t c = 0; c < C; ++c)
              acc = vpadalq_u8(acc, vcntq_u8(veorq_u8(vld1q_u8(rb + 16 * c), vld1q_u8(qv + 16 * c))));
            tq.push(q, vaddlvq_u16(acc), static_cast<int32_t>(r));
          }
        }
        return dso::ok();
      });
  std::free(row);
  return res;
}

}  // namespace
