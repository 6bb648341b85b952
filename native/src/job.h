// One kernel call, run either on the calling thread or on the libuv pool
// (Napi::AsyncWorker) so large inputs leave the event loop. Outputs are
// allocated as ArrayBuffers on the JS thread before the work starts and
// handed out only if the kernel succeeds: a failed call changes nothing.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

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

// An output typed array of n elements, made before the work starts: a new
// one, or the caller's (`given`, checked for type, length and detachment like
// any input), which spares the kernel the first-touch page faults of fresh
// memory when the caller reuses it. `data` stays valid while `ref` lives;
// value() is the array handed back.
template <class T>
struct Output {
  Napi::Reference<Napi::Value> ref;
  T* data = nullptr;
  size_t length = 0;

  void allocate(Napi::Env env, size_t n) {
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, n * sizeof(T));
    data = static_cast<T*>(ab.Data());
    length = n;
    ref = Napi::Persistent(Napi::Value(Napi::TypedArrayOf<T>::New(env, n, ab, 0)));
  }

  void provide(Napi::Env env, const Napi::Value& given, size_t n, const char* name) {
    if (given.IsUndefined()) return allocate(env, n);
    View<T> v = arrayOf<T>(given, name);
    if (v.length != n)
      fail("LENGTH_MISMATCH",
           std::string(name) + " must hold " + std::to_string(n) + " elements, got " + std::to_string(v.length));
    data = v.data;
    length = n;
    ref = Napi::Persistent(given);
  }

  Napi::Value value() const { return ref.Value(); }

  // Fails if this output shares memory with `input` (of `count` elements).
  template <class U>
  void apart(const U* input, size_t count, const char* outName, const char* inputName) const {
    disjoint(data, length, outName, input, count, inputName);
  }
};

Napi::Value runJob(Napi::Env env, std::unique_ptr<Job> job, bool async);

}  // namespace dso
