#include "errors.h"

namespace dso {

void fail(const std::string& code, const std::string& message) { throw Failure{code, message}; }

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data != nullptr && !data->errorClass.IsEmpty()) {
    Napi::Object err = data->errorClass.New({Napi::String::New(env, code), Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.Set("name", Napi::String::New(env, "DsoError"));
  return err;
}

Napi::Value setErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction())
    throw makeError(env, "INVALID_ARGUMENT", "setErrorClass expects a constructor function");
  AddonData* data = env.GetInstanceData<AddonData>();
  data->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

}  // namespace dso
