// Mixed precision: bf16 autocast around a step, with fp32 master weights and an fp32 loss; on a GPU the LSTM
// stays fp32, with TF32 (CudnnTf32Scope). Autocast state is per thread, so the scope is opened inside the
// worker that runs the step. C++ has no context manager to clear autocast's weight-cast cache (Python's
// does it on exit): the scope clears it when it closes, so the next step casts the weights the optimizer
// has just written.
#pragma once

#include <c10/core/DeviceType.h>

#include <string>

namespace ulmfit {

enum class Precision { Fp32, Bf16 };

Precision ParsePrecision(const std::string& text);
const char* PrecisionName(Precision precision);

class AutocastScope {
 public:
  AutocastScope(Precision precision, c10::DeviceType device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_;
  c10::DeviceType device_;
};

// Under bf16 on a CUDA device, cuDNN may use TF32 for the scope (the LSTM runs in fp32 there: awd_lstm.cc);
// the previous setting comes back when it closes. It must span the backward pass too, which builds its own
// cuDNN descriptors. Steps run one at a time on the LibTorch thread, so the process-wide flag is theirs.
class CudnnTf32Scope {
 public:
  CudnnTf32Scope(Precision precision, c10::DeviceType device);
  ~CudnnTf32Scope();
  CudnnTf32Scope(const CudnnTf32Scope&) = delete;
  CudnnTf32Scope& operator=(const CudnnTf32Scope&) = delete;

 private:
  bool active_;
  bool previous_ = false;
};

}  // namespace ulmfit
