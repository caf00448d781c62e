#include "device.h"

#include <regex>

#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include "args.h"
#include "errors.h"

namespace ulmfit {

c10::Device ParseDevice(const std::string& text) {
  static const std::regex pattern("^(cpu|cuda)(?::([0-9]{1,4}))?$");
  std::smatch m;
  if (!std::regex_match(text, m, pattern) || (m[1] == "cpu" && m[2].matched)) {
    throw ArgumentError("device must be \"cpu\", \"cuda\" or \"cuda:N\", got \"" + text + "\"");
  }
  if (m[1] == "cpu") return c10::Device(c10::kCPU);

  const auto& cuda = at::detail::getCUDAHooks();
  if (!cuda.isBuilt()) {
    throw ArgumentError("device \"" + text +
                        "\": this LibTorch (" TORCH_VERSION
                        ") was built without CUDA; install a CUDA build (npx ulmfit setup --variant cuda), "
                        "rebuild ulmfit against it, or use \"cpu\"");
  }
  const int count = cuda.hasCUDA() ? cuda.getNumGPUs() : 0;
  if (count == 0) {
    throw ArgumentError("device \"" + text +
                        "\": LibTorch has CUDA but sees no GPU (is the NVIDIA driver loaded? is CUDA_VISIBLE_DEVICES "
                        "empty?); use \"cpu\"");
  }
  if (!m[2].matched) return c10::Device(c10::kCUDA);  // the thread's current CUDA device, as in PyTorch
  const int index = std::stoi(m[2].str());
  if (index >= count) {
    throw ArgumentError("device \"" + text + "\": there " +
                        (count == 1 ? "is 1 CUDA device" : "are " + std::to_string(count) + " CUDA devices") + " (cuda:0" +
                        (count > 1 ? " to cuda:" + std::to_string(count - 1) : "") + ")");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

Napi::Value CheckDevice(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ParseDevice(ArgString(info, 0, "device")).str());
}

}  // namespace ulmfit
