// Streaming-read bandwidth probe: the machine's limit that the benchmarks
// report kernels against. Sums 64-bit words with four independent chains.
#pragma once
#include <cstdint>
#include <cstring>

namespace {

uint64_t streamReadSerial(const uint8_t* data, size_t bytes) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    uint64_t w[4];
    std::memcpy(w, data + i, 32);
    a += w[0];
    b += w[1];
    c += w[2];
    d += w[3];
  }
  for (; i < bytes; ++i) a += data[i];
  return a ^ b ^ c ^ d;
}

// XOR + popcount limit of the portable (SWAR) popcount, 8 chains.
uint64_t xorPopcountSerial(uint64_t iterations) {
  uint64_t q = 0x5555aaaa3333ccccull, acc[8] = {}, v[8];
  for (int i = 0; i < 8; ++i) v[i] = 0x0123456789abcdefull * (i + 1);
  for (uint64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 8; ++i) {
      uint64_t x = v[i] ^ q;
      x = x - ((x >> 1) & 0x5555555555555555ull);
      x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
      x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
      acc[i] += (x * 0x0101010101010101ull) >> 56;
    }
    q += acc[0];
  }
  return acc[0] ^ acc[1] ^ acc[2] ^ acc[3] ^ acc[4] ^ acc[5] ^ acc[6] ^ acc[7];
}

}  // namespace
