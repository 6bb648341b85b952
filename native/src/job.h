// One kernel call, run either on the calling thread or on the libuv pool so
// large inputs leave the event loop. Outputs are made on the JS thread before
// the work starts (see Output).
#pragma once
#include <napi.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "args.h"
#include "errors.h"
#include "kernels/types.h"

namespace dso {

class Job {
 public:
  virtual ~Job() = default;
  // Runs the kernel; must not touch JS values. Sets failCode on failure.
  virtual void execute() = 0;
  // Builds the JS result on the JS thread after a successful execute().
  virtual Napi::Value result(Napi::Env env) = 0;

  std::string failCode;
  std::string failMessage;

  // Translates a kernel status into a failure; `nonFinite` prefixes the index
  // the kernel reports for a NaN or infinite value.
  void check(const KernelResult& r, const std::string& nonFinite) {
    if (r.status == Status::NonFinite) {
      failCode = "NON_FINITE";
      failMessage = nonFinite + std::to_string(r.where);
    } else if (r.status == Status::OutOfMemory) {
      failCode = "OUT_OF_MEMORY";
      failMessage = "the kernel could not allocate its working memory";
    }
  }
};

// An output array of n elements, made on the JS thread before the work
// starts.
// - By default it is C++ heap memory until a successful call hands it to JS
//   as an ArrayBuffer: zeroed, so no byte a kernel skipped can leak old heap
//   contents, and a failed allocation is OUT_OF_MEMORY, where V8's own
//   ArrayBuffer allocation would end the process. A failed call changes
//   nothing.
// - Or it is the caller's array (`out`), which spares the kernel the
//   first-touch page faults of fresh memory when the caller reuses it. It is
//   checked like any input and holds its backing store, so a buffer
//   transferred or collected during an async call still takes the kernel's
//   writes in live memory; the call then fails with DETACHED_BUFFER instead
//   of returning an array that no longer holds the result. A resizable
//   ArrayBuffer, which can shrink in place under the kernel, is refused.
//   After a failed call its contents are unspecified.
template <class T>
class Output {
 public:
  void allocate(size_t n) {
    length_ = n;
    if (n == 0) return;
    owned_.reset(static_cast<T*>(std::calloc(n, sizeof(T))));
    if (!owned_) fail("OUT_OF_MEMORY", "could not allocate " + std::to_string(n * sizeof(T)) + " bytes for the result");
    data_ = owned_.get();
  }

  // The caller's array `given`, or a new one where it is undefined.
  void provide(const Napi::Value& given, size_t n, const char* name) {
    if (given.IsUndefined()) return allocate(n);
    View<T> v = arrayOf<T>(given, name);
    if (v.store->IsResizableByUserJavaScript() && !v.store->IsShared())
      fail("INVALID_ARGUMENT",
           std::string(name) + " is backed by a resizable ArrayBuffer, which can shrink under the kernel");
    if (v.length != n)
      fail("LENGTH_MISMATCH",
           std::string(name) + " must hold " + std::to_string(n) + " elements, got " + std::to_string(v.length));
    name_ = name;
    data_ = v.data;
    length_ = n;
    store_ = std::move(v.store);
    given_ = Napi::Persistent(given);
  }

  T* data() const { return data_; }
  size_t length() const { return length_; }

  // Fails if this output shares memory with `input` (of `count` elements):
  // the kernels read their inputs while they write.
  template <class U>
  void apart(const U* input, size_t count, const char* outName, const char* inputName) const {
    disjoint(data_, length_, outName, input, count, inputName);
  }

  // The array handed back: the caller's, or the new memory as a typed array
  // whose ArrayBuffer frees it when collected.
  Napi::Value value(Napi::Env env) {
    if (!given_.IsEmpty()) {
      const Napi::Value a = given_.Value();
      if (a.As<Napi::TypedArray>().ArrayBuffer().IsDetached())
        fail("DETACHED_BUFFER", name_ + " was detached during the call; it does not hold the result");
      return a;
    }
    return Napi::TypedArrayOf<T>::New(env, length_, take(env), 0);
  }

 private:
  Napi::ArrayBuffer take(Napi::Env env) {
    if (!owned_) return Napi::ArrayBuffer::New(env, 0);
    napi_value ab;
    if (napi_create_external_arraybuffer(
            env, owned_.get(), length_ * sizeof(T), [](napi_env, void* p, void*) { std::free(p); }, nullptr, &ab) !=
        napi_ok)
      fail("OUT_OF_MEMORY", "could not wrap the result in an ArrayBuffer");
    owned_.release();
    return Napi::ArrayBuffer(env, ab);
  }

  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> owned_;
  T* data_ = nullptr;
  size_t length_ = 0;
  std::string name_;
  std::shared_ptr<v8::BackingStore> store_;
  Napi::Reference<Napi::Value> given_;
};

Napi::Value runJob(Napi::Env env, std::unique_ptr<Job> job, bool async);

}  // namespace dso
