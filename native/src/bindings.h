// Each binding file registers its functions on the addon's exports.
#pragma once
#include <napi.h>

namespace dso {
void registerPack(Napi::Env env, Napi::Object exports);
void registerHamming(Napi::Env env, Napi::Object exports);
void registerMedian(Napi::Env env, Napi::Object exports);
void registerMajority(Napi::Env env, Napi::Object exports);
void registerProbe(Napi::Env env, Napi::Object exports);
void registerCosine(Napi::Env env, Napi::Object exports);
void registerMmap(Napi::Env env, Napi::Object exports);
}  // namespace dso
