#include "tensor_js.h"

#include <ATen/ops/empty.h>

#include <cstring>
#include <vector>

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

at::Tensor TensorFromJs(const Napi::Value& value, const std::string& what) {
  if (!value.IsObject()) throw ArgumentError(what + " must be { data: Float32Array, shape: number[] }");
  const Napi::Object o = value.As<Napi::Object>();
  const Napi::Value data = o.Get("data");
  const Napi::Value shape = o.Get("shape");
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || !shape.IsArray()) {
    throw ArgumentError(what + " must be { data: Float32Array, shape: number[] }");
  }
  std::vector<int64_t> sizes;
  int64_t numel = 1;
  const Napi::Array dims = shape.As<Napi::Array>();
  for (uint32_t i = 0; i < dims.Length(); i++) {
    const Napi::Value d = dims.Get(i);
    const double v = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 0 && v <= 1e12 && v == static_cast<double>(static_cast<int64_t>(v)))) {
      throw ArgumentError(what + ".shape[" + std::to_string(i) + "] must be a non-negative integer");
    }
    sizes.push_back(static_cast<int64_t>(v));
    numel *= sizes.back();
  }
  const Napi::Float32Array values = data.As<Napi::Float32Array>();
  if (static_cast<int64_t>(values.ElementLength()) != numel) {
    throw ArgumentError(what + " has " + std::to_string(values.ElementLength()) + " values, its shape needs " + std::to_string(numel));
  }
  at::Tensor t = at::empty(sizes, at::kFloat);
  if (numel > 0) std::memcpy(t.data_ptr<float>(), values.Data(), sizeof(float) * numel);
  return t;
}

}  // namespace ulmfit
