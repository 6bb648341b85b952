// The kernel tables each ISA translation unit defines; which of them exist
// depends on the architecture being built (see native/isa-flags.json).
#pragma once
#include "types.h"

namespace dso {

using HammingFn = KernelResult (*)(const uint8_t*, size_t, const uint8_t*, size_t, size_t, size_t, int32_t*, int32_t*);

using XorPopcountFn = uint64_t (*)(uint64_t);

extern const KernelTable kSerialTable;
#if defined(__x86_64__) || defined(_M_X64)
extern const KernelTable kAvx2Table;
extern const KernelTable kAvx512Table;
extern const HammingFn kAvx512VpopcntdqHamming;
extern const HammingFn kAvx512StreamHamming;
extern const XorPopcountFn kAvx512VpopcntdqXorPopcount;
#elif defined(__aarch64__)
extern const KernelTable kNeonTable;
#endif

}  // namespace dso
