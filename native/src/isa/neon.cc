// NEON tier (AArch64, where Advanced SIMD is mandatory).
#include "kernels/hamming/neon.h"

#include "kernels/cosine/serial.h"
#include "kernels/majority/neon.h"
#include "kernels/median/neon.h"
#include "kernels/pack/neon.h"
#include "kernels/probe/neon.h"
#include "kernels/tables.h"

namespace dso {
const KernelTable kNeonTable = {"neon",
                                packNeon,
                                dequantizeNeon,
                                hammingTopKNeon,
                                medianNeon,
                                trimmedMeanNeon,
                                majorityNeon,
                                cosineCandidatesSerial,
                                streamReadNeon,
                                xorPopcountNeon,
                                2};
}
