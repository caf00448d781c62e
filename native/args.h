// Reading JS arguments with errors that name the argument. The TypeScript layer validates options with zod
// first; these checks keep the native side safe when it is called directly.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ulmfit {

int ArgInt(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max);
uint64_t ArgSeed(const Napi::CallbackInfo& info, size_t index, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Float32Array ArgFloat32Array(const Napi::CallbackInfo& info, size_t index, const char* name);
// A tensor shape: an array of non-negative integers.
std::vector<int64_t> ArgShape(const Napi::CallbackInfo& info, size_t index, const char* name);
std::vector<int64_t> ShapeFrom(const Napi::Value& value, const std::string& name);

}  // namespace ulmfit
