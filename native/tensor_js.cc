#include "tensor_js.h"

#include <cstring>

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

}  // namespace ulmfit
