// majority(codes, n, dim, opts, out?: Uint8Array(ceil(dim/8))) -> Uint8Array(ceil(dim/8))
#include <string>

#include "args.h"
#include "bindings.h"
#include "job.h"

namespace dso {

namespace {

class MajorityJob : public Job {
 public:
  MajorityJob(const KernelTable* t, View<uint8_t> codes, size_t n, size_t dim, const Napi::Value& out)
      : table_(t), codes_(std::move(codes)), n_(n), dim_(dim) {
    out_.provide(out, (dim + 7) / 8, "out");
    out_.apart(codes_.data, codes_.length, "out", "codes");
  }
  void execute() override { table_->majority(codes_.data, n_, dim_, out_.data()); }
  Napi::Value result(Napi::Env env) override { return out_.value(env); }

 private:
  const KernelTable* table_;
  View<uint8_t> codes_;
  size_t n_, dim_;
  Output<uint8_t> out_;
};

Napi::Value majority(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<uint8_t> codes = byteArray(info[0], "codes");
  const size_t n = wholeNumber(info[1], "n", "INVALID_COUNT", 1, kMaxElements);
  const size_t dim = wholeNumber(info[2], "dim", "INVALID_DIM", 1, kMaxElements);
  const size_t B = (dim + 7) / 8;
  if (codes.length != n * B)
    fail("LENGTH_MISMATCH",
         "codes.length must be n x ceil(dim/8) = " + std::to_string(n * B) + ", got " + std::to_string(codes.length));
  CallOptions o = callOptions(optionsArg(info, 3));
  const Napi::Value out = outArg(info, 4);
  return runJob(env, std::make_unique<MajorityJob>(o.table, std::move(codes), n, dim, out), o.async);
}

}  // namespace

void registerMajority(Napi::Env env, Napi::Object exports) {
  exports.Set("majority", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, majority); }));
}

}  // namespace dso
