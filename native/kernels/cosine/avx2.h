// AVX2 rescoring: dot product and squared norm with FMA, 16 floats a step.
#pragma once
#include <immintrin.h>

#include "serial.h"

namespace {

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline void dotAndNormAvx2(const float* a, const float* b, size_t dim, float& dot, float& norm) {
  __m256 d0 = _mm256_setzero_ps(), d1 = d0, s0 = d0, s1 = d0;
  size_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    const __m256 b0 = _mm256_loadu_ps(b + j), b1 = _mm256_loadu_ps(b + j + 8);
    d0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), b0, d0);
    d1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), b1, d1);
    s0 = _mm256_fmadd_ps(b0, b0, s0);
    s1 = _mm256_fmadd_ps(b1, b1, s1);
  }
  float dt = hsum8(_mm256_add_ps(d0, d1)), nt = hsum8(_mm256_add_ps(s0, s1));
  for (; j < dim; ++j) {
    dt += a[j] * b[j];
    nt += b[j] * b[j];
  }
  dot = dt;
  norm = nt;
}

void cosineCandidatesAvx2(const float* vectors, const int32_t* rows, size_t nq, size_t c, const float* queries,
                          size_t dim, float* out) {
  cosineCandidatesWith(dotAndNormAvx2, vectors, rows, nq, c, queries, dim, out);
}

}  // namespace
