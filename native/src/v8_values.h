// The few places N-API cannot reach use V8's API: the backing store of an
// ArrayBuffer (the memory itself, which outlives a detach or a transfer of
// the buffer) and SharedArrayBuffers over external memory. napi_value is a
// v8::Local's slot, as Node's own N-API glue converts it.
#pragma once
#include <napi.h>
#include <v8.h>

#include <cstring>

namespace dso {

static_assert(sizeof(napi_value) == sizeof(v8::Local<v8::Value>), "napi_value must be a v8::Local");

inline v8::Local<v8::Value> toV8(napi_value v) {
  v8::Local<v8::Value> local;
  std::memcpy(static_cast<void*>(&local), &v, sizeof(v));
  return local;
}

inline Napi::Value toNapi(Napi::Env env, v8::Local<v8::Value> v) {
  return Napi::Value(env, reinterpret_cast<napi_value>(*v));
}

}  // namespace dso
