// Argument checks: the native side never trusts the TS side. Every typed
// array is checked for type and detachment, every count for integrality and
// range, every length against the dims it must match.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "kernels/dispatch.h"
#include "v8_values.h"

namespace dso {

// Largest element count an output typed array may need; keeps every index
// and every Int32 id representable.
constexpr uint64_t kMaxElements = (uint64_t(1) << 31) - 1;

// Most results one top-k call may return (nq x k ids and as many distances,
// 1 GiB): the result is nq x k whatever n is, so this bounds k too.
// src/core/checks.ts holds the same bound.
constexpr uint64_t kMaxResults = uint64_t(1) << 27;

// An input a kernel reads. `store` holds the memory itself, not the JS
// object: a buffer transferred, detached or collected while an async call
// reads it stays allocated until the call ends. A resizable ArrayBuffer can
// shrink in place (its pages are then decommitted under a running kernel),
// so its bytes are copied instead.
template <class T>
struct View {
  T* data = nullptr;
  size_t length = 0;
  std::shared_ptr<v8::BackingStore> store;
  std::vector<T> copy;
};

// The memory behind an ArrayBuffer or a SharedArrayBuffer.
inline std::shared_ptr<v8::BackingStore> backingStore(napi_value buffer) {
  const v8::Local<v8::Value> b = toV8(buffer);
  return b->IsSharedArrayBuffer() ? b.As<v8::SharedArrayBuffer>()->GetBackingStore()
                                  : b.As<v8::ArrayBuffer>()->GetBackingStore();
}

// Works for views of ArrayBuffers and SharedArrayBuffers alike (the worker
// pool shares codes through SharedArrayBuffers); only the former can be detached.
template <class T, napi_typedarray_type Type>
View<T> typedArray(const Napi::Value& v, const char* name, const char* expected) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != Type)
    fail("INVALID_ARGUMENT", std::string(name) + " must be a " + expected);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, &buffer, &offset) != napi_ok)
    fail("INVALID_ARGUMENT", std::string(name) + " could not be read as a " + expected);
  const Napi::Value buf(v.Env(), buffer);
  if (buf.IsArrayBuffer() && buf.As<Napi::ArrayBuffer>().IsDetached())
    fail("DETACHED_BUFFER", std::string(name) + " is backed by a detached ArrayBuffer");
  View<T> out;
  out.length = length;
  out.data = length ? static_cast<T*>(data) : nullptr;
  if (length && (reinterpret_cast<uintptr_t>(out.data) % alignof(T)) != 0)
    fail("INVALID_ARGUMENT", std::string(name) + " is not aligned to its element size");
  out.store = backingStore(buffer);
  // A growable SharedArrayBuffer only grows: its memory stays where it is.
  if (out.store->IsResizableByUserJavaScript() && !out.store->IsShared()) {
    out.copy.assign(out.data, out.data + length);
    out.data = length ? out.copy.data() : nullptr;
  }
  return out;
}

// Makes `v` read from a private copy. For inputs that are checked and then
// used (row indices, scales, a baseline): the caller, or another thread
// through a SharedArrayBuffer, can change the array after the check, so the
// kernel must read what was checked.
template <class T>
View<T> privateCopy(View<T> v) {
  if (v.copy.empty() && v.length) {
    v.copy.assign(v.data, v.data + v.length);
    v.data = v.copy.data();
  }
  return v;
}

inline View<float> floatArray(const Napi::Value& v, const char* name) {
  return typedArray<float, napi_float32_array>(v, name, "Float32Array");
}
inline View<uint8_t> byteArray(const Napi::Value& v, const char* name) {
  return typedArray<uint8_t, napi_uint8_array>(v, name, "Uint8Array");
}
inline View<int32_t> int32Array(const Napi::Value& v, const char* name) {
  return typedArray<int32_t, napi_int32_array>(v, name, "Int32Array");
}

