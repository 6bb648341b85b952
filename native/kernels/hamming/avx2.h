// AVX2 Hamming top-k: 4 base rows per ymm (u64 lanes) over the shared tiled
// kernel. AVX2 has no vector popcount, so bytes are counted with a nibble
// lookup (vpshufb) and summed per lane with vpsadbw once per 31 words.
#pragma once
#include <immintrin.h>

#include "../common/hamming_tiled.h"

namespace {

struct HammingAvx2 {
  using reg = __m256i;
  static constexpr size_t L = 4;
  static constexpr size_t F = 31;  // 8 * 31 < 256: byte counters cannot overflow
  static reg zero() { return _mm256_setzero_si256(); }
  static reg load(const uint64_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(uint64_t* p, reg v) { _mm256_store_si256(reinterpret_cast<__m256i*>(p), v); }
  static reg bcast(uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
  static reg add64(reg a, reg b) { return _mm256_add_epi64(a, b); }
  static reg andv(reg a, reg b) { return _mm256_and_si256(a, b); }
  static reg gather(const uint8_t* base, const int64_t* off, int64_t add) {
    const reg idx = _mm256_add_epi64(_mm256_load_si256(reinterpret_cast<const __m256i*>(off)), _mm256_set1_epi64x(add));
    return _mm256_i64gather_epi64(reinterpret_cast<const long long*>(base), idx, 1);
  }
  static reg popXor(reg acc, reg a, reg b) {
    const reg lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3,
                                     2, 3, 3, 4);
    const reg nib = _mm256_set1_epi8(0x0f);
    const reg x = _mm256_xor_si256(a, b);
    const reg lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, nib));
    const reg hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
    return _mm256_add_epi8(acc, _mm256_add_epi8(lo, hi));
  }
  static reg flush(reg acc) { return _mm256_sad_epu8(acc, _mm256_setzero_si256()); }
  static uint32_t ltMask(reg v, uint32_t thr) {
    // Lane sums are < 2^32, so the signed compare is exact.
    const reg gt = _mm256_cmpgt_epi64(_mm256_set1_epi64x(thr), v);
    return static_cast<uint32_t>(_mm256_movemask_pd(_mm256_castsi256_pd(gt)));
  }
};

dso::KernelResult hammingTopKAvx2(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim,
                                  size_t k, int32_t* ids, int32_t* dists) {
  return hammingTiledDispatch<HammingAvx2>(base, n, queries, nq, dim, k, ids, dists);
}

}  // namespace
