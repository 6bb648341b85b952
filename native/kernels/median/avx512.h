// AVX-512 coordinate-wise median / trimmed mean: 16 coordinates per network.
#pragma once
#include <immintrin.h>

#include "../common/median_net.h"

namespace {

struct MedianAvx512 {
  using reg = __m512;
  static constexpr size_t L = 16;
  static __mmask16 mask(size_t c) { return c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << c) - 1); }
  static reg load(const float* p, size_t c) { return _mm512_maskz_loadu_ps(mask(c), p); }
  static void store(float* p, reg v, size_t c) { _mm512_mask_storeu_ps(p, mask(c), v); }
  static reg inf() { return _mm512_set1_ps(__builtin_inff()); }
  static reg minv(reg a, reg b) { return _mm512_min_ps(a, b); }
  static reg maxv(reg a, reg b) { return _mm512_max_ps(a, b); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg half(reg a) { return _mm512_mul_ps(a, _mm512_set1_ps(0.5f)); }
  static uint32_t badLanes(reg v) {
    const reg a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));
    return _mm512_cmp_ps_mask(a, inf(), _CMP_NLT_UQ);
  }
  static void storeTrimmed(const reg* a, size_t from, size_t to, float* out, size_t c) {
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (size_t i = from; i < to; ++i) {
      lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(a[i])));
      hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[i]), 1))));
    }
    const __m512d cnt = _mm512_set1_pd(static_cast<double>(to - from));
    const __m256 l = _mm512_cvtpd_ps(_mm512_div_pd(lo, cnt));
    const __m256 h = _mm512_cvtpd_ps(_mm512_div_pd(hi, cnt));
    store(out, _mm512_insertf32x8(_mm512_castps256_ps512(l), h, 1), c);
  }
};

dso::KernelResult medianAvx512(const float* rows, size_t n, size_t d, float* out) {
  return netOrColumns<MedianAvx512, false>(rows, n, d, 0, out);
}

dso::KernelResult trimmedMeanAvx512(const float* rows, size_t n, size_t d, size_t cut, float* out) {
  return netOrColumns<MedianAvx512, true>(rows, n, d, cut, out);
}

}  // namespace
