// Coordinate-wise median / trimmed mean for small n, vectorised across
// coordinates: lane c of vector i holds row i's value at coordinate j0 + c, and
// a Batcher odd-even merge sorting network (min/max per comparator, unrolled
// at compile time) sorts all lanes at once. n is padded to a power of two with
// +inf, which sorts last and leaves the order statistics of the n real values
// in place. Larger n falls back to per-column selection.
//
// V supplies: reg, L (float lanes), load(p, count), store(p, v, count), inf,
// minv, maxv, add, half, badLanes (non-finite lanes), storeTrimmed (ascending
// double sum of a[from, to) divided by the count, rounded to float).
#pragma once
#include "../types.h"
#include "column_select.h"

namespace {

template <class V, int I, int End, int Step, int R>
__attribute__((always_inline)) inline void ceRange(typename V::reg* a) {
  if constexpr (I < End) {
    const typename V::reg lo = V::minv(a[I], a[I + R]);
    a[I + R] = V::maxv(a[I], a[I + R]);
    a[I] = lo;
    ceRange<V, I + Step, End, Step, R>(a);
  }
}

template <class V, int Lo, int Hi, int R>
__attribute__((always_inline)) inline void oeMerge(typename V::reg* a) {
  constexpr int step = R * 2;
  if constexpr (step < Hi - Lo) {
    oeMerge<V, Lo, Hi, step>(a);
    oeMerge<V, Lo + R, Hi, step>(a);
    ceRange<V, Lo + R, Hi - R, step, R>(a);
  } else {
    ceRange<V, Lo, Lo + 1, 1, R>(a);
  }
}

template <class V, int Lo, int Hi>
__attribute__((always_inline)) inline void oeSort(typename V::reg* a) {
  if constexpr (Hi - Lo >= 1) {
    constexpr int mid = Lo + (Hi - Lo) / 2;
    oeSort<V, Lo, mid>(a);
    oeSort<V, mid + 1, Hi>(a);
    oeMerge<V, Lo, Hi, 1>(a);
  }
}

constexpr size_t kPrefetchFloats = 128;

template <class V, int P, bool Trimmed>
dso::KernelResult netStatistic(const float* rows, size_t n, size_t d, size_t cut, float* out) {
  using reg = typename V::reg;
  for (size_t j = 0; j < d; j += V::L) {
    const size_t lanes = (d - j) < V::L ? (d - j) : V::L;
    reg a[P];
    uint32_t bad = 0;
    // Each block reads one line from each of n rows, strided d floats apart:
    // more streams than hardware prefetchers track, so fetch ahead by hand.
    const size_t ahead = j + kPrefetchFloats;
    for (size_t i = 0; i < n; ++i) {
      if (ahead < d) __builtin_prefetch(rows + i * d + ahead);
      a[i] = V::load(rows + i * d + j, lanes);
      bad |= V::badLanes(a[i]);
      if (bad) {
        for (size_t c = 0; c < lanes; ++c)
          if (bad >> c & 1) return {dso::Status::NonFinite, static_cast<int64_t>(i * d + j + c)};
      }
    }
    for (size_t i = n; i < P; ++i) a[i] = V::inf();
    oeSort<V, 0, P - 1>(a);
    if constexpr (Trimmed) {
      V::storeTrimmed(a, cut, n - cut, out + j, lanes);
    } else {
      const reg med = (n & 1) ? a[n / 2] : V::half(V::add(a[n / 2 - 1], a[n / 2]));
      V::store(out + j, med, lanes);
    }
  }
  return dso::ok();
}

template <class V, bool Trimmed>
dso::KernelResult netOrColumns(const float* rows, size_t n, size_t d, size_t cut, float* out) {
  if (n <= 2) return netStatistic<V, 2, Trimmed>(rows, n, d, cut, out);
  if (n <= 4) return netStatistic<V, 4, Trimmed>(rows, n, d, cut, out);
  if (n <= 8) return netStatistic<V, 8, Trimmed>(rows, n, d, cut, out);
  if (n <= 16) return netStatistic<V, 16, Trimmed>(rows, n, d, cut, out);
  if (n <= 32) return netStatistic<V, 32, Trimmed>(rows, n, d, cut, out);
  if (n <= 64) return netStatistic<V, 64, Trimmed>(rows, n, d, cut, out);
  return columnStatistic<Trimmed>(rows, n, d, 0, d, cut, out);
}

}  // namespace
