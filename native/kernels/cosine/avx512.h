// AVX-512 rescoring: dot product and squared norm with FMA, 32 floats a step.
#pragma once
#include <immintrin.h>

#include "serial.h"

namespace {

inline void dotAndNormAvx512(const float* a, const float* b, size_t dim, float& dot, float& norm) {
  __m512 d0 = _mm512_setzero_ps(), d1 = d0, s0 = d0, s1 = d0;
  size_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    const __m512 b0 = _mm512_loadu_ps(b + j), b1 = _mm512_loadu_ps(b + j + 16);
    d0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), b0, d0);
    d1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), b1, d1);
    s0 = _mm512_fmadd_ps(b0, b0, s0);
    s1 = _mm512_fmadd_ps(b1, b1, s1);
  }
  for (; j < dim; j += 16) {
    const __mmask16 m = dim - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (dim - j)) - 1);
    const __m512 bv = _mm512_maskz_loadu_ps(m, b + j);
    d0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + j), bv, d0);
    s0 = _mm512_fmadd_ps(bv, bv, s0);
  }
  dot = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1));
  norm = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void cosineCandidatesAvx512(const float* vectors, const int32_t* rows, size_t nq, size_t c, const float* queries,
                            size_t dim, float* out) {
  cosineCandidatesWith(dotAndNormAvx512, vectors, rows, nq, c, queries, dim, out);
}

}  // namespace
