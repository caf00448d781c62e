#include "precision.h"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>

#include "errors.h"

namespace ulmfit {

Precision ParsePrecision(const std::string& text) {
  if (text == "fp32") return Precision::Fp32;
  if (text == "bf16") return Precision::Bf16;
  throw ArgumentError("precision must be \"fp32\" or \"bf16\", got \"" + text + "\"");
}

const char* PrecisionName(Precision precision) { return precision == Precision::Bf16 ? "bf16" : "fp32"; }

AutocastScope::AutocastScope(Precision precision, c10::DeviceType device) : active_(precision == Precision::Bf16), device_(device) {
  if (!active_) return;
  at::autocast::set_autocast_dtype(device_, at::kBFloat16);
  at::autocast::set_autocast_enabled(device_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  at::autocast::set_autocast_enabled(device_, false);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

CudnnTf32Scope::CudnnTf32Scope(Precision precision, c10::DeviceType device)
    : active_(precision == Precision::Bf16 && device == c10::DeviceType::CUDA) {
  if (!active_) return;
  previous_ = at::globalContext().allowTF32CuDNN();
  at::globalContext().setAllowTF32CuDNN(true);
}

CudnnTf32Scope::~CudnnTf32Scope() {
  if (active_) at::globalContext().setAllowTF32CuDNN(previous_);
}

}  // namespace ulmfit
