// Serial tier: the portable kernels, compiled at the architecture's baseline.
#include "kernels/cosine/serial.h"

#include "kernels/hamming/serial.h"
#include "kernels/majority/serial.h"
#include "kernels/median/serial.h"
#include "kernels/pack/serial.h"
#include "kernels/probe/serial.h"
#include "kernels/tables.h"

namespace dso {
const KernelTable kSerialTable = {"serial",
                                  packSerial,
                                  dequantizeSerial,
                                  hammingTopKSerial,
                                  medianSerial,
                                  trimmedMeanSerial,
                                  majoritySerial,
                                  cosineCandidatesSerial,
                                  streamReadSerial,
                                  xorPopcountSerial,
                                  1};
}
