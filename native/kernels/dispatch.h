// Run-time kernel selection: what the CPU supports (CPUID) and what the OS
// saves on context switch (XGETBV), intersected with the tiers compiled in.
#pragma once
#include <string>
#include <vector>

#include "types.h"

namespace dso {

struct CpuFeatures {
  bool avx2 = false;       // AVX2 + FMA + BMI1/2 + POPCNT, OS saves YMM
  bool avx512 = false;     // AVX-512 F/BW/VL/DQ, OS saves ZMM and opmasks
  bool vpopcntdq = false;  // AVX512_VPOPCNTDQ and AVX512_VBMI on top of avx512
  bool neon = false;
};

const CpuFeatures& cpuFeatures();

// Tiers compiled into this build, lowest first.
std::vector<std::string> compiledTiers();
// Tiers compiled in and supported by this CPU and OS, lowest first.
std::vector<std::string> availableTiers();
std::string bestTier();

// The kernel table for a tier; vpopcntdq=false forces the AVX-512 Hamming
// kernel without VPOPCNTDQ. Null if the tier is unknown or unavailable.
const KernelTable* kernelTable(const std::string& tier, bool vpopcntdq = true);

}  // namespace dso
