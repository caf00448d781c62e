// Tensors to and from JavaScript: float tensors leave as { data: Float32Array, shape: number[] } copies.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <string>

namespace ulmfit {

// A CPU float32 copy of t (detached), as { data, shape }.
Napi::Object TensorToJs(Napi::Env env, const at::Tensor& t);

// A CPU float32 tensor copied from { data: Float32Array, shape: number[] }; `what` names it in errors.
at::Tensor TensorFromJs(const Napi::Value& value, const std::string& what);

}  // namespace ulmfit
