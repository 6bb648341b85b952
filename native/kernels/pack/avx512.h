// AVX-512 sign packing: one compare per 16 floats yields the 16 code bits
// directly as a mask register (lane order = little bit order), so packing is
// a store of the mask. Memory-bound: one pass over the floats.
#pragma once
#include <immintrin.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../common/mean_abs.h"
#include "../types.h"

namespace {

inline __mmask16 laneMask16(size_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
}

// Packs 16 floats: stores their 16 code bits, returns |delta|, flags bad lanes.
struct Pack16 {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 inf = _mm512_set1_ps(__builtin_inff());
  const __m512i absMask = _mm512_set1_epi32(0x7fffffff);
  __mmask16 bad = 0;

  inline __m512 operator()(const float* x, const float* b, size_t j, size_t rem, uint8_t* cr) {
    const __mmask16 lm = laneMask16(rem);
    __m512 v = rem >= 16 ? _mm512_loadu_ps(x + j) : _mm512_maskz_loadu_ps(lm, x + j);
    if (b) v = _mm512_sub_ps(v, rem >= 16 ? _mm512_loadu_ps(b + j) : _mm512_maskz_loadu_ps(lm, b + j));
    const __mmask16 bits = _mm512_mask_cmp_ps_mask(lm, v, zero, _CMP_GT_OQ);
    if (rem >= 16) {
      const uint16_t b16 = bits;
      std::memcpy(cr + (j >> 3), &b16, 2);
    } else {
      cr[j >> 3] = static_cast<uint8_t>(bits);
      if (rem > 8) cr[(j >> 3) + 1] = static_cast<uint8_t>(bits >> 8);
    }
    const __m512 a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), absMask));
    bad |= _mm512_mask_cmp_ps_mask(lm, a, inf, _CMP_NLT_UQ);
    return a;
  }
};

// |delta| sums of one group (see mean_abs.h): runs in float, totals in double.
struct WideSum {
  __m512 run = _mm512_setzero_ps();
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  int adds = 0;

  inline void add(__m512 a) {
    run = _mm512_add_ps(run, a);
    if (++adds == kFloatRun) flush();
  }
  inline void flush() {
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(run)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(run), 1))));
    run = _mm512_setzero_ps();
    adds = 0;
  }
  // The group's mean |delta|; starts the next group.
  inline float mean(const float* x, const float* baseline, size_t j0, size_t j1) {
    flush();
    const double sum = _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
    lo = hi = _mm512_setzero_pd();
    return std::isfinite(sum) ? static_cast<float>(sum / static_cast<double>(j1 - j0)) : meanAbs(x, baseline, j0, j1);
  }
};

// Groups that are whole vectors (or one group per row): no per-lane group
// bookkeeping; vectors are added in pairs to halve the add chain.
dso::KernelResult packAvx512Aligned(const float* x, size_t rows, size_t dim, size_t groupSize, const float* baseline,
                                    uint8_t* codes, float* scales) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  Pack16 pk;
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    uint8_t* cr = codes + r * B;
    float* sr = scales + r * G;
    for (size_t g = 0; g < G; ++g) {
      const size_t j0 = g * groupSize;
      const size_t j1 = (j0 + groupSize) < dim ? (j0 + groupSize) : dim;
      WideSum sum;
      size_t j = j0;
      for (; j + 32 <= j1; j += 32)
        sum.add(_mm512_add_ps(pk(xr, baseline, j, 16, cr), pk(xr, baseline, j + 16, 16, cr)));
      for (; j < j1; j += 16) sum.add(pk(xr, baseline, j, j1 - j, cr));
      sr[g] = sum.mean(xr, baseline, j0, j1);
    }
    if (pk.bad) return {dso::Status::NonFinite, static_cast<int64_t>(r)};
  }
  return dso::ok();
}

// Any group size: a vector may straddle group boundaries, so lanes are
// assigned to groups with masks.
dso::KernelResult packAvx512Unaligned(const float* x, size_t rows, size_t dim, size_t groupSize, const float* baseline,
                                      uint8_t* codes, float* scales) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  Pack16 pk;
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    uint8_t* cr = codes + r * B;
    float* sr = scales + r * G;
    WideSum sum;
    size_t g = 0, gStart = 0, gEnd = groupSize < dim ? groupSize : dim;
    for (size_t j = 0; j < dim; j += 16) {
      const size_t rem = dim - j;
      const __m512 a = pk(xr, baseline, j, rem, cr);
      const size_t end = rem >= 16 ? j + 16 : dim;
      size_t pos = j;
      while (pos < end) {
        const size_t stop = end < gEnd ? end : gEnd;
        const __mmask16 m = static_cast<__mmask16>(laneMask16(stop - j) & ~laneMask16(pos - j));
        sum.add(_mm512_maskz_mov_ps(m, a));
        pos = stop;
        if (pos == gEnd) {
          sr[g++] = sum.mean(xr, baseline, gStart, gEnd);
          gStart = gEnd;
          gEnd = (gEnd + groupSize) < dim ? (gEnd + groupSize) : dim;
        }
      }
    }
    if (pk.bad) return {dso::Status::NonFinite, static_cast<int64_t>(r)};
  }
  return dso::ok();
}

dso::KernelResult packAvx512(const float* x, size_t rows, size_t dim, size_t groupSize, const float* baseline,
                             uint8_t* codes, float* scales) {
  if (groupSize >= dim || groupSize % 16 == 0)
    return packAvx512Aligned(x, rows, dim, groupSize, baseline, codes, scales);
  return packAvx512Unaligned(x, rows, dim, groupSize, baseline, codes, scales);
}

void dequantizeAvx512(const uint8_t* codes, const float* scales, size_t rows, size_t dim, size_t groupSize,
                      const float* baseline, float* out) {
  const size_t B = (dim + 7) / 8;
  const size_t G = (dim + groupSize - 1) / groupSize;
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* cr = codes + r * B;
    const float* sr = scales + r * G;
    float* o = out + r * dim;
    for (size_t j = 0; j < dim; j += 16) {
      const size_t rem = dim - j;
      const __mmask16 lm = laneMask16(rem);
      uint16_t b16 = cr[j >> 3];
      if (rem > 8) b16 |= static_cast<uint16_t>(cr[(j >> 3) + 1]) << 8;
      __m512 s;
      const size_t last = j + (rem >= 16 ? 16 : rem) - 1;
      if (j / groupSize == last / groupSize) {
        s = _mm512_set1_ps(sr[j / groupSize]);
      } else {
        alignas(64) float lane[16] = {};
        for (size_t l = 0; l + j <= last; ++l) lane[l] = sr[(j + l) / groupSize];
        s = _mm512_load_ps(lane);
      }
      const __m512 neg = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(s), _mm512_set1_epi32(INT32_MIN)));
      __m512 v = _mm512_mask_blend_ps(static_cast<__mmask16>(b16), neg, s);
      if (baseline) v = _mm512_add_ps(_mm512_maskz_loadu_ps(lm, baseline + j), v);
      _mm512_mask_storeu_ps(o + j, lm, v);
    }
  }
}

}  // namespace
