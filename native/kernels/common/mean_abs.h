// Mean |x - baseline| over dims [j0, j1) of a row, summed term by term in
// double: the serial tier's scale, and the SIMD tiers' fallback for a group
// whose float partial sums overflowed (terms near FLT_MAX).
#pragma once
#include <cmath>
#include <cstddef>

namespace {

inline float meanAbs(const float* x, const float* baseline, size_t j0, size_t j1) {
  double sum = 0;
  for (size_t j = j0; j < j1; ++j) sum += std::fabs(baseline ? x[j] - baseline[j] : x[j]);
  return static_cast<float>(sum / static_cast<double>(j1 - j0));
}

// SIMD tiers sum |delta| in runs of kFloatRun vector adds in float, each run
// then added in double: a run's rounding error stays within a few float ulps
// of the run's sum whatever the row's length (a float running sum's error
// grows with it), and a run that overflows shows as an infinite total, for
// which the group is summed again with meanAbs.
constexpr int kFloatRun = 8;

}  // namespace
