// AVX-512 bit-sliced majority: 512 sign bits per plane operation.
#pragma once
#include <immintrin.h>

#include "../common/majority_sliced.h"

namespace {

struct MajorityAvx512 {
  using reg = __m512i;
  static constexpr size_t BYTES = 64;
  static __mmask64 mask(size_t bytes) { return bytes >= 64 ? ~__mmask64(0) : ((__mmask64(1) << bytes) - 1); }
  static reg load(const uint8_t* p, size_t bytes) { return _mm512_maskz_loadu_epi8(mask(bytes), p); }
  static void store(uint8_t* p, reg v, size_t bytes) { _mm512_mask_storeu_epi8(p, mask(bytes), v); }
  static reg zero() { return _mm512_setzero_si512(); }
  static reg ones() { return _mm512_set1_epi64(-1); }
  static reg andv(reg a, reg b) { return _mm512_and_si512(a, b); }
  static reg xorv(reg a, reg b) { return _mm512_xor_si512(a, b); }
  static reg orv(reg a, reg b) { return _mm512_or_si512(a, b); }
  static reg andnot(reg a, reg b) { return _mm512_andnot_si512(a, b); }
};

void majorityAvx512(const uint8_t* codes, size_t n, size_t dim, uint8_t* out) {
  majoritySliced<MajorityAvx512>(codes, n, dim, out);
}

}  // namespace
