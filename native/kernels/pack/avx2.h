// AVX2 sign packing: movemask of a compare gives the 8 code bits of 8 floats.
#pragma once
#include <immintrin.h>

#include <cmath>

#include "../common/mean_abs.h"
#include "../types.h"

namespace {

inline __m256i laneMask8(size_t count) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count < 8 ? count : 8)), idx);
}

// |delta| sums of one group (see mean_abs.h): runs in float, totals in double.
struct WideSum {
  __m256 run = _mm256_setzero_ps();
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  int adds = 0;

  inline void add(__m256 a) {
    run = _mm256_add_ps(run, a);
    if (++adds == kFloatRun) flush();
  }
  inline void flush() {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(run)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(run, 1)));
    run = _mm256_setzero_ps();
    adds = 0;
  }
  // The group's mean |delta|; starts the next group.
  inline float mean(const float* x, const float* baseline, size_t j0, size_t j1) {
    flush();
    const __m256d v = _mm256_add_pd(lo, hi);
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    const double sum = _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    lo = hi = _mm256_setzero_pd();
    return std::isfinite(sum) ? static_cast<float>(sum / static_cast<double>(j1 - j0)) : meanAbs(x, baseline, j0, j1);
  }
};

dso::KernelResult packAvx2(const float* x, size_t rows, size_t dim, size_t groupSize, const float* baseline,
                           uint8_t* codes, float* scales) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 inf = _mm256_set1_ps(__builtin_inff());
  const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    uint8_t* cr = codes + r * B;
    float* sr = scales + r * G;
    int bad = 0;
    WideSum sum;
    size_t g = 0, gStart = 0, gEnd = groupSize < dim ? groupSize : dim;
    for (size_t j = 0; j < dim; j += 8) {
      const size_t rem = dim - j;
      __m256 v;
      __m256 valid;
      if (rem >= 8) {
        v = _mm256_loadu_ps(xr + j);
        if (baseline) v = _mm256_sub_ps(v, _mm256_loadu_ps(baseline + j));
        valid = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
      } else {
        const __m256i lm = laneMask8(rem);
        v = _mm256_maskload_ps(xr + j, lm);
        if (baseline) v = _mm256_sub_ps(v, _mm256_maskload_ps(baseline + j, lm));
        valid = _mm256_castsi256_ps(lm);
      }
      cr[j >> 3] = static_cast<uint8_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_GT_OQ)));
      const __m256 a = _mm256_and_ps(v, absMask);
      bad |= _mm256_movemask_ps(_mm256_and_ps(valid, _mm256_cmp_ps(a, inf, _CMP_NLT_UQ)));
      const size_t end = rem >= 8 ? j + 8 : dim;
      size_t pos = j;
      while (pos < end) {
        const size_t stop = end < gEnd ? end : gEnd;
        const __m256 m =
            _mm256_andnot_ps(_mm256_castsi256_ps(laneMask8(pos - j)), _mm256_castsi256_ps(laneMask8(stop - j)));
        sum.add(_mm256_and_ps(a, m));
        pos = stop;
        if (pos == gEnd) {
          sr[g++] = sum.mean(xr, baseline, gStart, gEnd);
          gStart = gEnd;
          gEnd = (gEnd + groupSize) < dim ? (gEnd + groupSize) : dim;
        }
      }
    }
    if (bad) return {dso::Status::NonFinite, static_cast<int64_t>(r)};
  }
  return dso::ok();
}

void dequantizeAvx2(const uint8_t* codes, const float* scales, size_t rows, size_t dim, size_t groupSize,
                    const float* baseline, float* out) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  const __m256i bitSel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* cr = codes + r * B;
    const float* sr = scales + r * G;
    float* o = out + r * dim;
    for (size_t j = 0; j < dim; j += 8) {
      const size_t rem = dim - j;
      const size_t n = rem >= 8 ? 8 : rem;
      const __m256i bits = _mm256_and_si256(_mm256_set1_epi32(cr[j >> 3]), bitSel);
      const __m256 set = _mm256_castsi256_ps(_mm256_cmpeq_epi32(bits, bitSel));
      __m256 s;
      if (j / groupSize == (j + n - 1) / groupSize) {
        s = _mm256_set1_ps(sr[j / groupSize]);
      } else {
        alignas(32) float lane[8] = {};
        for (size_t l = 0; l < n; ++l) lane[l] = sr[(j + l) / groupSize];
        s = _mm256_load_ps(lane);
      }
      __m256 v = _mm256_blendv_ps(_mm256_xor_ps(s, _mm256_set1_ps(-0.0f)), s, set);
      if (n == 8) {
        if (baseline) v = _mm256_add_ps(_mm256_loadu_ps(baseline + j), v);
        _mm256_storeu_ps(o + j, v);
      } else {
        const __m256i lm = laneMask8(n);
        if (baseline) v = _mm256_add_ps(_mm256_maskload_ps(baseline + j, lm), v);
        _mm256_maskstore_ps(o + j, lm, v);
      }
    }
  }
}

}  // namespace
