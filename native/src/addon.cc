// Module entry. Context-aware (NAPI_MODULE_INIT): every worker thread that
// loads the addon gets its own instance data; kernels hold no global state.
#include <napi.h>

#include "bindings.h"
#include "errors.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<dso::AddonData>(new dso::AddonData());
  exports.Set("setErrorClass", Napi::Function::New(env, dso::setErrorClass));
  dso::registerPack(env, exports);
  dso::registerHamming(env, exports);
  dso::registerMedian(env, exports);
  dso::registerMajority(env, exports);
  dso::registerProbe(env, exports);
  dso::registerCosine(env, exports);
  dso::registerMmap(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(dso_native, init)
