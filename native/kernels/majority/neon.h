// NEON bit-sliced majority: 128 sign bits per plane operation.
#pragma once
#include <arm_neon.h>

#include <cstring>

#include "../common/majority_sliced.h"

namespace {

struct MajorityNeon {
  using reg = uint8x16_t;
  static constexpr size_t BYTES = 16;
  static reg load(const uint8_t* p, size_t bytes) {
    if (bytes >= 16) return vld1q_u8(p);
    uint8_t t[16] = {};
    std::memcpy(t, p, bytes);
    return vld1q_u8(t);
  }
  static void store(uint8_t* p, reg v, size_t bytes) {
    if (bytes >= 16) {
      vst1q_u8(p, v);
      return;
    }
    uint8_t t[16];
    vst1q_u8(t, v);
    std::memcpy(p, t, bytes);
  }
  static reg zero() { return vdupq_n_u8(0); }
  static reg ones() { return vdupq_n_u8(0xff); }
  static reg andv(reg a, reg b) { return vandq_u8(a, b); }
  static reg xorv(reg a, reg b) { return veorq_u8(a, b); }
  static reg orv(reg a, reg b) { return vorrq_u8(a, b); }
  static reg andnot(reg a, reg b) { return vbicq_u8(b, a); }
};

void majorityNeon(const uint8_t* codes, size_t n, size_t dim, uint8_t* out) {
  majoritySliced<MajorityNeon>(codes, n, dim, out);
}

}  // namespace
