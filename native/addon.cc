// The addon's entry point: one context-aware module instance per Node environment (main thread or Worker).
#include <napi.h>
#include <torch/version.h>

#include "classifier.h"
#include "device.h"
#include "errors.h"
#include "language_model.h"
#include "mapped_file.h"
#include "ops.h"
#include "process_group.h"
#include "runtime.h"

namespace ulmfit {

namespace {

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New(env, Guarded<Fn>, name));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<AddonState>(new AddonState());
  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  exports.Set("torchRelease", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR)));
  Export<Info>(env, exports, "info");
  Export<SetSeed>(env, exports, "setSeed");
  Export<GetRngState>(env, exports, "getRngState");
  Export<SetRngState>(env, exports, "setRngState");
  Export<SetNumThreads>(env, exports, "setNumThreads");
  Export<GetNumThreads>(env, exports, "getNumThreads");
  Export<SetAllowTf32>(env, exports, "setAllowTf32");
  Export<CheckDevice>(env, exports, "checkDevice");
  Export<Matmul>(env, exports, "matmul");
  Export<Randn>(env, exports, "randn");
  Export<BenchmarkMatmul>(env, exports, "benchmarkMatmul");
  Export<MapFile>(env, exports, "mapFile");
  exports.Set("LanguageModel", DefineLanguageModel(env));
  exports.Set("Classifier", DefineClassifier(env));
  exports.Set("ProcessGroup", DefineProcessGroup(env));
  return exports;
}

}  // namespace

}  // namespace ulmfit

static Napi::Object InitUlmfit(Napi::Env env, Napi::Object exports) { return ulmfit::Init(env, exports); }

NODE_API_MODULE(ulmfit, InitUlmfit)
