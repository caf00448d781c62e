// Tensors to and from JavaScript: float tensors leave as { data: Float32Array, shape: number[] } copies.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

namespace ulmfit {

// A CPU float32 copy of t (detached), as { data, shape }.
Napi::Object TensorToJs(Napi::Env env, const at::Tensor& t);

}  // namespace ulmfit
