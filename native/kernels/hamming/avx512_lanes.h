// The AVX-512 F/BW lane operations the tiled and direct Hamming kernels are
// built from (popcount by nibble lookup); avx512_vpopcntdq.h overrides the
// popcount with VPOPCNTQ.
#pragma once
#include <immintrin.h>

#include "../common/hamming_direct.h"
#include "../common/hamming_tiled.h"

namespace {

struct HammingAvx512Bw {
  using reg = __m512i;
  static constexpr size_t L = 8;
  static constexpr size_t F = 31;
  static reg zero() { return _mm512_setzero_si512(); }
  static reg load(const uint64_t* p) { return _mm512_load_si512(p); }
  static void store(uint64_t* p, reg v) { _mm512_store_si512(p, v); }
  static reg bcast(uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
  static reg add64(reg a, reg b) { return _mm512_add_epi64(a, b); }
  static reg andv(reg a, reg b) { return _mm512_and_si512(a, b); }
  static reg gather(const uint8_t* base, const int64_t* off, int64_t add) {
    const reg idx = _mm512_add_epi64(_mm512_load_si512(off), _mm512_set1_epi64(add));
    return _mm512_i64gather_epi64(idx, base, 1);
  }
  static reg popXor(reg acc, reg a, reg b) {
    const reg lut = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
    const reg nib = _mm512_set1_epi8(0x0f);
    const reg x = _mm512_xor_si512(a, b);
    const reg lo = _mm512_shuffle_epi8(lut, _mm512_and_si512(x, nib));
    const reg hi = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib));
    return _mm512_add_epi8(acc, _mm512_add_epi8(lo, hi));
  }
  static reg flush(reg acc) { return _mm512_sad_epu8(acc, _mm512_setzero_si512()); }
  static uint32_t ltMask(reg v, uint32_t thr) { return _mm512_cmplt_epu64_mask(v, _mm512_set1_epi64(thr)); }
  static reg wordCounts(reg a, reg b) { return flush(popXor(zero(), a, b)); }
};

}  // namespace
