// AVX2 coordinate-wise median / trimmed mean: 8 coordinates per network.
#pragma once
#include <immintrin.h>

#include "../common/median_net.h"

namespace {

struct MedianAvx2 {
  using reg = __m256;
  static constexpr size_t L = 8;
  static __m256i mask(size_t c) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(c < 8 ? c : 8)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static reg load(const float* p, size_t c) { return c >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask(c)); }
  static void store(float* p, reg v, size_t c) {
    if (c >= 8)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, mask(c), v);
  }
  static reg inf() { return _mm256_set1_ps(__builtin_inff()); }
  static reg minv(reg a, reg b) { return _mm256_min_ps(a, b); }
  static reg maxv(reg a, reg b) { return _mm256_max_ps(a, b); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg half(reg a) { return _mm256_mul_ps(a, _mm256_set1_ps(0.5f)); }
  static uint32_t badLanes(reg v) {
    const reg a = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(a, inf(), _CMP_NLT_UQ)));
  }
  static void storeTrimmed(const reg* a, size_t from, size_t to, float* out, size_t c) {
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (size_t i = from; i < to; ++i) {
      lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(a[i])));
      hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(a[i], 1)));
    }
    const __m256d cnt = _mm256_set1_pd(static_cast<double>(to - from));
    const __m128 l = _mm256_cvtpd_ps(_mm256_div_pd(lo, cnt));
    const __m128 h = _mm256_cvtpd_ps(_mm256_div_pd(hi, cnt));
    store(out, _mm256_insertf128_ps(_mm256_castps128_ps256(l), h, 1), c);
  }
};

dso::KernelResult medianAvx2(const float* rows, size_t n, size_t d, float* out) {
  return netOrColumns<MedianAvx2, false>(rows, n, d, 0, out);
}

dso::KernelResult trimmedMeanAvx2(const float* rows, size_t n, size_t d, size_t cut, float* out) {
  return netOrColumns<MedianAvx2, true>(rows, n, d, cut, out);
}

}  // namespace
