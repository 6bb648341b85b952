// AVX-512 (F/BW/VL) Hamming top-k without VPOPCNTDQ: 8 base rows per zmm,
// nibble-lookup byte counts summed with vpsadbw once per 31 words.
#pragma once
#include "avx512_lanes.h"

namespace {

dso::KernelResult hammingTopKAvx512(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim,
                                    size_t k, int32_t* ids, int32_t* dists) {
  return hammingAvx512Any<HammingAvx512Bw>(base, n, queries, nq, dim, k, ids, dists);
}

}  // namespace
