// Portable bit-sliced majority on 64-bit words.
#pragma once
#include <cstring>

#include "../common/majority_sliced.h"

namespace {

struct MajorityU64 {
  using reg = uint64_t;
  static constexpr size_t BYTES = 8;
  static reg load(const uint8_t* p, size_t bytes) {
    reg v = 0;
    std::memcpy(&v, p, bytes);
    return v;
  }
  static void store(uint8_t* p, reg v, size_t bytes) { std::memcpy(p, &v, bytes); }
  static reg zero() { return 0; }
  static reg ones() { return ~reg(0); }
  static reg andv(reg a, reg b) { return a & b; }
  static reg xorv(reg a, reg b) { return a ^ b; }
  static reg orv(reg a, reg b) { return a | b; }
  static reg andnot(reg a, reg b) { return ~a & b; }
};

void majoritySerial(const uint8_t* codes, size_t n, size_t dim, uint8_t* out) {
  majoritySliced<MajorityU64>(codes, n, dim, out);
}

}  // namespace
