#include "kernels/dispatch.h"

#include "kernels/tables.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace dso {

namespace {

#if defined(__x86_64__) || defined(_M_X64)
uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  const bool fma = c & (1u << 12);
  const bool popcnt = c & (1u << 23);
  if (!osxsave) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool osYmm = (xcr0 & 0x6) == 0x6;             // SSE + AVX state
  const bool osZmm = osYmm && (xcr0 & 0xe0) == 0xe0;  // opmask + ZMM_Hi256 + Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5), bmi1 = b & (1u << 3), bmi2 = b & (1u << 8);
  const bool f512 = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
  const bool vpop = c & (1u << 14), vbmi = c & (1u << 1);
  f.avx2 = osYmm && avx2 && fma && popcnt && bmi1 && bmi2;
  f.avx512 = f.avx2 && osZmm && f512 && dq && bw && vl;
  // The VPOPCNTDQ kernel's translation unit also uses VBMI; every CPU with
  // VPOPCNTDQ but Knights Mill has it, and there the AVX-512 BW kernel runs.
  f.vpopcntdq = f.avx512 && vpop && vbmi;
  return f;
}
#elif defined(__aarch64__)
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // Advanced SIMD is mandatory on AArch64
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

}  // namespace

const CpuFeatures& cpuFeatures() {
  static const CpuFeatures features = detect();
  return features;
}

std::vector<std::string> compiledTiers() {
#if defined(__x86_64__) || defined(_M_X64)
  return {"serial", "avx2", "avx512"};
#elif defined(__aarch64__)
  return {"serial", "neon"};
#else
  return {"serial"};
#endif
}

std::vector<std::string> availableTiers() {
  std::vector<std::string> out;
  for (const auto& t : compiledTiers())
    if (kernelTable(t) != nullptr) out.push_back(t);
  return out;
}

std::string bestTier() { return availableTiers().back(); }

const KernelTable* kernelTable(const std::string& tier, bool vpopcntdq) {
  const CpuFeatures& f = cpuFeatures();
  if (tier == "serial") return &kSerialTable;
#if defined(__x86_64__) || defined(_M_X64)
  if (tier == "avx2") return f.avx2 ? &kAvx2Table : nullptr;
  if (tier == "avx512") {
    if (!f.avx512) return nullptr;
    if (!(vpopcntdq && f.vpopcntdq)) return &kAvx512Table;
    static const KernelTable withPopcnt = [] {
      KernelTable t = kAvx512Table;
      t.hammingTopK = kAvx512VpopcntdqHamming;
      t.xorPopcount = kAvx512VpopcntdqXorPopcount;
      return t;
    }();
    return &withPopcnt;
  }
#elif defined(__aarch64__)
  if (tier == "neon") return f.neon ? &kNeonTable : nullptr;
#endif
  (void)f;
  (void)vpopcntdq;
  return nullptr;
}

}  // namespace dso
