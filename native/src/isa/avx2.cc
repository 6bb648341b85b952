// AVX2 tier (Haswell and later, Zen): compiled with the avx2 flags of
// native/isa-flags.json and only ever called after dispatch checked the CPU.
#include "kernels/cosine/avx2.h"

#include "kernels/hamming/avx2.h"
#include "kernels/majority/avx2.h"
#include "kernels/median/avx2.h"
#include "kernels/pack/avx2.h"
#include "kernels/probe/avx2.h"
#include "kernels/tables.h"

namespace dso {
const KernelTable kAvx2Table = {"avx2",
                                packAvx2,
                                dequantizeAvx2,
                                hammingTopKAvx2,
                                medianAvx2,
                                trimmedMeanAvx2,
                                majorityAvx2,
                                cosineCandidatesAvx2,
                                streamReadAvx2,
                                xorPopcountAvx2,
                                4};
}
