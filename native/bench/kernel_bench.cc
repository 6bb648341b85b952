// The kernels alone, without Node: W1-W3 on each tier this CPU runs, into
// pre-touched outputs, best of 5. Separates kernel time from what a call from
// JS adds (allocation and first-touch page faults of fresh result buffers).
// Build and run: scripts/bench-kernels.sh
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/dispatch.h"

namespace {

template <class F>
double best(F f, int reps = 5) {
  double b = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    b = std::min(b, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return b;
}

uint64_t state = 88172645463325252ull;
uint64_t next() {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

}  // namespace

int main() {
  const size_t N = 1000000, D = 384, B = D / 8;
  std::vector<float> x(N * D);
  for (auto& v : x) v = static_cast<float>(next() >> 40) / 8388608.0f - 1.0f;
  std::vector<uint8_t> base(N * B), codes(N * B, 1), votes(64 * N / 8);
  for (auto& v : base) v = static_cast<uint8_t>(next());
  for (auto& v : votes) v = static_cast<uint8_t>(next());
  std::vector<float> scales(N, 1.0f), rows(64 * N), out(N, 1.0f);
  for (auto& v : rows) v = static_cast<float>(next() >> 40) / 8388608.0f - 1.0f;
  std::vector<int32_t> ids(1000 * 10), dists(1000 * 10);
  std::vector<uint8_t> maj(N / 8);

  std::printf("%-28s %12s %12s %12s %12s %12s\n", "tier", "W1 pack", "W2 batch", "W2 single", "W3 median",
              "W3 majority");
  for (const auto& tier : dso::availableTiers()) {
    for (int vpop = 1; vpop >= 0; --vpop) {
      if (!vpop && (tier != "avx512" || !dso::cpuFeatures().vpopcntdq)) continue;
      const dso::KernelTable* t = dso::kernelTable(tier, vpop == 1);
      const size_t nq = tier == "serial" ? 50 : 1000;
      const double pack = best([&] { t->pack(x.data(), N, D, D, nullptr, codes.data(), scales.data()); });
      const double batch =
          best([&] { t->hammingTopK(base.data(), N, base.data(), nq, D, 10, ids.data(), dists.data()); }, 2);
      const double single =
          best([&] { t->hammingTopK(base.data(), N, base.data() + 7 * B, 1, D, 10, ids.data(), dists.data()); }, 10);
      const double median = best([&] { t->median(rows.data(), 64, N, out.data()); });
      const double majority = best([&] { t->majority(votes.data(), 64, N, maj.data()); });
      const std::string name = tier + (tier == "avx512" ? (vpop ? " (vpopcntdq)" : " (no vpopcntdq)") : "");
      std::printf("%-28s %9.1f ms %8.0f q/s %8.0f q/s %9.1f ms %9.2f ms\n", name.c_str(), pack * 1e3, nq / batch,
                  1 / single, median * 1e3, majority * 1e3);
    }
  }
  return 0;
}
