// AVX-512 VPOPCNTDQ Hamming top-k: 8 base rows per zmm, one vpopcntq per
// word, lane sums accumulated directly (no byte counters to flush). One or
// two queries over rows of whole words (dims up to 512) go to the streaming
// kernel of avx512_stream.cc (dispatch also requires VBMI for this tier).
#pragma once
#include <immintrin.h>

#include "../tables.h"
#include "avx512_lanes.h"

namespace {

struct HammingAvx512Popcnt : HammingAvx512Bw {
  static constexpr size_t F = size_t(1) << 30;
  static reg popXor(reg acc, reg a, reg b) {
    return _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(a, b)));
  }
  static reg flush(reg acc) { return acc; }
  static reg wordCounts(reg a, reg b) { return _mm512_popcnt_epi64(_mm512_xor_si512(a, b)); }
};

dso::KernelResult hammingTopKAvx512Vpopcntdq(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq,
                                             size_t dim, size_t k, int32_t* ids, int32_t* dists) {
  const size_t B = (dim + 7) / 8;
  if (nq <= 2 && B % 8 == 0 && B <= 64) return dso::kAvx512StreamHamming(base, n, queries, nq, dim, k, ids, dists);
  return hammingAvx512Any<HammingAvx512Popcnt>(base, n, queries, nq, dim, k, ids, dists);
}

}  // namespace
