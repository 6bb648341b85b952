// AVX-512 tier (F/BW/VL/DQ). Hamming here counts bits with vpshufb; where
// the CPU also has VPOPCNTDQ, dispatch swaps in the kernel of
// avx512_vpopcntdq.cc.
#include "kernels/cosine/avx512.h"

#include "kernels/hamming/avx512.h"
#include "kernels/majority/avx512.h"
#include "kernels/median/avx512.h"
#include "kernels/pack/avx512.h"
#include "kernels/probe/avx512.h"
#include "kernels/tables.h"

namespace dso {
const KernelTable kAvx512Table = {"avx512",
                                  packAvx512,
                                  dequantizeAvx512,
                                  hammingTopKAvx512,
                                  medianAvx512,
                                  trimmedMeanAvx512,
                                  majorityAvx512,
                                  cosineCandidatesAvx512,
                                  streamReadAvx512,
                                  xorPopcountAvx512,
                                  8};
}
