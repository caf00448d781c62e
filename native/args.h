// Reading JS arguments and the fields of option objects, with errors that name them. The TypeScript layer validates options with zod
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
// An object argument (a step's batch, its hyperparameters).
Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t index, const char* name);

// object[field] as a number; `where` names the object in errors. Every field is required: the defaults live
// in the TypeScript schemas alone, and the native side takes each value explicitly.
double NumberField(const Napi::Object& object, const char* field, const std::string& where);

// object[field] as an integer >= min (or in [min, max]), or a probability in [0, 1).
int64_t IntegerField(const Napi::Object& object, const char* field, int64_t min, const std::string& where);
int64_t IntegerField(const Napi::Object& object, const char* field, int64_t min, int64_t max, const std::string& where);
double ProbabilityField(const Napi::Object& object, const char* field, const std::string& where);

// object[field] as a string, or as a boolean.
std::string StringField(const Napi::Object& object, const char* field, const std::string& where);
bool BooleanField(const Napi::Object& object, const char* field, const std::string& where);

}  // namespace ulmfit