template <class T>
View<T> arrayOf(const Napi::Value& v, const char* name);
template <>
inline View<float> arrayOf<float>(const Napi::Value& v, const char* name) {
  return floatArray(v, name);
}
template <>
inline View<uint8_t> arrayOf<uint8_t>(const Napi::Value& v, const char* name) {
  return byteArray(v, name);
}
template <>
inline View<int32_t> arrayOf<int32_t>(const Napi::Value& v, const char* name) {
  return int32Array(v, name);
}

// A caller's output must not share memory with an input or another output:
// the kernels read their inputs while they write.
template <class A, class B>
void disjoint(const A* a, size_t aLength, const char* aName, const B* b, size_t bLength, const char* bName) {
  if (aLength == 0 || bLength == 0) return;
  const auto a0 = reinterpret_cast<uintptr_t>(a), a1 = a0 + aLength * sizeof(A);
  const auto b0 = reinterpret_cast<uintptr_t>(b), b1 = b0 + bLength * sizeof(B);
  if (a0 < b1 && b0 < a1) fail("INVALID_ARGUMENT", std::string(aName) + " overlaps " + bName);
}

// The optional `out` argument: undefined, or an object (or typed array) the caller owns.
inline Napi::Value outArg(const Napi::CallbackInfo& info, size_t index) {
  const Napi::Value v = info.Length() > index ? info[index] : info.Env().Undefined();
  if (!v.IsUndefined() && !v.IsObject()) fail("INVALID_ARGUMENT", "out must be an object");
  return v;
}

// Field `key` of an out object, which must be present.
inline Napi::Value outField(const Napi::Value& out, const char* key) {
  const Napi::Value v = out.As<Napi::Object>().Get(key);
  if (v.IsUndefined()) fail("INVALID_ARGUMENT", std::string("out.") + key + " is missing");
  return v;
}

// A whole number in [min, max], else `code`.
inline uint64_t wholeNumber(const Napi::Value& v, const char* name, const char* code, uint64_t min, uint64_t max) {
  if (!v.IsNumber()) fail(code, std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) || d > static_cast<double>(max))
    fail(code, std::string(name) + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                   "], got " + Napi::Number::New(v.Env(), d).ToString().Utf8Value());
  return static_cast<uint64_t>(d);
}

struct CallOptions {
  const KernelTable* table = nullptr;
  std::string isa;
  bool async = false;
};

// opts: { isa?: 'auto' | tier, async?: boolean, vpopcntdq?: boolean }
inline CallOptions callOptions(const Napi::Value& v) {
  CallOptions o;
  std::string isa = "auto";
  bool vpop = true;
  if (v.IsObject()) {
    Napi::Object obj = v.As<Napi::Object>();
    if (obj.Has("isa") && !obj.Get("isa").IsUndefined()) {
      if (!obj.Get("isa").IsString()) fail("INVALID_ARGUMENT", "isa must be a string");
      isa = obj.Get("isa").As<Napi::String>().Utf8Value();
    }
    o.async = obj.Has("async") && obj.Get("async").ToBoolean().Value();
    if (obj.Has("vpopcntdq") && !obj.Get("vpopcntdq").IsUndefined()) vpop = obj.Get("vpopcntdq").ToBoolean().Value();
  } else if (!v.IsUndefined()) {
    fail("INVALID_ARGUMENT", "options must be an object");
  }
  if (isa == "auto") isa = bestTier();
  bool known = false;
  for (const auto& t : compiledTiers()) known = known || t == isa;
  if (!known) fail("ISA_UNAVAILABLE", "ISA tier '" + isa + "' is not compiled into this build");
  o.table = kernelTable(isa, vpop);
  if (o.table == nullptr) fail("ISA_UNAVAILABLE", "ISA tier '" + isa + "' is not supported by this CPU/OS");
  o.isa = isa;
  return o;
}

inline Napi::Value optionsArg(const Napi::CallbackInfo& info, size_t index) {
  return info.Length() > index ? info[index] : info.Env().Undefined();
}

}  // namespace dso
