// NEON probes: streaming read (four u64x2 accumulators) and the XOR +
// popcount limit (vcnt per byte, pairwise-accumulated), 8 chains.
#pragma once
#include <arm_neon.h>

#include <cstdint>

namespace {

uint64_t streamReadNeon(const uint8_t* data, size_t bytes) {
  uint64x2_t a = vdupq_n_u64(0), b = a, c = a, d = a;
  size_t i = 0;
  for (; i + 64 <= bytes; i += 64) {
    a = vaddq_u64(a, vreinterpretq_u64_u8(vld1q_u8(data + i)));
    b = vaddq_u64(b, vreinterpretq_u64_u8(vld1q_u8(data + i + 16)));
    c = vaddq_u64(c, vreinterpretq_u64_u8(vld1q_u8(data + i + 32)));
    d = vaddq_u64(d, vreinterpretq_u64_u8(vld1q_u8(data + i + 48)));
  }
  uint64_t s = vaddvq_u64(vaddq_u64(vaddq_u64(a, b), vaddq_u64(c, d)));
  for (; i < bytes; ++i) s += data[i];
  return s;
}

uint64_t xorPopcountNeon(uint64_t iterations) {
  uint8x16_t q = vdupq_n_u8(0x5a), v[8];
  uint16x8_t acc[8];
  for (int i = 0; i < 8; ++i) {
    v[i] = vdupq_n_u8(static_cast<uint8_t>(0x13 * (i + 1)));
    acc[i] = vdupq_n_u16(0);
  }
  for (uint64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 8; ++i) acc[i] = vpadalq_u8(acc[i], vcntq_u8(veorq_u8(v[i], q)));
    q = vaddq_u8(q, vreinterpretq_u8_u16(acc[0]));
  }
  uint64_t s = 0;
  for (int i = 0; i < 8; ++i) s += vaddlvq_u16(acc[i]);
  return s;
}

}  // namespace
