#include "tensor_js.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <c10/util/StringUtil.h>

#include <cstring>
#include <limits>
#include <vector>

#include "args.h"
#include "errors.h"

namespace ulmfit {

Napi::Object TensorToJs(Napi::Env env, const at::Tensor& t) {
  at::Tensor host = t.detach().to(at::kCPU, at::kFloat).contiguous();
  Napi::Float32Array data = Napi::Float32Array::New(env, host.numel());
  if (host.numel() > 0) std::memcpy(data.Data(), host.data_ptr<float>(), sizeof(float) * host.numel());
  Napi::Array shape = Napi::Array::New(env, host.dim());
  for (int64_t i = 0; i < host.dim(); i++) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, host.size(i)));
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", data);
  out.Set("shape", shape);
  return out;
}

at::Tensor TensorFromArray(const Napi::Float32Array& data, const std::vector<int64_t>& shape, const std::string& name) {
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d != 0 && numel > std::numeric_limits<int64_t>::max() / d) {
      throw ArgumentError(name + " shape " + c10::str(at::IntArrayRef(shape)) + " has too many elements");
    }
    numel *= d;
  }
  if (numel != static_cast<int64_t>(data.ElementLength())) {
    throw ArgumentError(name + " has " + std::to_string(data.ElementLength()) + " values but its shape " +
                        c10::str(at::IntArrayRef(shape)) + " needs " + std::to_string(numel));
  }
  at::Tensor t = at::empty(shape, at::kFloat);
  if (numel > 0) std::memcpy(t.data_ptr<float>(), data.Data(), sizeof(float) * numel);
  return t;
}

at::Tensor TensorFromJs(const Napi::Value& value, const std::string& name) {
  const Napi::Value data = value.IsObject() ? value.As<Napi::Object>().Get("data") : Napi::Value();
  if (data.IsEmpty() || !data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw ArgumentError(name + " must be { data: Float32Array, shape: number[] }");
  }
  return TensorFromArray(data.As<Napi::Float32Array>(), ShapeFrom(value.As<Napi::Object>().Get("shape"), name + ".shape"), name);
}

void CopyInto(const at::Tensor& target, const Napi::Float32Array& data, const std::string& what) {
  if (static_cast<int64_t>(data.ElementLength()) != target.numel()) {
    throw ArgumentError(what + ": " + std::to_string(data.ElementLength()) + " values given, the tensor " + c10::str(target.sizes()) +
                        " holds " + std::to_string(target.numel()));
  }
  at::NoGradGuard noGrad;
  target.copy_(at::from_blob(const_cast<float*>(data.Data()), target.sizes(), at::kFloat));
}

}  // namespace ulmfit
