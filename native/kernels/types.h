// Kernel-facing types shared by every ISA translation unit and the binding.
// Plain C-style function pointers: no C++ template or std:: type crosses an
// ISA boundary, so the linker can never merge an AVX-512 instantiation into
// the serial path (an ODR hazard with per-file ISA flags).
#pragma once
#include <cstddef>
#include <cstdint>

namespace dso {

enum class Status : int {
  Ok = 0,
  NonFinite = 1,  // `where` holds the flat index (or row) of the first bad value
  OutOfMemory = 2,
};

struct KernelResult {
  Status status;
  int64_t where;
};

inline KernelResult ok() { return {Status::Ok, -1}; }

struct KernelTable {
  const char* name;
  // x: rows*dim floats; baseline: dim floats or null. codes: rows*ceil(dim/8)
  // bytes; scales: rows*ceil(dim/groupSize) floats. NonFinite.where = row.
  KernelResult (*pack)(const float* x, size_t rows, size_t dim, size_t groupSize, const float* baseline, uint8_t* codes,
                       float* scales);
  void (*dequantize)(const uint8_t* codes, const float* scales, size_t rows, size_t dim, size_t groupSize,
                     const float* baseline, float* out);
  // Exact top-k by Hamming distance; ids/dists hold nq*k entries.
  KernelResult (*hammingTopK)(const uint8_t* base, size_t n, const uint8_t* queries, size_t nq, size_t dim, size_t k,
                              int32_t* ids, int32_t* dists);
  // rows: n*d floats (row-major, one row per voter). NonFinite.where = flat index.
  KernelResult (*median)(const float* rows, size_t n, size_t d, float* out);
  KernelResult (*trimmedMean)(const float* rows, size_t n, size_t d, size_t cut, float* out);
  void (*majority)(const uint8_t* codes, size_t n, size_t dim, uint8_t* out);
  // Cosine of query q against rows[q*c .. q*c+c) of a row-major float matrix
  // (dim per row); row -1 gives NaN. Rows are validated by the caller.
  void (*cosineCandidates)(const float* vectors, const int32_t* rows, size_t nq, size_t c, const float* queries,
                           size_t dim, float* out);
  // Streaming read of `bytes` bytes; returns a checksum so the loop is not elided.
  uint64_t (*streamRead)(const uint8_t* data, size_t bytes);
  // iterations x 8 vectors of XOR + popcount + add on registers (the compute
  // limit of the Hamming kernels); the lane width is `popcountLanes` u64s.
  uint64_t (*xorPopcount)(uint64_t iterations);
  uint32_t popcountLanes;
};

}  // namespace dso
