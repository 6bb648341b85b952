// hammingTopK(base, queries, dim, k, opts, out?: { ids, distances }) -> { ids, distances }
#include <string>

#include "args.h"
#include "bindings.h"
#include "job.h"

namespace dso {

namespace {

class HammingJob : public Job {
 public:
  HammingJob(const KernelTable* t, View<uint8_t> base, View<uint8_t> queries, size_t n, size_t nq, size_t dim, size_t k,
             const Napi::Value& out)
      : table_(t), base_(std::move(base)), queries_(std::move(queries)), n_(n), nq_(nq), dim_(dim), k_(k) {
    const bool given = !out.IsUndefined();
    ids_.provide(given ? outField(out, "ids") : out, nq * k, "out.ids");
    dists_.provide(given ? outField(out, "distances") : out, nq * k, "out.distances");
    if (!given) return;
    ids_.apart(base_.data, base_.length, "out.ids", "base");
    ids_.apart(queries_.data, queries_.length, "out.ids", "queries");
    dists_.apart(base_.data, base_.length, "out.distances", "base");
    dists_.apart(queries_.data, queries_.length, "out.distances", "queries");
    dists_.apart(ids_.data(), ids_.length(), "out.distances", "out.ids");
  }
  void execute() override {
    if (nq_ == 0) return;
    check(table_->hammingTopK(base_.data, n_, queries_.data, nq_, dim_, k_, ids_.data(), dists_.data()), "");
  }
  Napi::Value result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("ids", ids_.value(env));
    o.Set("distances", dists_.value(env));
    return o;
  }

 private:
  const KernelTable* table_;
  View<uint8_t> base_, queries_;
  size_t n_, nq_, dim_, k_;
  Output<int32_t> ids_, dists_;
};

Napi::Value hammingTopK(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<uint8_t> base = byteArray(info[0], "base");
  View<uint8_t> queries = byteArray(info[1], "queries");
  const size_t dim = wholeNumber(info[2], "dim", "INVALID_DIM", 1, kMaxElements);
  const size_t k = wholeNumber(info[3], "k", "INVALID_K", 1, kMaxElements);
  const size_t B = (dim + 7) / 8;
  if (base.length % B != 0)
    fail("LENGTH_MISMATCH",
         "base.length (" + std::to_string(base.length) + ") is not a multiple of ceil(dim/8) = " + std::to_string(B));
  if (queries.length % B != 0)
    fail("LENGTH_MISMATCH", "queries.length (" + std::to_string(queries.length) +
                                ") is not a multiple of ceil(dim/8) = " + std::to_string(B));
  const size_t n = base.length / B, nq = queries.length / B;
  if (n > kMaxElements) fail("TOO_LARGE", "base holds more than 2^31-1 rows; ids are Int32");
  if (static_cast<double>(nq) * static_cast<double>(k) > static_cast<double>(kMaxResults))
    fail("TOO_LARGE", "queries x k = " + std::to_string(nq) + " x " + std::to_string(k) + " exceeds " +
                          std::to_string(kMaxResults) + " results");
  CallOptions o = callOptions(optionsArg(info, 4));
  const Napi::Value out = outArg(info, 5);
  return runJob(env, std::make_unique<HammingJob>(o.table, std::move(base), std::move(queries), n, nq, dim, k, out),
                o.async);
}

}  // namespace

void registerHamming(Napi::Env env, Napi::Object exports) {
  exports.Set("hammingTopK",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, hammingTopK); }));
}

}  // namespace dso
