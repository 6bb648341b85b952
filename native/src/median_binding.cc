// median(rows, n, opts, out?: Float32Array(d)) -> Float32Array(d)
// trimmedMean(rows, n, trim, opts, out?: Float32Array(d)) -> Float32Array(d)
#include <cmath>
#include <string>

#include "args.h"
#include "bindings.h"
#include "job.h"

namespace dso {

namespace {

class ColumnJob : public Job {
 public:
  ColumnJob(const KernelTable* t, View<float> rows, size_t n, size_t d, bool trimmed, size_t cut,
            const Napi::Value& out)
      : table_(t), rows_(std::move(rows)), n_(n), d_(d), trimmed_(trimmed), cut_(cut) {
    out_.provide(out, d, "out");
    out_.apart(rows_.data, rows_.length, "out", "rows");
  }
  void execute() override {
    if (d_ == 0) return;
    const KernelResult r = trimmed_ ? table_->trimmedMean(rows_.data, n_, d_, cut_, out_.data())
                                    : table_->median(rows_.data, n_, d_, out_.data());
    check(r, "rows holds a NaN or infinite value at flat index ");
  }
  Napi::Value result(Napi::Env env) override { return out_.value(env); }

 private:
  const KernelTable* table_;
  View<float> rows_;
  size_t n_, d_;
  bool trimmed_;
  size_t cut_;
  Output<float> out_;
};

size_t columnsOf(const View<float>& rows, size_t n) {
  if (rows.length % n != 0)
    fail("LENGTH_MISMATCH",
         "rows.length (" + std::to_string(rows.length) + ") is not a multiple of n (" + std::to_string(n) + ")");
  return rows.length / n;
}

Napi::Value median(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<float> rows = floatArray(info[0], "rows");
  const size_t n = wholeNumber(info[1], "n", "INVALID_COUNT", 1, kMaxElements);
  const size_t d = columnsOf(rows, n);
  CallOptions o = callOptions(optionsArg(info, 2));
  const Napi::Value out = outArg(info, 3);
  return runJob(env, std::make_unique<ColumnJob>(o.table, std::move(rows), n, d, false, 0, out), o.async);
}

Napi::Value trimmedMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<float> rows = floatArray(info[0], "rows");
  const size_t n = wholeNumber(info[1], "n", "INVALID_COUNT", 1, kMaxElements);
  const size_t d = columnsOf(rows, n);
  if (!info[2].IsNumber()) fail("INVALID_TRIM", "trim must be a number in [0, 0.5)");
  const double trim = info[2].As<Napi::Number>().DoubleValue();
  if (!(trim >= 0 && trim < 0.5)) fail("INVALID_TRIM", "trim must be in [0, 0.5), got " + std::to_string(trim));
  // scipy.stats.trim_mean: int(proportiontocut * n) values cut from each end.
  const size_t cut = static_cast<size_t>(std::floor(trim * static_cast<double>(n)));
  CallOptions o = callOptions(optionsArg(info, 3));
  const Napi::Value out = outArg(info, 4);
  return runJob(env, std::make_unique<ColumnJob>(o.table, std::move(rows), n, d, true, cut, out), o.async);
}

}  // namespace

void registerMedian(Napi::Env env, Napi::Object exports) {
  exports.Set("median", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, median); }));
  exports.Set("trimmedMean",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, trimmedMean); }));
}

}  // namespace dso
