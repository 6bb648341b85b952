// Portable Hamming top-k: one row at a time, SWAR popcount (no POPCNT
// instruction assumed at the baseline ISA). The native reference.
#pragma once
#include <cstdint>
#include <cstdlib>

#include "../common/topk.h"
#include "../types.h"

namespace {

inline uint32_t popcount64Swar(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<uint32_t>((x * 0x0101010101010101ull) >> 56);
}

dso::KernelResult hammingTopKSerial(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim,
                                    size_t k, int32_t* ids, int32_t* dists) {
  const size_t B = (dim + 7) / 8;
  const size_t W = (B + 7) / 8;
  const uint64_t lastMask = lastWordMask(dim);
  uint64_t* row = static_cast<uint64_t*>(std::malloc(W * 8));
  if (!row) return {dso::Status::OutOfMemory, -1};
  const dso::KernelResult res = forQueryBlocks(queries, nq, dim, k, n, W, ids, dists,
                                               [&](TopKQueues& tq, const uint64_t* qwords, size_t, size_t nqb) {
                                                 for (size_t r = 0; r < n; ++r) {
                                                   loadRowWords(base + r * B, B, W, lastMask, row);
                                                   for (size_t q = 0; q < nqb; ++q) {
                                                     const uint64_t* qw = qwords + q * W;
                                                     uint32_t d = 0;
                                                     for (size_t w = 0; w < W; ++w) d += popcount64Swar(row[w] ^ qw[w]);
                                                     tq.push(q, d, static_cast<int32_t>(r));
                                                   }
                                                 }
                                                 return dso::ok();
                                               });
  std::free(row);
  return res;
}

}  // namespace
