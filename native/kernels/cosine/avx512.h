// AVX-512 rescoring: dot product and squared norm with float FMA, 32 floats a
// step, in runs of 8 steps whose sums are added in double (see serial.h).
#pragma once
#include <immintrin.h>

#include "serial.h"

namespace {

// 16 floats widened and summed into 8 doubles.
inline __m512d widen16(__m512 v) {
  return _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)),
                       _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}

inline void dotAndNormAvx512(const float* a, const float* b, size_t dim, double& dot, double& norm) {
  __m512d dt = _mm512_setzero_pd(), nt = dt;
  size_t j = 0;
  while (j < dim) {
    __m512 d0 = _mm512_setzero_ps(), d1 = d0, s0 = d0, s1 = d0;
    const size_t end = j + 32 * 8 < dim ? j + 32 * 8 : dim;
    for (; j + 32 <= end; j += 32) {
      const __m512 b0 = _mm512_loadu_ps(b + j), b1 = _mm512_loadu_ps(b + j + 16);
      d0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), b0, d0);
      d1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), b1, d1);
      s0 = _mm512_fmadd_ps(b0, b0, s0);
      s1 = _mm512_fmadd_ps(b1, b1, s1);
    }
    for (; j < end; j += 16) {
      const __mmask16 m = end - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (end - j)) - 1);
      const __m512 bv = _mm512_maskz_loadu_ps(m, b + j);
      d0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + j), bv, d0);
      s0 = _mm512_fmadd_ps(bv, bv, s0);
    }
    dt = _mm512_add_pd(dt, widen16(_mm512_add_ps(d0, d1)));
    nt = _mm512_add_pd(nt, widen16(_mm512_add_ps(s0, s1)));
  }
  dot = _mm512_reduce_add_pd(dt);
  norm = _mm512_reduce_add_pd(nt);
}

void cosineCandidatesAvx512(const float* vectors, const int32_t* rows, size_t nq, size_t c, const float* queries,
                            size_t dim, float* out) {
  cosineCandidatesWith(dotAndNormAvx512, vectors, rows, nq, c, queries, dim, out);
}

}  // namespace
