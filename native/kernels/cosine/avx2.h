// AVX2 rescoring: dot product and squared norm with float FMA, 16 floats a
// step, in runs of 8 steps whose sums are added in double (see serial.h).
#pragma once
#include <immintrin.h>

#include "serial.h"

namespace {

// 8 floats widened and summed into 4 doubles.
inline __m256d widen8(__m256 v) {
  return _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

inline double hsum4(__m256d v) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

inline void dotAndNormAvx2(const float* a, const float* b, size_t dim, double& dot, double& norm) {
  __m256d dt = _mm256_setzero_pd(), nt = dt;
  size_t j = 0;
  while (j + 16 <= dim) {
    __m256 d0 = _mm256_setzero_ps(), d1 = d0, s0 = d0, s1 = d0;
    const size_t end = j + 16 * 8 < dim ? j + 16 * 8 : dim;
    for (; j + 16 <= end; j += 16) {
      const __m256 b0 = _mm256_loadu_ps(b + j), b1 = _mm256_loadu_ps(b + j + 8);
      d0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), b0, d0);
      d1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), b1, d1);
      s0 = _mm256_fmadd_ps(b0, b0, s0);
      s1 = _mm256_fmadd_ps(b1, b1, s1);
    }
    dt = _mm256_add_pd(dt, widen8(_mm256_add_ps(d0, d1)));
    nt = _mm256_add_pd(nt, widen8(_mm256_add_ps(s0, s1)));
  }
  double dtail = 0, ntail = 0;
  for (; j < dim; ++j) {
    dtail += a[j] * b[j];
    ntail += b[j] * b[j];
  }
  dot = hsum4(dt) + dtail;
  norm = hsum4(nt) + ntail;
}

void cosineCandidatesAvx2(const float* vectors, const int32_t* rows, size_t nq, size_t c, const float* queries,
                          size_t dim, float* out) {
  cosineCandidatesWith(dotAndNormAvx2, vectors, rows, nq, c, queries, dim, out);
}

}  // namespace
