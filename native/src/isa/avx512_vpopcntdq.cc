// The AVX-512 Hamming kernel with VPOPCNTDQ (Ice Lake, Sapphire Rapids, Zen 4).
#include "kernels/hamming/avx512_vpopcntdq.h"

#include "kernels/probe/avx512_vpopcntdq.h"
#include "kernels/tables.h"

namespace dso {
const HammingFn kAvx512VpopcntdqHamming = hammingTopKAvx512Vpopcntdq;
const XorPopcountFn kAvx512VpopcntdqXorPopcount = xorPopcountAvx512Vpopcntdq;
}  // namespace dso
