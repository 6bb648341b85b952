// Cosine similarity of each query against its own list of candidate rows of
// a float matrix (the rescoring stage of a 1-bit search); row -1 (no
// candidate) gives NaN. Portable loops with eight accumulators (serial and
// NEON); the x86 tiers pass their own dot product to cosineCandidatesWith.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace {

inline void dotAndNorm(const float* a, const float* b, size_t dim, float& dot, float& norm) {
  float d[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= dim; j += 8)
    for (size_t l = 0; l < 8; ++l) {
      d[l] += a[j + l] * b[j + l];
      s[l] += b[j + l] * b[j + l];
    }
  for (; j < dim; ++j) {
    d[0] += a[j] * b[j];
    s[0] += b[j] * b[j];
  }
  dot = ((d[0] + d[1]) + (d[2] + d[3])) + ((d[4] + d[5]) + (d[6] + d[7]));
  norm = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

template <class DotAndNorm>
void cosineCandidatesWith(DotAndNorm dn, const float* vectors, const int32_t* rows, size_t nq, size_t c,
                          const float* queries, size_t dim, float* out) {
  for (size_t q = 0; q < nq; ++q) {
    const float* qv = queries + q * dim;
    float qdot, qnorm;
    dn(qv, qv, dim, qdot, qnorm);
    const float qn = std::sqrt(qnorm) > 0 ? std::sqrt(qnorm) : 1.0f;
    for (size_t i = 0; i < c; ++i) {
      const int32_t row = rows[q * c + i];
      if (row < 0) {
        out[q * c + i] = NAN;
        continue;
      }
      if (i + 1 < c && rows[q * c + i + 1] >= 0) {
        const char* next = reinterpret_cast<const char*>(vectors + static_cast<size_t>(rows[q * c + i + 1]) * dim);
        for (size_t b = 0; b < dim * 4; b += 64) __builtin_prefetch(next + b);
      }
      float dot, norm;
      dn(qv, vectors + static_cast<size_t>(row) * dim, dim, dot, norm);
      const float vn = std::sqrt(norm) > 0 ? std::sqrt(norm) : 1.0f;
      out[q * c + i] = dot / (qn * vn);
    }
  }
}

void cosineCandidatesSerial(const float* vectors, const int32_t* rows, size_t nq, size_t c, const float* queries,
                            size_t dim, float* out) {
  cosineCandidatesWith(dotAndNorm, vectors, rows, nq, c, queries, dim, out);
}

}  // namespace
