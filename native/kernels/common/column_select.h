// Per-coordinate order statistics on a copied column: quickselect (median of
// three, heapsort fallback after too many rounds) for medians, heapsort for
// trimmed means (the kept values are summed in ascending order in double, the
// same operation order as the TS reference, so results are bit-identical).
// Serves the serial tier and every tier for n beyond the sorting networks.
#pragma once
#include <cfloat>
#include <cmath>
#include <cstdlib>

#include "../types.h"

namespace {

inline void siftDown(float* a, size_t root, size_t end) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && a[child] < a[child + 1]) ++child;
    if (!(a[root] < a[child])) return;
    const float t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

inline void heapSort(float* a, size_t n) {
  if (n < 2) return;
  for (size_t i = n / 2; i-- > 0;) siftDown(a, i, n);
  for (size_t end = n - 1; end > 0; --end) {
    const float t = a[0];
    a[0] = a[end];
    a[end] = t;
    siftDown(a, 0, end);
  }
}

// Leaves the k-th smallest at a[k], smaller-or-equal values before it.
inline void selectKth(float* a, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  int budget = 64;
  while (hi > lo) {
    if (--budget == 0) {
      heapSort(a + lo, hi - lo + 1);
      return;
    }
    const size_t mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) {
      const float t = a[mid];
      a[mid] = a[lo];
      a[lo] = t;
    }
    if (a[hi] < a[lo]) {
      const float t = a[hi];
      a[hi] = a[lo];
      a[lo] = t;
    }
    if (a[hi] < a[mid]) {
      const float t = a[hi];
      a[hi] = a[mid];
      a[mid] = t;
    }
    const float pivot = a[mid];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) ++i;
      while (pivot < a[j]) --j;
      if (i <= j) {
        const float t = a[i];
        a[i] = a[j];
        a[j] = t;
        ++i;
        if (j == 0) break;
        --j;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return;
  }
}

inline float medianOfColumn(float* a, size_t n) {
  const size_t k = n / 2;
  selectKth(a, n, k);
  if (n & 1) return a[k];
  float lower = a[0];
  for (size_t i = 1; i < k; ++i) lower = a[i] > lower ? a[i] : lower;
  return (lower + a[k]) * 0.5f;
}

inline float trimmedMeanOfColumn(float* a, size_t n, size_t cut) {
  heapSort(a, n);
  double sum = 0;
  for (size_t i = cut; i < n - cut; ++i) sum += a[i];
  return static_cast<float>(sum / static_cast<double>(n - 2 * cut));
}

// Columns [j0, j1) of an n x d row-major matrix; blocks of 16 coordinates keep
// the reads of each row contiguous.
template <bool Trimmed>
dso::KernelResult columnStatistic(const float* rows, size_t n, size_t d, size_t j0, size_t j1, size_t cut, float* out) {
  constexpr size_t C = 16;
  float* col = static_cast<float*>(std::malloc(C * n * sizeof(float)));
  if (!col) return {dso::Status::OutOfMemory, -1};
  for (size_t b = j0; b < j1; b += C) {
    const size_t w = (j1 - b) < C ? (j1 - b) : C;
    for (size_t i = 0; i < n; ++i) {
      const float* r = rows + i * d + b;
      if (b + 8 * C < j1) __builtin_prefetch(r + 8 * C);  // n strided streams: fetch ahead by hand
      for (size_t c = 0; c < w; ++c) {
        const float v = r[c];
        if (!(std::fabs(v) <= FLT_MAX)) {
          std::free(col);
          return {dso::Status::NonFinite, static_cast<int64_t>(i * d + b + c)};
        }
        col[c * n + i] = v;
      }
    }
    for (size_t c = 0; c < w; ++c)
      out[b + c] = Trimmed ? trimmedMeanOfColumn(col + c * n, n, cut) : medianOfColumn(col + c * n, n);
  }
  std::free(col);
  return dso::ok();
}

}  // namespace
