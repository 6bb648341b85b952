// AVX2 bit-sliced majority: 256 sign bits per plane operation.
#pragma once
#include <immintrin.h>

#include <cstring>

#include "../common/majority_sliced.h"

namespace {

struct MajorityAvx2 {
  using reg = __m256i;
  static constexpr size_t BYTES = 32;
  static reg load(const uint8_t* p, size_t bytes) {
    if (bytes >= 32) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    alignas(32) uint8_t tmp[32] = {};
    std::memcpy(tmp, p, bytes);
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(tmp));
  }
  static void store(uint8_t* p, reg v, size_t bytes) {
    if (bytes >= 32) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
      return;
    }
    alignas(32) uint8_t tmp[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), v);
    std::memcpy(p, tmp, bytes);
  }
  static reg zero() { return _mm256_setzero_si256(); }
  static reg ones() { return _mm256_set1_epi64x(-1); }
  static reg andv(reg a, reg b) { return _mm256_and_si256(a, b); }
  static reg xorv(reg a, reg b) { return _mm256_xor_si256(a, b); }
  static reg orv(reg a, reg b) { return _mm256_or_si256(a, b); }
  static reg andnot(reg a, reg b) { return _mm256_andnot_si256(a, b); }
};

void majorityAvx2(const uint8_t* codes, size_t n, size_t dim, uint8_t* out) {
  majoritySliced<MajorityAvx2>(codes, n, dim, out);
}

}  // namespace
