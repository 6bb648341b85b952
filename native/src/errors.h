// Typed errors across the boundary: every failure reaches JavaScript as a
// DsoError (the class the TS layer registers) with a stable `code`.
#pragma once
#include <napi.h>

#include <new>
#include <string>

namespace dso {

// Thrown inside the binding; converted to a JS DsoError at the entry point.
struct Failure {
  std::string code;
  std::string message;
};

[[noreturn]] void fail(const std::string& code, const std::string& message);

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message);

// Registers the DsoError constructor for this addon instance (per thread).
Napi::Value setErrorClass(const Napi::CallbackInfo& info);

// Runs a binding body, turning Failure (and a failed allocation, which
// node-addon-api would let escape as a C++ exception and abort) into a thrown
// DsoError.
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F body) {
  try {
    return body(info);
  } catch (const Failure& f) {
    throw makeError(info.Env(), f.code, f.message);
  } catch (const std::bad_alloc&) {
    throw makeError(info.Env(), "OUT_OF_MEMORY", "could not allocate memory for the call");
  }
}

struct AddonData {
  Napi::FunctionReference errorClass;
};

}  // namespace dso
