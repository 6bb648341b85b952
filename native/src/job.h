// One kernel call, run either on the calling thread or on the libuv pool so
// large inputs leave the event loop. Outputs are allocated on the JS thread
// before the work starts and handed to JS only if the kernel succeeds: a
// failed call changes nothing.
#pragma once
#include <napi.h>

#include <cstdlib>
#include <memory>
#include <string>

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

// An output array in C++ heap memory until a successful call hands it to JS
// as an ArrayBuffer. Zeroed, so no byte a kernel skipped can leak old heap
// contents; an allocation that fails is OUT_OF_MEMORY, where V8's own
// ArrayBuffer allocation would end the process.
template <class T>
class Output {
 public:
  void allocate(size_t n) {
    length_ = n;
    if (n == 0) return;
    data_.reset(static_cast<T*>(std::calloc(n, sizeof(T))));
    if (!data_) fail("OUT_OF_MEMORY", "could not allocate " + std::to_string(n * sizeof(T)) + " bytes for the result");
  }
  T* data() const { return data_.get(); }
  size_t length() const { return length_; }

  // The memory as an ArrayBuffer that frees it when collected.
  Napi::ArrayBuffer take(Napi::Env env) {
    if (!data_) return Napi::ArrayBuffer::New(env, 0);
    napi_value ab;
    if (napi_create_external_arraybuffer(
            env, data_.get(), length_ * sizeof(T), [](napi_env, void* p, void*) { std::free(p); }, nullptr, &ab) !=
        napi_ok)
      fail("OUT_OF_MEMORY", "could not wrap the result in an ArrayBuffer");
    data_.release();
    return Napi::ArrayBuffer(env, ab);
  }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t length_ = 0;
};

Napi::Value runJob(Napi::Env env, std::unique_ptr<Job> job, bool async);

}  // namespace dso
