#include "runtime.h"

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/ops/empty.h>
#include <c10/core/GradMode.h>
#include <torch/version.h>

#include "args.h"
#include "errors.h"
#include "nccl_backend.h"

namespace ulmfit {

AddonState& StateOf(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

ThreadSettings SettingsOf(Napi::Env env, bool gradEnabled) { return ThreadSettings{StateOf(env).numThreads.load(), gradEnabled}; }

void ThreadSettings::Apply() const {
  at::init_num_threads();
  if (numThreads > 0 && at::get_num_threads() != numThreads) at::set_num_threads(numThreads);
  c10::GradMode::set_enabled(gradEnabled);
}

namespace {

// cuDNN's version as "major.minor.patch" from its integer form (9.x and later: major*10000 + minor*100 + patch).
std::string CudnnVersionString(long v) {
  const long major = v >= 90000 ? v / 10000 : v / 1000;
  const long minor = v >= 90000 ? (v / 100) % 100 : (v / 100) % 10;
  const long patch = v % 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::string CudaVersionString(long v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

}  // namespace

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);

  Napi::Object torch = Napi::Object::New(env);
  torch.Set("builtWith", TORCH_VERSION);
  torch.Set("cxx11Abi", Napi::Number::New(env, _GLIBCXX_USE_CXX11_ABI));
  torch.Set("parallel", at::get_parallel_info());
  out.Set("torch", torch);

  const auto& cuda = at::detail::getCUDAHooks();
  Napi::Object c = Napi::Object::New(env);
  const bool built = cuda.isBuilt();
  c.Set("built", built);
  c.Set("available", built && cuda.hasCUDA());
  c.Set("deviceCount", Napi::Number::New(env, built && cuda.hasCUDA() ? cuda.getNumGPUs() : 0));
  c.Set("runtime", built && cuda.hasCUDART() ? Napi::Value(Napi::String::New(env, CudaVersionString(cuda.versionCUDART()))) : env.Null());
  c.Set("cudnn", built && cuda.hasCuDNN() ? Napi::Value(Napi::String::New(env, CudnnVersionString(cuda.versionCuDNN()))) : env.Null());
  Napi::Object tf32 = Napi::Object::New(env);
  tf32.Set("matmul", at::globalContext().allowTF32CuBLAS());
  tf32.Set("cudnn", at::globalContext().allowTF32CuDNN());
  c.Set("tf32", tf32);
  out.Set("cuda", c);

  Napi::Object threads = Napi::Object::New(env);
  const int chosen = StateOf(env).numThreads.load();
  threads.Set("intraOp", Napi::Number::New(env, chosen > 0 ? chosen : at::get_num_threads()));
  threads.Set("interOp", Napi::Number::New(env, static_cast<double>(at::get_num_interop_threads())));
  out.Set("threads", threads);

  Napi::Object backends = Napi::Object::New(env);
  backends.Set("openmp", at::hasOpenMP());
  backends.Set("mkl", at::hasMKL());
  backends.Set("mkldnn", at::hasMKLDNN());
  backends.Set("lapack", at::hasLAPACK());
  out.Set("backends", backends);
  // Process groups for data-parallel training: built where gloo's headers were found (scripts/gloo.js).
  Napi::Object distributed = Napi::Object::New(env);
#ifdef USE_C10D_GLOO
  distributed.Set("gloo", true);
#else
  distributed.Set("gloo", false);
#endif
  distributed.Set("nccl", NcclBuilt());  // between GPUs: a CUDA build with NCCL's headers (scripts/nccl.js)
  out.Set("distributed", distributed);
  return out;
}

Napi::Value SetSeed(const Napi::CallbackInfo& info) {
  const uint64_t seed = ArgSeed(info, 0, "seed");
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  const auto& cuda = at::detail::getCUDAHooks();
  if (cuda.isBuilt() && cuda.hasCUDA()) {
    for (int i = 0; i < cuda.getNumGPUs(); i++) {
      auto gen = cuda.getDefaultGenerator(static_cast<c10::DeviceIndex>(i));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
  }
  return info.Env().Undefined();
}

namespace {

// Every default generator: the CPU's, then each CUDA device's.
std::vector<at::Generator> DefaultGenerators() {
  std::vector<at::Generator> gens{at::detail::getDefaultCPUGenerator()};
  const auto& cuda = at::detail::getCUDAHooks();
  if (cuda.isBuilt() && cuda.hasCUDA()) {
    for (int i = 0; i < cuda.getNumGPUs(); i++) gens.push_back(cuda.getDefaultGenerator(static_cast<c10::DeviceIndex>(i)));
  }
  return gens;
}

}  // namespace

Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<at::Generator> gens = DefaultGenerators();
  Napi::Array out = Napi::Array::New(env, gens.size());
  for (size_t i = 0; i < gens.size(); i++) {
    at::Generator gen = gens[i];
    at::Tensor state;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      state = gen.get_state();
    }
    Napi::Uint8Array bytes = Napi::Uint8Array::New(env, static_cast<size_t>(state.numel()));
    std::memcpy(bytes.Data(), state.data_ptr<uint8_t>(), bytes.ByteLength());
    out.Set(static_cast<uint32_t>(i), bytes);
  }
  return out;
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArray()) throw ArgumentError("state must be an array of Uint8Array (from getRngState)");
  const Napi::Array given = info[0].As<Napi::Array>();
  const std::vector<at::Generator> gens = DefaultGenerators();
  if (given.Length() != gens.size()) {
    throw ArgumentError("state holds " + std::to_string(given.Length()) + " generators, this process has " + std::to_string(gens.size()) +
                        " (the CPU's and one per CUDA device)");
  }
  for (uint32_t i = 0; i < given.Length(); i++) {
    const Napi::Value v = given.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw ArgumentError("state[" + std::to_string(i) + "] must be a Uint8Array");
    }
    const Napi::Uint8Array bytes = v.As<Napi::Uint8Array>();
    at::Generator gen = gens[i];
    at::Tensor state = at::empty({static_cast<int64_t>(bytes.ElementLength())}, at::kByte);
    std::memcpy(state.data_ptr<uint8_t>(), bytes.Data(), bytes.ByteLength());
    std::lock_guard<std::mutex> lock(gen.mutex());
    try {
      gen.set_state(state);
    } catch (const c10::Error& e) {
      throw ArgumentError("state[" + std::to_string(i) + "] is not a state of this generator: " + e.what_without_backtrace());
    }
  }
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int n = ArgInt(info, 0, "numThreads", 1, 4096);
  StateOf(info.Env()).numThreads.store(n);
  at::set_num_threads(n);  // this thread too, for synchronous calls
  return info.Env().Undefined();
}

Napi::Value SetAllowTf32(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBoolean()) throw ArgumentError("allow must be a boolean");
  const bool allow = info[0].As<Napi::Boolean>().Value();
  at::globalContext().setAllowTF32CuBLAS(allow);
  at::globalContext().setAllowTF32CuDNN(allow);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  const int chosen = StateOf(info.Env()).numThreads.load();
  return Napi::Number::New(info.Env(), chosen > 0 ? chosen : at::get_num_threads());
}

}  // namespace ulmfit
