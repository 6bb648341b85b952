// One kernel call, run either on the calling thread or on the libuv pool
// (Napi::AsyncWorker) so large inputs leave the event loop. Outputs are
// allocated as ArrayBuffers on the JS thread before the work starts and
// handed out only if the kernel succeeds: a failed call changes nothing.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

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

// An output typed array allocated up front; `data` stays valid while `ref` lives.
template <class T>
struct Output {
  Napi::Reference<Napi::ArrayBuffer> ref;
  T* data = nullptr;
  size_t length = 0;

  void allocate(Napi::Env env, size_t n) {
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, n * sizeof(T));
    data = static_cast<T*>(ab.Data());
    length = n;
    ref = Napi::Persistent(ab);
  }
};

Napi::Value runJob(Napi::Env env, std::unique_ptr<Job> job, bool async);

}  // namespace dso
