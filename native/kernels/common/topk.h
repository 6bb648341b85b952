// Exact top-k selection for bounded integer distances (0..dim), shared by every
// Hamming kernel. Rows are offered in increasing id order, so a candidate
// buffer stays sorted by id and ties resolve to the smaller id for free.
// When the buffer fills, a counting pass over the distance histogram finds the
// k-th distance D; the buffer keeps the k best and later rows must beat D
// strictly (an equal distance from a larger id loses the tie). No heap, no
// comparisons between candidates. Memory scales with min(k, n): a query can
// have no more than n results, and the slots past them are only padding.
// Internal linkage: each ISA gets its own copy.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../types.h"

namespace {

// Candidate slots per query: room for `keep` plus a batch before compacting.
inline size_t keepCapacity(size_t keep) { return keep + (keep > 256 ? keep : 256); }

struct TopKQueues {
  size_t k = 0, keep = 0, cap = 0, nq = 0, bins = 0;  // k: output width; keep: min(k, n)
  uint32_t* dist = nullptr;                           // nq * cap
  int32_t* id = nullptr;                              // nq * cap
  uint32_t* count = nullptr;                          // nq
  uint32_t* thr = nullptr;                            // nq: accept a distance only if < thr
  uint32_t* hist = nullptr;                           // bins (dim + 2)

  bool init(size_t nq_, size_t k_, size_t keep_, size_t dim) {
    nq = nq_;
    k = k_;
    keep = keep_;
    cap = keepCapacity(keep);
    bins = dim + 2;
    dist = static_cast<uint32_t*>(std::malloc(nq * cap * sizeof(uint32_t)));
    id = static_cast<int32_t*>(std::malloc(nq * cap * sizeof(int32_t)));
    count = static_cast<uint32_t*>(std::calloc(nq, sizeof(uint32_t)));
    thr = static_cast<uint32_t*>(std::malloc(nq * sizeof(uint32_t)));
    hist = static_cast<uint32_t*>(std::malloc(bins * sizeof(uint32_t)));
    if (!dist || !id || !count || !thr || !hist) return false;
    for (size_t q = 0; q < nq; ++q) thr[q] = static_cast<uint32_t>(dim + 1);
    return true;
  }
  ~TopKQueues() {
    std::free(dist);
    std::free(id);
    std::free(count);
    std::free(thr);
    std::free(hist);
  }

  // Keeps the `keep` best of query q's buffer (in id order) and tightens thr.
  void compact(size_t q, size_t keep) {
    uint32_t* d = dist + q * cap;
    int32_t* ids = id + q * cap;
    const uint32_t c = count[q];
    if (c <= keep) return;
    const uint32_t t = thr[q];
    std::memset(hist, 0, (t + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < c; ++i) hist[d[i]]++;
    uint32_t below = 0, kth = 0;
    while (below + hist[kth] < keep) below += hist[kth++];
    uint32_t ties = static_cast<uint32_t>(keep) - below;
    uint32_t j = 0;
    for (uint32_t i = 0; i < c; ++i) {
      const uint32_t di = d[i];
      if (di < kth || (di == kth && ties > 0)) {
        if (di == kth) --ties;
        d[j] = di;
        ids[j] = ids[i];
        ++j;
      }
    }
    count[q] = j;
    thr[q] = kth;
  }

  inline void push(size_t q, uint32_t d, int32_t row) {
    if (d >= thr[q]) return;
    uint32_t c = count[q];
    dist[q * cap + c] = d;
    id[q * cap + c] = row;
    count[q] = ++c;
    if (c == cap) compact(q, keep);
  }

  // Final: k best per query, ascending distance then id (stable counting
  // sort over an id-ordered buffer); slots past the candidates get -1.
  void emit(int32_t* outIds, int32_t* outDists, size_t qOffset) {
    for (size_t q = 0; q < nq; ++q) {
      compact(q, keep);
      const uint32_t c = count[q];
      const uint32_t* d = dist + q * cap;
      const int32_t* ids = id + q * cap;
      int32_t* oi = outIds + (qOffset + q) * k;
      int32_t* od = outDists + (qOffset + q) * k;
      const uint32_t t = thr[q];
      std::memset(hist, 0, (t + 1) * sizeof(uint32_t));
      for (uint32_t i = 0; i < c; ++i) hist[d[i]]++;
      uint32_t run = 0;
      for (uint32_t b = 0; b <= t; ++b) {
        const uint32_t h = hist[b];
        hist[b] = run;
        run += h;
      }
      for (uint32_t i = 0; i < c; ++i) {
        const uint32_t slot = hist[d[i]]++;
        oi[slot] = ids[i];
        od[slot] = static_cast<int32_t>(d[i]);
      }
      for (size_t s = c; s < k; ++s) {
        oi[s] = -1;
        od[s] = -1;
      }
    }
  }
};

// Queries are processed in blocks so candidate buffers stay bounded in memory.
inline size_t topkQueryBlock(size_t nq, size_t keep) {
  size_t block = (size_t(64) << 20) / (keepCapacity(keep) * 8);
  if (block < 1) block = 1;
  return block < nq ? block : nq;
}

// Mask of the valid bits of the last 64-bit word of a code row (padding
// bits are ignored, whatever the caller left in them).
inline uint64_t lastWordMask(size_t dim) {
  const size_t bits = dim - 64 * ((dim - 1) / 64);
  return bits == 64 ? ~uint64_t(0) : ((uint64_t(1) << bits) - 1);
}

// Row-major code row -> zero-padded 64-bit words with padding bits cleared.
inline void loadRowWords(const uint8_t* row, size_t bytes, size_t words, uint64_t lastMask, uint64_t* out) {
  std::memset(out, 0, words * 8);
  std::memcpy(out, row, bytes);
  out[words - 1] &= lastMask;
}

// Runs a Hamming scan per block of queries: each block's queries are loaded as
// zero-padded words (`stride` u64 per query, >= the row's words, padding bits
// cleared) into 64-byte aligned memory, `scan(tq, qwords, q0, nqb)` offers
// the rows, and the block's top-k is emitted. Bounds the candidate buffers.
template <class Scan>
dso::KernelResult forQueryBlocks(const uint8_t* queries, size_t nq, size_t dim, size_t k, size_t n, size_t stride,
                                 int32_t* ids, int32_t* dists, Scan scan) {
  const size_t B = (dim + 7) / 8;
  const size_t W = (B + 7) / 8;
  const uint64_t lastMask = lastWordMask(dim);
  const size_t keep = k < n ? k : n;
  const size_t qb = topkQueryBlock(nq, keep);
  uint64_t* qwords = static_cast<uint64_t*>(std::aligned_alloc(64, (qb * stride * 8 + 63) / 64 * 64));
  if (!qwords) return {dso::Status::OutOfMemory, -1};
  dso::KernelResult res = dso::ok();
  for (size_t q0 = 0; q0 < nq; q0 += qb) {
    const size_t nqb = (nq - q0) < qb ? (nq - q0) : qb;
    TopKQueues tq;
    if (!tq.init(nqb, k, keep, dim)) {
      res = {dso::Status::OutOfMemory, -1};
      break;
    }
    std::memset(qwords, 0, nqb * stride * 8);
    for (size_t q = 0; q < nqb; ++q) loadRowWords(queries + (q0 + q) * B, B, W, lastMask, qwords + q * stride);
    res = scan(tq, qwords, q0, nqb);
    if (res.status != dso::Status::Ok) break;
    tq.emit(ids, dists, q0);
  }
  std::free(qwords);
  return res;
}

}  // namespace
