// c10d's NCCL backend between GPUs, in a file of its own: only it includes NCCL's and CUDA's headers, which a
// build has only where scripts/nccl.js found them (USE_C10D_NCCL); everywhere else NcclBuilt() is false.
#pragma once

#include <chrono>

#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#endif

namespace ulmfit {

constexpr bool NcclBuilt() {
#ifdef USE_C10D_NCCL
  return true;
#else
  return false;
#endif
}

#ifdef USE_C10D_NCCL
// The NCCL backend of `size` ranks over `store`, this rank on CUDA device `device`.
c10::intrusive_ptr<c10d::Backend> ConnectNccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, int device,
                                              std::chrono::milliseconds timeout);
#endif

}  // namespace ulmfit
