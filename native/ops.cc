#include "ops.h"

// Per-operator headers instead of <ATen/ATen.h>: a fraction of the compile time.
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/randn.h>

#include <chrono>
#include <string>
#include <vector>

#include "args.h"
#include "async.h"
#include "device.h"
#include "errors.h"
#include "runtime.h"
#include "tensor_js.h"

namespace ulmfit {

namespace {

struct Timing {
  double seconds;
  double gflops;
  std::string device;
  int threads;
};

}  // namespace

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  at::Tensor a = TensorFromArray(ArgFloat32Array(info, 0, "a"), ArgShape(info, 1, "aShape"), "a");
  at::Tensor b = TensorFromArray(ArgFloat32Array(info, 2, "b"), ArgShape(info, 3, "bShape"), "b");
  const at::Device device = ParseDevice(ArgString(info, 4, "device"));
  return Task<at::Tensor>::Run(
      info.Env(), "ulmfit.matmul", SettingsOf(info.Env()), [a, b, device]() { return at::matmul(a.to(device), b.to(device)).to(at::kCPU); },
      [](Napi::Env env, at::Tensor& result) -> Napi::Value { return TensorToJs(env, result); });
}

Napi::Value Randn(const Napi::CallbackInfo& info) {
  const std::vector<int64_t> shape = ArgShape(info, 0, "shape");
  const at::Device device = ParseDevice(ArgString(info, 1, "device"));
  return Task<at::Tensor>::Run(
      info.Env(), "ulmfit.randn", SettingsOf(info.Env()),
      [shape, device]() { return at::randn(shape, at::TensorOptions().dtype(at::kFloat).device(device)).to(at::kCPU); },
      [](Napi::Env env, at::Tensor& result) -> Napi::Value { return TensorToJs(env, result); });
}

Napi::Value BenchmarkMatmul(const Napi::CallbackInfo& info) {
  const int size = ArgInt(info, 0, "size", 1, 16384);
  const int iterations = ArgInt(info, 1, "iterations", 1, 1000000);
  const at::Device device = ParseDevice(ArgString(info, 2, "device"));
  return Task<Timing>::Run(
      info.Env(), "ulmfit.benchmarkMatmul", SettingsOf(info.Env()),
      [size, iterations, device]() {
        const auto options = at::TensorOptions().dtype(at::kFloat).device(device);
        at::Tensor a = at::randn({size, size}, options);
        at::Tensor b = at::randn({size, size}, options);
        at::Tensor c = at::matmul(a, b);  // warm-up: first-call allocations and kernel selection
        c.sum().item<float>();
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; i++) at::matmul_out(c, a, b);
        c.sum().item<float>();  // waits for queued device work
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double flops = 2.0 * size * size * static_cast<double>(size) * iterations;
        return Timing{seconds, flops / seconds / 1e9, device.str(), at::get_num_threads()};
      },
      [](Napi::Env env, Timing& t) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("seconds", t.seconds);
        out.Set("gflops", t.gflops);
        out.Set("device", t.device);
        out.Set("threads", t.threads);
        return out;
      });
}

}  // namespace ulmfit
