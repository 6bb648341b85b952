// streamRead(bytes, opts) -> number: the bandwidth probe the benchmarks use.
// cpuInfo() -> { compiled, available, best, features }
#include "args.h"
#include "bindings.h"

namespace dso {

namespace {

// Checksums are 64-bit; fold them into the 53 bits a JS number holds exactly.
double fold53(uint64_t v) { return static_cast<double>((v ^ (v >> 53)) & ((uint64_t(1) << 53) - 1)); }

Napi::Value streamRead(const Napi::CallbackInfo& info) {
  View<uint8_t> data = byteArray(info[0], "data");
  CallOptions o = callOptions(optionsArg(info, 1));
  const uint64_t sum = o.table->streamRead(data.data, data.length);
  return Napi::Number::New(info.Env(), fold53(sum));
}

// xorPopcount(iterations, opts) -> { checksum, words }: words = XOR+popcount
// word operations performed, to be divided by the caller's elapsed time.
Napi::Value xorPopcount(const Napi::CallbackInfo& info) {
  const uint64_t iters = wholeNumber(info[0], "iterations", "INVALID_COUNT", 1, kMaxElements);
  CallOptions o = callOptions(optionsArg(info, 1));
  const uint64_t sum = o.table->xorPopcount(iters);
  Napi::Object r = Napi::Object::New(info.Env());
  r.Set("checksum", fold53(sum));
  r.Set("words", static_cast<double>(iters) * 8.0 * o.table->popcountLanes);
  return r;
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
  exports.Set("streamRead",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, streamRead); }));
  exports.Set("xorPopcount",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, xorPopcount); }));
  exports.Set("cpuInfo", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, cpuInfo); }));
}

}  // namespace dso
