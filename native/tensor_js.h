// Tensors to and from JavaScript: float tensors leave as { data: Float32Array, shape: number[] } copies.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace ulmfit {

// A CPU float32 copy of t (detached), as { data, shape }.
Napi::Object TensorToJs(Napi::Env env, const at::Tensor& t);

// A CPU float32 tensor copied from a Float32Array of the given shape (the copy is what a worker owns);
// `name` names it in errors.
at::Tensor TensorFromArray(const Napi::Float32Array& data, const std::vector<int64_t>& shape, const std::string& name);

// The same from { data: Float32Array, shape: number[] }.
at::Tensor TensorFromJs(const Napi::Value& value, const std::string& name);

// Copies a Float32Array into an existing tensor of the same element count (no autograd).
void CopyInto(const at::Tensor& target, const Napi::Float32Array& data, const std::string& what);

}  // namespace ulmfit
