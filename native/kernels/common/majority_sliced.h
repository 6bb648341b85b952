// Bitwise majority over n packed sign rows by bit-sliced counting: a column
// block of the codes keeps a binary counter per bit position as bit planes
// (plane l = bit l of every count), each row is added with a ripple of
// AND/XOR across planes, and the result is the plane-wise comparison
// count >= ceil(n/2) (ties go to 1). No bit is ever unpacked.
//
// V supplies: reg, BYTES (vector width), load(p, bytes), store(p, v, bytes),
// zero, ones, andv, xorv, orv, andnot (~a & b).
#pragma once
#include <cstdint>
#include <cstring>

namespace {

template <class V>
void majoritySliced(const uint8_t* codes, size_t n, size_t dim, uint8_t* out) {
  using reg = typename V::reg;
  constexpr size_t VPB = 16;  // vectors per column block
  constexpr size_t CB = VPB * V::BYTES;
  const size_t B = (dim + 7) / 8;
  const size_t threshold = (n + 1) / 2;
  size_t planes = 1;
  while ((size_t(1) << planes) <= n) ++planes;
  reg counter[40][VPB];  // n < 2^39 rows (the binding caps n far below)
  for (size_t b0 = 0; b0 < B; b0 += CB) {
    const size_t nb = (B - b0) < CB ? (B - b0) : CB;
    const size_t nv = (nb + V::BYTES - 1) / V::BYTES;
    for (size_t l = 0; l < planes; ++l)
      for (size_t v = 0; v < nv; ++v) counter[l][v] = V::zero();
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* row = codes + i * B + b0;
      for (size_t v = 0; v < nv; ++v) {
        const size_t off = v * V::BYTES;
        reg carry = V::load(row + off, (nb - off) < V::BYTES ? (nb - off) : V::BYTES);
        for (size_t l = 0; l < planes; ++l) {
          const reg t = V::andv(counter[l][v], carry);
          counter[l][v] = V::xorv(counter[l][v], carry);
          carry = t;
        }
      }
    }
    for (size_t v = 0; v < nv; ++v) {
      reg gt = V::zero(), eq = V::ones();
      for (size_t l = planes; l-- > 0;) {
        const reg c = counter[l][v];
        if (threshold >> l & 1) {
          eq = V::andv(eq, c);
        } else {
          gt = V::orv(gt, V::andv(eq, c));
          eq = V::andnot(c, eq);
        }
      }
      const size_t off = v * V::BYTES;
      V::store(out + b0 + off, V::orv(gt, eq), (nb - off) < V::BYTES ? (nb - off) : V::BYTES);
    }
  }
  if (dim & 7) out[B - 1] &= static_cast<uint8_t>((1u << (dim & 7)) - 1);
}

}  // namespace
