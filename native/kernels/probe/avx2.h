// AVX2 streaming-read probe: 128 bytes per iteration, four accumulators.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace {

uint64_t streamReadAvx2(const uint8_t* data, size_t bytes) {
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  size_t i = 0;
  for (; i + 128 <= bytes; i += 128) {
    a = _mm256_add_epi64(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i)));
    b = _mm256_add_epi64(b, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 32)));
    c = _mm256_add_epi64(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 64)));
    d = _mm256_add_epi64(d, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 96)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d)));
  uint64_t s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < bytes; ++i) s += data[i];
  return s;
}

// XOR + popcount limit (vpshufb nibble counts), register-resident, 8 chains.
uint64_t xorPopcountAvx2(uint64_t iterations) {
  const __m256i lut =
      _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i nib = _mm256_set1_epi8(0x0f);
  __m256i q = _mm256_set1_epi64x(0x5555aaaa3333ccccll), acc[8], v[8];
  for (int i = 0; i < 8; ++i) {
    acc[i] = _mm256_setzero_si256();
    v[i] = _mm256_set1_epi64x(0x0123456789abcdefll * (i + 1));
  }
  // Byte counts accumulate for 31 words, then one vpsadbw: as the kernel does.
  for (uint64_t it = 0; it < iterations; it += 31) {
    __m256i bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = _mm256_setzero_si256();
    const uint64_t inner = iterations - it < 31 ? iterations - it : 31;
    for (uint64_t j = 0; j < inner; ++j) {
      for (int i = 0; i < 8; ++i) {
        const __m256i x = _mm256_xor_si256(v[i], q);
        bytes[i] = _mm256_add_epi8(
            bytes[i], _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, nib)),
                                      _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib))));
      }
      q = _mm256_add_epi64(q, bytes[0]);
    }
    for (int i = 0; i < 8; ++i) acc[i] = _mm256_add_epi64(acc[i], _mm256_sad_epu8(bytes[i], _mm256_setzero_si256()));
  }
  __m256i t = acc[0];
  for (int i = 1; i < 8; ++i) t = _mm256_add_epi64(t, acc[i]);
  alignas(32) uint64_t l[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), t);
  return l[0] + l[1] + l[2] + l[3];
}

}  // namespace
