// Portable coordinate-wise median and trimmed mean (per-column selection).
#pragma once
#include "../common/column_select.h"

namespace {

dso::KernelResult medianSerial(const float* rows, size_t n, size_t d, float* out) {
  return columnStatistic<false>(rows, n, d, 0, d, 0, out);
}

dso::KernelResult trimmedMeanSerial(const float* rows, size_t n, size_t d, size_t cut, float* out) {
  return columnStatistic<true>(rows, n, d, 0, d, cut, out);
}

}  // namespace
