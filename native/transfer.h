// Host to device without stalling either side. A host tensor bound for a CUDA device is allocated in pinned
// (page-locked) memory, so its copy to the device is queued on the stream and returns at once: the worker
// never waits for the kernels already queued, and the GPU never waits for a pageable staging copy. On the
// CPU both are plain tensors and the copy is a no-op.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

namespace ulmfit {

// An uninitialised CPU tensor, pinned when it is bound for a CUDA device.
at::Tensor HostTensor(at::IntArrayRef shape, at::ScalarType dtype, const c10::Device& bound);

// `host` on `device`, copied without blocking (host tensors from HostTensor; the tensor itself on the CPU).
at::Tensor ToDevice(const at::Tensor& host, const c10::Device& device);

// A vector of host integers as an int64 tensor on `device`, copied without blocking.
at::Tensor Int64OnDevice(const std::vector<int64_t>& values, const c10::Device& device);

}  // namespace ulmfit
