// NEON sign packing: 8 floats -> one code byte (compare, AND with the bit
// weights, horizontal add); scales summed in float runs added in double
// (see mean_abs.h).
#pragma once
#include <arm_neon.h>

#include <cfloat>
#include <cmath>

#include "../common/mean_abs.h"
#include "../types.h"

namespace {

dso::KernelResult packNeon(const float* x, size_t rows, size_t dim, size_t groupSize, const float* baseline,
                           uint8_t* codes, float* scales) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  static const uint32_t kLo[4] = {1, 2, 4, 8}, kHi[4] = {16, 32, 64, 128};
  const uint32x4_t wLo = vld1q_u32(kLo), wHi = vld1q_u32(kHi);
  const float32x4_t zero = vdupq_n_f32(0.f);
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    uint8_t* cr = codes + r * B;
    float* sr = scales + r * G;
    size_t j = 0;
    // Whole bytes of bits first; each group's |delta| sums come after, per group.
    for (; j + 8 <= dim; j += 8) {
      float32x4_t a = vld1q_f32(xr + j), b = vld1q_f32(xr + j + 4);
      if (baseline) {
        a = vsubq_f32(a, vld1q_f32(baseline + j));
        b = vsubq_f32(b, vld1q_f32(baseline + j + 4));
      }
      const uint32x4_t m = vorrq_u32(vandq_u32(vcgtq_f32(a, zero), wLo), vandq_u32(vcgtq_f32(b, zero), wHi));
      cr[j >> 3] = static_cast<uint8_t>(vaddvq_u32(m));
    }
    if (j < dim) {
      uint8_t byte = 0;
      for (size_t t = j; t < dim; ++t) {
        const float v = baseline ? xr[t] - baseline[t] : xr[t];
        if (v > 0) byte |= static_cast<uint8_t>(1u << (t - j));
      }
      cr[j >> 3] = byte;
    }
    for (size_t g = 0; g < G; ++g) {
      const size_t j0 = g * groupSize, j1 = (j0 + groupSize) < dim ? (j0 + groupSize) : dim;
      float32x4_t run = zero;
      float64x2_t lo = vdupq_n_f64(0), hi = lo;
      int adds = 0;
      uint32x4_t bad = vdupq_n_u32(0);
      const float32x4_t big = vdupq_n_f32(FLT_MAX);
      size_t t = j0;
      for (; t + 4 <= j1; t += 4) {
        float32x4_t v = vld1q_f32(xr + t);
        if (baseline) v = vsubq_f32(v, vld1q_f32(baseline + t));
        const float32x4_t a = vabsq_f32(v);
        bad = vorrq_u32(bad, vmvnq_u32(vcleq_f32(a, big)));  // NaN or > FLT_MAX
        run = vaddq_f32(run, a);
        if (++adds == kFloatRun || t + 8 > j1) {
          lo = vaddq_f64(lo, vcvt_f64_f32(vget_low_f32(run)));
          hi = vaddq_f64(hi, vcvt_high_f64_f32(run));
          run = zero;
          adds = 0;
        }
      }
      double sum = vaddvq_f64(vaddq_f64(lo, hi));
      bool anyBad = vmaxvq_u32(bad) != 0;
      for (; t < j1; ++t) {
        const float v = baseline ? xr[t] - baseline[t] : xr[t];
        anyBad = anyBad || !(std::fabs(v) <= FLT_MAX);
        sum += std::fabs(v);
      }
      if (anyBad) return {dso::Status::NonFinite, static_cast<int64_t>(r)};
      sr[g] =
          std::isfinite(sum) ? static_cast<float>(sum / static_cast<double>(j1 - j0)) : meanAbs(xr, baseline, j0, j1);
    }
  }
  return dso::ok();
}

void dequantizeNeon(const uint8_t* codes, const float* scales, size_t rows, size_t dim, size_t groupSize,
                    const float* baseline, float* out) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  static const uint32_t kLo[4] = {1, 2, 4, 8}, kHi[4] = {16, 32, 64, 128};
  const uint32x4_t wLo = vld1q_u32(kLo), wHi = vld1q_u32(kHi);
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* cr = codes + r * B;
    const float* sr = scales + r * G;
    float* o = out + r * dim;
    size_t j = 0;
    for (; j + 8 <= dim && j / groupSize == (j + 7) / groupSize; j += 8) {
      const float32x4_t s = vdupq_n_f32(sr[j / groupSize]), ns = vnegq_f32(s);
      const uint32x4_t byte = vdupq_n_u32(cr[j >> 3]);
      float32x4_t a = vbslq_f32(vtstq_u32(byte, wLo), s, ns), b = vbslq_f32(vtstq_u32(byte, wHi), s, ns);
      if (baseline) {
        a = vaddq_f32(vld1q_f32(baseline + j), a);
        b = vaddq_f32(vld1q_f32(baseline + j + 4), b);
      }
      vst1q_f32(o + j, a);
      vst1q_f32(o + j + 4, b);
    }
    for (; j < dim; ++j) {
      const float s = sr[j / groupSize];
      const float v = (cr[j >> 3] >> (j & 7)) & 1 ? s : -s;
      o[j] = baseline ? baseline[j] + v : v;
    }
  }
}

}  // namespace
