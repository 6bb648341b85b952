// NEON coordinate-wise median / trimmed mean: 4 coordinates per network.
#pragma once
#include <arm_neon.h>

#include <cfloat>

#include "../common/median_net.h"

namespace {

struct MedianNeon {
  using reg = float32x4_t;
  static constexpr size_t L = 4;
  static reg load(const float* p, size_t c) {
    if (c >= 4) return vld1q_f32(p);
    float t[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < c; ++i) t[i] = p[i];
    return vld1q_f32(t);
  }
  static void store(float* p, reg v, size_t c) {
    if (c >= 4) {
      vst1q_f32(p, v);
      return;
    }
    float t[4];
    vst1q_f32(t, v);
    for (size_t i = 0; i < c; ++i) p[i] = t[i];
  }
  static reg inf() { return vdupq_n_f32(__builtin_inff()); }
  static reg minv(reg a, reg b) { return vminq_f32(a, b); }
  static reg maxv(reg a, reg b) { return vmaxq_f32(a, b); }
  static reg add(reg a, reg b) { return vaddq_f32(a, b); }
  static reg half(reg a) { return vmulq_n_f32(a, 0.5f); }
  static uint32_t badLanes(reg v) {
    const uint32x4_t bad = vmvnq_u32(vcleq_f32(vabsq_f32(v), vdupq_n_f32(FLT_MAX)));
    static const uint32_t kBit[4] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(bad, vld1q_u32(kBit)));
  }
  static void storeTrimmed(const reg* a, size_t from, size_t to, float* out, size_t c) {
    float64x2_t lo = vdupq_n_f64(0), hi = vdupq_n_f64(0);
    for (size_t i = from; i < to; ++i) {
      lo = vaddq_f64(lo, vcvt_f64_f32(vget_low_f32(a[i])));
      hi = vaddq_f64(hi, vcvt_high_f64_f32(a[i]));
    }
    const float64x2_t cnt = vdupq_n_f64(static_cast<double>(to - from));
    store(out, vcvt_high_f32_f64(vcvt_f32_f64(vdivq_f64(lo, cnt)), vdivq_f64(hi, cnt)), c);
  }
};

dso::KernelResult medianNeon(const float* rows, size_t n, size_t d, float* out) {
  return netOrColumns<MedianNeon, false>(rows, n, d, 0, out);
}

dso::KernelResult trimmedMeanNeon(const float* rows, size_t n, size_t d, size_t cut, float* out) {
  return netOrColumns<MedianNeon, true>(rows, n, d, cut, out);
}

}  // namespace
