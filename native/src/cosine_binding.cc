// cosineCandidates(vectors, rows, queries, dim, opts) -> Float32Array(rows.length)
#include <string>

#include "args.h"
#include "bindings.h"
#include "job.h"

namespace dso {

namespace {

class CosineJob : public Job {
 public:
  CosineJob(const KernelTable* t, View<float> vectors, View<int32_t> rows, View<float> queries, size_t nq, size_t c,
            size_t dim)
      : table_(t),
        vectors_(std::move(vectors)),
        rows_(std::move(rows)),
        queries_(std::move(queries)),
        nq_(nq),
        c_(c),
        dim_(dim) {
    out_.allocate(nq * c);
  }
  void execute() override {
    if (nq_ * c_ == 0) return;
    table_->cosineCandidates(vectors_.data, rows_.data, nq_, c_, queries_.data, dim_, out_.data());
  }
  Napi::Value result(Napi::Env env) override { return out_.value(env); }

 private:
  const KernelTable* table_;
  View<float> vectors_;
  View<int32_t> rows_;
  View<float> queries_;
  size_t nq_, c_, dim_;
  Output<float> out_;
};

Napi::Value cosineCandidates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<float> vectors = floatArray(info[0], "vectors");
  View<int32_t> rows = privateCopy(int32Array(info[1], "rows"));
  View<float> queries = floatArray(info[2], "queries");
  const size_t dim = wholeNumber(info[3], "dim", "INVALID_DIM", 1, kMaxElements);
  if (vectors.length % dim != 0)
    fail("LENGTH_MISMATCH", "vectors.length (" + std::to_string(vectors.length) + ") is not a multiple of dim (" +
                                std::to_string(dim) + ")");
  if (queries.length % dim != 0)
    fail("LENGTH_MISMATCH", "queries.length (" + std::to_string(queries.length) + ") is not a multiple of dim (" +
                                std::to_string(dim) + ")");
  const size_t n = vectors.length / dim, nq = queries.length / dim;
  if (nq == 0 ? rows.length != 0 : rows.length % nq != 0)
    fail("LENGTH_MISMATCH", "rows.length (" + std::to_string(rows.length) + ") must be queries x candidates");
  for (size_t i = 0; i < rows.length; ++i)
    if (rows.data[i] < -1 || (rows.data[i] >= 0 && static_cast<size_t>(rows.data[i]) >= n))
      fail("INVALID_ARGUMENT", "rows[" + std::to_string(i) + "] = " + std::to_string(rows.data[i]) +
                                   " is not -1 or a row below " + std::to_string(n));
  CallOptions o = callOptions(optionsArg(info, 4));
  const size_t c = nq ? rows.length / nq : 0;
  return runJob(
      env, std::make_unique<CosineJob>(o.table, std::move(vectors), std::move(rows), std::move(queries), nq, c, dim),
      o.async);
}

}  // namespace

void registerCosine(Napi::Env env, Napi::Object exports) {
  exports.Set("cosineCandidates",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, cosineCandidates); }));
}

}  // namespace dso
