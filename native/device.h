// Device strings: "cpu", "cuda" (the current CUDA device) and "cuda:N". Anything else, CUDA on a LibTorch
// built without it, or a device index that does not exist is an ArgumentError that says which.
#pragma once

#include <napi.h>

#include <string>

#include <c10/core/Device.h>

namespace ulmfit {

c10::Device ParseDevice(const std::string& text);

// checkDevice(text: string): string. The canonical form of a valid device string; throws otherwise.
Napi::Value CheckDevice(const Napi::CallbackInfo& info);

}  // namespace ulmfit
