// XOR + VPOPCNTQ + add limit of this core, register-resident, 8 chains.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace {

uint64_t xorPopcountAvx512Vpopcntdq(uint64_t iterations) {
  __m512i q = _mm512_set1_epi64(0x5555aaaa3333ccccll), acc[8], v[8];
  for (int i = 0; i < 8; ++i) {
    acc[i] = _mm512_setzero_si512();
    v[i] = _mm512_set1_epi64(0x0123456789abcdefll * (i + 1));
  }
  for (uint64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_add_epi64(acc[i], _mm512_popcnt_epi64(_mm512_xor_si512(v[i], q)));
    q = _mm512_add_epi64(q, acc[0]);
  }
  __m512i t = acc[0];
  for (int i = 1; i < 8; ++i) t = _mm512_add_epi64(t, acc[i]);
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(t));
}

}  // namespace
