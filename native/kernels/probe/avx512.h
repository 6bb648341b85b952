// AVX-512 streaming-read probe: 256 bytes per iteration, four accumulators.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace {

uint64_t streamReadAvx512(const uint8_t* data, size_t bytes) {
  __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
  size_t i = 0;
  for (; i + 256 <= bytes; i += 256) {
    a = _mm512_add_epi64(a, _mm512_loadu_si512(data + i));
    b = _mm512_add_epi64(b, _mm512_loadu_si512(data + i + 64));
    c = _mm512_add_epi64(c, _mm512_loadu_si512(data + i + 128));
    d = _mm512_add_epi64(d, _mm512_loadu_si512(data + i + 192));
  }
  uint64_t s =
      static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a, b), _mm512_add_epi64(c, d))));
  for (; i < bytes; ++i) s += data[i];
  return s;
}

// The XOR + popcount + add limit of this core, on register-resident data:
// 8 independent chains so latency hides; returns a checksum of the lanes.
// AVX-512 F/BW has no vector popcount: this tier counts with vpshufb.
uint64_t xorPopcountAvx512(uint64_t iterations) {
  const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
  const __m512i nib = _mm512_set1_epi8(0x0f);
  __m512i q = _mm512_set1_epi64(0x5555aaaa3333ccccll), acc[8], v[8];
  for (int i = 0; i < 8; ++i) {
    acc[i] = _mm512_setzero_si512();
    v[i] = _mm512_set1_epi64(0x0123456789abcdefll * (i + 1));
  }
  // Byte counts accumulate for 31 words, then one vpsadbw: as the kernel does.
  for (uint64_t it = 0; it < iterations; it += 31) {
    __m512i bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = _mm512_setzero_si512();
    const uint64_t inner = iterations - it < 31 ? iterations - it : 31;
    for (uint64_t j = 0; j < inner; ++j) {
      for (int i = 0; i < 8; ++i) {
        const __m512i x = _mm512_xor_si512(v[i], q);
        bytes[i] = _mm512_add_epi8(
            bytes[i], _mm512_add_epi8(_mm512_shuffle_epi8(lut, _mm512_and_si512(x, nib)),
                                      _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib))));
      }
      q = _mm512_add_epi64(q, bytes[0]);
    }
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_add_epi64(acc[i], _mm512_sad_epu8(bytes[i], _mm512_setzero_si512()));
  }
  __m512i t = acc[0];
  for (int i = 1; i < 8; ++i) t = _mm512_add_epi64(t, acc[i]);
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(t));
}

}  // namespace
