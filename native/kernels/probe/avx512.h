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
  uint64_t s = static_cast<uint64_t>(_mm512_reduce_add_epi64(
      _mm512_add_epi64(_mm512_add_epi64(a, b), _mm512_add_epi64(c, d))));
  for (; i < bytes; ++i) s += data[i];
  return s;
}

}  // namespace
