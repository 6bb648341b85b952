// The streaming Hamming kernel for one or two queries (AVX-512 VPOPCNTDQ + VBMI),
// reached from the VPOPCNTDQ kernel; see kernels/hamming/avx512_stream.h.
#include "kernels/hamming/avx512_stream.h"

#include "kernels/tables.h"

namespace dso {
const HammingFn kAvx512StreamHamming = hammingTopKAvx512Stream;
}  // namespace dso
