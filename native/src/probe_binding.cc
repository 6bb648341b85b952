// streamRead(bytes, opts) -> number: the bandwidth probe the benchmarks use.
// cpuInfo() -> { compiled, available, best, features }
#include "args.h"
#include "bindings.h"

namespace dso {

namespace {

Napi::Value streamRead(const Napi::CallbackInfo& info) {
  View<uint8_t> data = byteArray(info[0], "data");
  CallOptions o = callOptions(optionsArg(info, 1));
  const uint64_t sum = o.table->streamRead(data.data, data.length);
  return Napi::Number::New(info.Env(), static_cast<double>(sum & ((uint64_t(1) << 53) - 1)));
}

Napi::Array toArray(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, v[i]));
  return a;
}

Napi::Value cpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& f = cpuFeatures();
  Napi::Object features = Napi::Object::New(env);
  features.Set("avx2", f.avx2);
  features.Set("avx512", f.avx512);
  features.Set("vpopcntdq", f.vpopcntdq);
  features.Set("neon", f.neon);
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", toArray(env, compiledTiers()));
  o.Set("available", toArray(env, availableTiers()));
  o.Set("best", bestTier());
  o.Set("features", features);
  return o;
}

}  // namespace

void registerProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("streamRead", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, streamRead); }));
  exports.Set("cpuInfo", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, cpuInfo); }));
}

}  // namespace dso
