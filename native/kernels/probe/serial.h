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

}  // namespace
