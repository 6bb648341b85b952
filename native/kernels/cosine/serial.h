// Cosine similarity of each query against its own list of candidate rows of
// a float matrix (the rescoring stage of a 1-bit search); row -1 (no
// candidate) gives NaN. The js reference works in double, where every finite
// float32 input is in range; float32 squares overflow above about 1e19 and
// underflow below about 1e-19 (a float sum made such rows NaN or 0). Here
// dotAndNorm works in double too: the serial and NEON tiers' kernel, and the
// x86 tiers' fallback. Those tiers run float FMAs (in runs added in double,
// so the error does not grow with the row) and hand a pair to dotAndNorm when
// its totals show an overflow or norms too small for float products.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace {

inline void dotAndNorm(const float* a, const float* b, size_t dim, double& dot, double& norm) {
  double d[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= dim; j += 8)
    for (size_t l = 0; l < 8; ++l) {
      const double x = a[j + l], y = b[j + l];
      d[l] += x * y;
      s[l] += y * y;
    }
  for (; j < dim; ++j) {
    const double x = a[j], y = b[j];
    d[0] += x * y;
    s[0] += y * y;
  }
  dot = ((d[0] + d[1]) + (d[2] + d[3])) + ((d[4] + d[5]) + (d[6] + d[7]));
  norm = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// Whether a squared norm from float products can be trusted: finite (no
// square overflowed) and at least 1e-30, so products that underflowed to
// subnormals (absolute error 1.4e-45 each) move the cosine by under dim x 1e-15.
inline bool floatRange(double norm) { return norm >= 1e-30 && std::isfinite(norm); }

template <class DotAndNorm>
void cosineCandidatesWith(DotAndNorm dn, const float* vectors, const int32_t* rows, size_t nq, size_t c,
                          const float* queries, size_t dim, float* out) {
  for (size_t q = 0; q < nq; ++q) {
    const float* qv = queries + q * dim;
    double qdot, qnorm;
    dn(qv, qv, dim, qdot, qnorm);
    const bool fast = floatRange(qnorm);
    if (!fast) dotAndNorm(qv, qv, dim, qdot, qnorm);
    const double qn = qnorm > 0 ? std::sqrt(qnorm) : 1.0;
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
      const float* v = vectors + static_cast<size_t>(row) * dim;
      double dot = 0, norm = 0;
      if (fast) dn(qv, v, dim, dot, norm);
      if (!fast || !floatRange(norm) || !std::isfinite(dot)) dotAndNorm(qv, v, dim, dot, norm);
      const double vn = norm > 0 ? std::sqrt(norm) : 1.0;
      out[q * c + i] = static_cast<float>(dot / (qn * vn));
    }
  }
}

void cosineCandidatesSerial(const float* vectors, const int32_t* rows, size_t nq, size_t c, const float* queries,
                            size_t dim, float* out) {
  cosineCandidatesWith(dotAndNorm, vectors, rows, nq, c, queries, dim, out);
}

}  // namespace
