// Portable sign packing (BitDelta): bit j of a row = (x[j] - baseline[j]) > 0,
// little bit order; scale = mean |x - baseline| over each group of groupSize
// dims (accumulated in double: this is the native reference).
#pragma once
#include <cfloat>
#include <cmath>
#include <cstring>

#include "../types.h"

namespace {

dso::KernelResult packSerial(const float* x, size_t rows, size_t dim, size_t groupSize, const float* baseline,
                             uint8_t* codes, float* scales) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    uint8_t* cr = codes + r * B;
    std::memset(cr, 0, B);
    for (size_t g = 0; g < G; ++g) {
      const size_t j0 = g * groupSize;
      const size_t j1 = (j0 + groupSize) < dim ? (j0 + groupSize) : dim;
      double sum = 0;
      for (size_t j = j0; j < j1; ++j) {
        const float v = baseline ? xr[j] - baseline[j] : xr[j];
        if (!(std::fabs(v) <= FLT_MAX)) return {dso::Status::NonFinite, static_cast<int64_t>(r)};
        if (v > 0) cr[j >> 3] |= static_cast<uint8_t>(1u << (j & 7));
        sum += std::fabs(v);
      }
      scales[r * G + g] = static_cast<float>(sum / static_cast<double>(j1 - j0));
    }
  }
  return dso::ok();
}

void dequantizeSerial(const uint8_t* codes, const float* scales, size_t rows, size_t dim, size_t groupSize,
                      const float* baseline, float* out) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* cr = codes + r * B;
    float* o = out + r * dim;
    for (size_t j = 0; j < dim; ++j) {
      const float s = scales[r * G + j / groupSize];
      const float v = (cr[j >> 3] >> (j & 7)) & 1 ? s : -s;
      o[j] = baseline ? baseline[j] + v : v;
    }
  }
}

}  // namespace
