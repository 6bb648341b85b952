// Every kernel of every tier this CPU runs, checked against the serial tier on
// seeded awkward shapes: bit-exact for codes, ids, distances, medians, trimmed
// means and majority; scales within 1e-5 relative. Needs no Node: this is how
// the NEON tier is tested on x86 hosts (cross-compiled, run under
// qemu-aarch64; see scripts/check-neon.sh). Prints "N passed, N failed".
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/tables.h"

namespace {

struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  float uniform() { return static_cast<float>(next() >> 40) / 16777216.0f * 2.0f - 1.0f; }
  float heavy() { return std::tan(3.14159265f * 0.499f * uniform()) * 10.0f; }
};

int passed = 0, failed = 0;

void expect(bool ok, const std::string& what) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::printf("FAIL %s\n", what.c_str());
  }
}

template <class T>
bool same(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

void checkPack(const dso::KernelTable& t, Rng& r) {
  const size_t shapes[][3] = {{1, 1, 1},   {3, 7, 7},      {5, 9, 4},     {4, 17, 5},
                              {7, 65, 13}, {16, 384, 384}, {16, 384, 64}, {5, 513, 100}};
  for (auto& s : shapes) {
    const size_t rows = s[0], dim = s[1], gs = s[2], B = (dim + 7) / 8, G = (dim + gs - 1) / gs;
    std::vector<float> x(rows * dim), base(dim);
    for (auto& v : x) v = r.heavy();
    for (auto& v : base) v = r.uniform();
    for (int withBase = 0; withBase < 2; ++withBase) {
      const float* b = withBase ? base.data() : nullptr;
      std::vector<uint8_t> c0(rows * B), c1(rows * B);
      std::vector<float> s0(rows * G), s1(rows * G);
      dso::kSerialTable.pack(x.data(), rows, dim, gs, b, c0.data(), s0.data());
      t.pack(x.data(), rows, dim, gs, b, c1.data(), s1.data());
      const std::string tag =
          std::string(t.name) + " pack " + std::to_string(rows) + "x" + std::to_string(dim) + "/" + std::to_string(gs);
      expect(same(c0, c1), tag + " codes");
      bool close = true;
      for (size_t i = 0; i < s0.size(); ++i) close = close && std::fabs(s0[i] - s1[i]) <= 1e-5f * std::fabs(s0[i]);
      expect(close, tag + " scales");
      std::vector<float> d0(rows * dim), d1(rows * dim);
      dso::kSerialTable.dequantize(c0.data(), s0.data(), rows, dim, gs, b, d0.data());
      t.dequantize(c0.data(), s0.data(), rows, dim, gs, b, d1.data());
      expect(same(d0, d1), tag + " dequantize");
    }
    std::vector<float> bad = x;
    bad[(rows - 1) * dim + dim / 2] = NAN;
    std::vector<uint8_t> c(rows * B);
    std::vector<float> sc(rows * G);
    const dso::KernelResult res = t.pack(bad.data(), rows, dim, gs, nullptr, c.data(), sc.data());
    expect(res.status == dso::Status::NonFinite && res.where == static_cast<int64_t>(rows - 1),
           std::string(t.name) + " pack NaN row");
  }
}

// Scales where a float sum overflows, underflows or drifts: every tier finite
// and within 1e-5 of the serial tier's double sum.
void checkPackEdges(const dso::KernelTable& t, Rng& r) {
  struct Edge {
    size_t dim, gs;
    float (*value)(size_t j, Rng& r);
  };
  const Edge edges[] = {
      {384, 384, [](size_t, Rng&) { return 1e37f; }},
      {384, 64, [](size_t j, Rng&) { return j % 2 ? -3.4e38f : 3.4e38f; }},
      {100, 7, [](size_t j, Rng&) { return j % 3 ? 2e38f : -1e-30f; }},
      {384, 384, [](size_t j, Rng&) { return j % 2 ? 1e-40f : -3e-42f; }},
      {65536, 65536, [](size_t j, Rng& g) { return j == 0 ? 1e6f : 1.0f + g.uniform() * 1e-3f; }},
      {100000, 33333, [](size_t, Rng& g) { return g.heavy() * 1e30f; }},
  };
  for (const Edge& e : edges) {
    std::vector<float> x(e.dim);
    for (size_t j = 0; j < e.dim; ++j) x[j] = e.value(j, r);
    const size_t B = (e.dim + 7) / 8, G = (e.dim + e.gs - 1) / e.gs;
    std::vector<uint8_t> c0(B), c1(B);
    std::vector<float> s0(G), s1(G);
    dso::kSerialTable.pack(x.data(), 1, e.dim, e.gs, nullptr, c0.data(), s0.data());
    t.pack(x.data(), 1, e.dim, e.gs, nullptr, c1.data(), s1.data());
    bool close = true;
    for (size_t i = 0; i < G; ++i)
      close = close && std::isfinite(s1[i]) && std::fabs(s0[i] - s1[i]) <= 1e-5f * std::fabs(s0[i]);
    expect(same(c0, c1) && close,
           std::string(t.name) + " pack edge dim " + std::to_string(e.dim) + " x[0] " + std::to_string(x[0]));
  }
}

void checkHamming(const dso::KernelTable& t, Rng& r) {
  const size_t shapes[][4] = {{1, 1, 1, 1},
                              {7, 3, 5, 4},
                              {63, 17, 40, 3},
                              {65, 129, 7, 16},
                              {384, 1030, 11, 10},
                              {513, 700, 5, 600},
                              {1100, 270, 3, 300},
                              // one or two queries over whole-word rows, row counts not multiples of 8
                              {64, 8, 1, 8},
                              {128, 1003, 1, 10},
                              {320, 9, 2, 3},
                              {380, 203, 2, 9},
                              {384, 15, 1, 20},
                              {512, 77, 2, 100}};
  for (auto& s : shapes) {
    const size_t dim = s[0], n = s[1], nq = s[2], k = s[3], B = (dim + 7) / 8;
    std::vector<uint8_t> base(n * B), q(nq * B);
    for (auto& v : base) v = static_cast<uint8_t>(r.next() % 4 == 0 ? 0 : r.next());  // some ties
    for (auto& v : q) v = static_cast<uint8_t>(r.next());
    std::vector<int32_t> i0(nq * k), d0(nq * k), i1(nq * k), d1(nq * k);
    dso::kSerialTable.hammingTopK(base.data(), n, q.data(), nq, dim, k, i0.data(), d0.data());
    t.hammingTopK(base.data(), n, q.data(), nq, dim, k, i1.data(), d1.data());
    const std::string tag = std::string(t.name) + " hamming dim " + std::to_string(dim) + " n " + std::to_string(n);
    expect(same(i0, i1) && same(d0, d1), tag);
  }
}

// Seeded random shapes (dims up to 2100, k up to 700 and beyond n, ties), and
// the shape where a function-pointer dispatch of the tiled kernel was once
// seen to differ: avx512, dim 64, k 8, 4 queries over 6,000 rows, 15 calls.
void checkHammingRandom(const dso::KernelTable& t, Rng& r) {
  for (int it = 0; it < 135; ++it) {
    const bool lead = it < 15;
    const size_t dim = lead ? 64 : 1 + r.next() % (it % 4 == 0 ? 2100 : 300);
    const size_t n = lead ? 6000 : r.next() % 3000, nq = lead ? 4 : 1 + r.next() % 9;
    const size_t k = lead ? 8 : 1 + r.next() % (it % 3 ? 20 : 700), B = (dim + 7) / 8;
    std::vector<uint8_t> base(n * B), q(nq * B);
    for (auto& v : base) v = static_cast<uint8_t>(lead || r.next() % 5 ? r.next() : 0);
    for (auto& v : q) v = static_cast<uint8_t>(r.next());
    std::vector<int32_t> i0(nq * k), d0(nq * k), i1(nq * k), d1(nq * k);
    dso::kSerialTable.hammingTopK(base.data(), n, q.data(), nq, dim, k, i0.data(), d0.data());
    t.hammingTopK(base.data(), n, q.data(), nq, dim, k, i1.data(), d1.data());
    expect(same(i0, i1) && same(d0, d1), std::string(t.name) + " hamming random dim " + std::to_string(dim) + " n " +
                                             std::to_string(n) + " nq " + std::to_string(nq) + " k " +
                                             std::to_string(k));
  }
}

void checkColumns(const dso::KernelTable& t, Rng& r) {
  for (size_t n : {1, 2, 3, 5, 8, 16, 17, 33, 64, 65, 100}) {
    for (size_t d : {1, 5, 17}) {
      std::vector<float> x(n * d);
      for (auto& v : x) v = (r.next() % 3 == 0) ? static_cast<float>(r.next() % 4) : r.heavy();
      std::vector<float> m0(d), m1(d), t0(d), t1(d);
      dso::kSerialTable.median(x.data(), n, d, m0.data());
      t.median(x.data(), n, d, m1.data());
      const size_t cut = n / 10;
      dso::kSerialTable.trimmedMean(x.data(), n, d, cut, t0.data());
      t.trimmedMean(x.data(), n, d, cut, t1.data());
      const std::string tag = std::string(t.name) + " n " + std::to_string(n) + " d " + std::to_string(d);
      expect(same(m0, m1), tag + " median");
      expect(same(t0, t1), tag + " trimmed mean");
    }
  }
}

void checkMajority(const dso::KernelTable& t, Rng& r) {
  for (size_t n : {1, 2, 3, 4, 63, 64, 65}) {
    for (size_t dim : {1, 7, 9, 100, 513, 8193}) {
      const size_t B = (dim + 7) / 8;
      std::vector<uint8_t> c(n * B), o0(B), o1(B);
      for (auto& v : c) v = static_cast<uint8_t>(r.next());
      dso::kSerialTable.majority(c.data(), n, dim, o0.data());
      t.majority(c.data(), n, dim, o1.data());
      expect(same(o0, o1), std::string(t.name) + " majority n " + std::to_string(n) + " dim " + std::to_string(dim));
    }
  }
}

void checkCosine(const dso::KernelTable& t, Rng& r) {
  // Query and row magnitudes: plain, squares beyond float32, products below it, mixed; and long rows.
  const float scales[][2] = {{1, 1},           {1e19f, 3e19f},   {3e38f, 1e37f},
                             {1e-20f, 1e-20f}, {1e-40f, 1e-42f}, {1e30f, 1e-30f}};
  for (const auto& sc : scales)
    for (size_t dim : {1, 7, 100, 384, 1001, 65536}) {
      const size_t n = 60, nq = 3, c = 11;
      std::vector<float> v(n * dim), q(nq * dim), o0(nq * c), o1(nq * c);
      for (auto& x : v) x = r.uniform() * sc[1];
      for (auto& x : q) x = r.uniform() * sc[0];
      std::vector<int32_t> rows(nq * c);
      for (size_t i = 0; i < rows.size(); ++i) rows[i] = i % 5 == 4 ? -1 : static_cast<int32_t>(r.next() % n);
      dso::kSerialTable.cosineCandidates(v.data(), rows.data(), nq, c, q.data(), dim, o0.data());
      t.cosineCandidates(v.data(), rows.data(), nq, c, q.data(), dim, o1.data());
      bool close = true;
      for (size_t i = 0; i < o0.size(); ++i)
        close = close && (rows[i] < 0 ? std::isnan(o1[i]) : std::isfinite(o1[i]) && std::fabs(o0[i] - o1[i]) <= 1e-5f);
      expect(close, std::string(t.name) + " cosine dim " + std::to_string(dim) + " scale " + std::to_string(sc[0]));
    }
}

}  // namespace

int main() {
  Rng r{0x9e3779b97f4a7c15ull};
  for (const auto& tier : dso::availableTiers()) {
    if (tier == "serial") continue;  // the reference itself
    for (int vpop = 0; vpop < 2; ++vpop) {
      if (vpop && tier != "avx512") continue;
      const dso::KernelTable* t = dso::kernelTable(tier, vpop == 1);
      checkPack(*t, r);
      checkPackEdges(*t, r);
      checkHamming(*t, r);
      checkHammingRandom(*t, r);
      checkColumns(*t, r);
      checkMajority(*t, r);
      checkCosine(*t, r);
    }
  }
  std::printf("tiers: ");
  for (const auto& tier : dso::availableTiers()) std::printf("%s ", tier.c_str());
  std::printf("\n%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
