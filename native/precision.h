// Mixed precision: bf16 autocast around a step, with fp32 master weights and an fp32 loss. Autocast state
// is per thread, so the scope is opened inside the worker that runs the step. C++ has no context manager
// to clear autocast's weight-cast cache (Python's does it on exit): the scope clears it when it closes,
// so the next step casts the weights the optimizer has just written.
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

}  // namespace ulmfit
