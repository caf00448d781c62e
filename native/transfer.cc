#include "transfer.h"

#include <ATen/ops/empty.h>

#include <cstring>

namespace ulmfit {

at::Tensor HostTensor(at::IntArrayRef shape, at::ScalarType dtype, const c10::Device& bound) {
  return at::empty(shape, at::TensorOptions().dtype(dtype).pinned_memory(bound.is_cuda()));
}

at::Tensor ToDevice(const at::Tensor& host, const c10::Device& device) { return host.to(device, /*non_blocking=*/true); }

at::Tensor Int64OnDevice(const std::vector<int64_t>& values, const c10::Device& device) {
  at::Tensor host = HostTensor({static_cast<int64_t>(values.size())}, at::kLong, device);
  if (!values.empty()) std::memcpy(host.data_ptr<int64_t>(), values.data(), sizeof(int64_t) * values.size());
  return ToDevice(host, device);
}

}  // namespace ulmfit
