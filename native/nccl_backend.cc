#include "nccl_backend.h"

#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

namespace ulmfit {

c10::intrusive_ptr<c10d::Backend> ConnectNccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, int device,
                                              std::chrono::milliseconds timeout) {
  // NCCL's communicators belong to the device that is current when they are made.
  const c10::cuda::CUDAGuard onDevice(static_cast<c10::DeviceIndex>(device));
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("ulmfit/nccl", store), rank, size, options);
}

}  // namespace ulmfit
#endif
