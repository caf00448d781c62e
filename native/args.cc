#include "args.h"

#include <cmath>

#include "errors.h"

namespace ulmfit {

namespace {

Napi::Value Arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (index >= info.Length() || info[index].IsUndefined()) {
    throw ArgumentError(std::string(name) + " is required");
  }
  return info[index];
}

bool IsInteger(double v) { return std::isfinite(v) && std::floor(v) == v; }

}  // namespace

int ArgInt(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max) {
  Napi::Value v = Arg(info, index, name);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!IsInteger(d) || d < min || d > max) {
    throw ArgumentError(std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int>(d);
}

uint64_t ArgSeed(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value v = Arg(info, index, name);
  if (v.IsBigInt()) {
    bool lossless = false;
    const uint64_t seed = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw ArgumentError(std::string(name) + " must fit in 64 bits, unsigned");
    return seed;
  }
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!IsInteger(d) || d < 0 || d > 9007199254740991.0) {
    throw ArgumentError(std::string(name) + " must be a non-negative safe integer or a bigint");
  }
  return static_cast<uint64_t>(d);
}

std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value v = Arg(info, index, name);
  if (!v.IsString()) throw ArgumentError(std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Float32Array ArgFloat32Array(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value v = Arg(info, index, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw ArgumentError(std::string(name) + " must be a Float32Array");
  }
  return v.As<Napi::Float32Array>();
}

std::vector<int64_t> ArgShape(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return ShapeFrom(Arg(info, index, name), name);
}

std::vector<int64_t> ShapeFrom(const Napi::Value& value, const std::string& name) {
  if (!value.IsArray()) throw ArgumentError(name + " must be an array of non-negative integers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    const double d = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : NAN;
    if (!IsInteger(d) || d < 0 || d > 9007199254740991.0) {
      throw ArgumentError(name + "[" + std::to_string(i) + "] must be a non-negative integer");
    }
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value v = Arg(info, index, name);
  if (!v.IsObject() || v.IsArray()) throw ArgumentError(std::string(name) + " must be an object");
  return v.As<Napi::Object>();
}

double NumberField(const Napi::Object& object, const char* field, const std::string& where) {
  Napi::Value v = object.Get(field);
  if (v.IsUndefined()) throw ArgumentError(where + "." + field + " is required (a number)");
  if (!v.IsNumber()) throw ArgumentError(where + "." + field + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::string StringField(const Napi::Object& object, const char* field, const std::string& where) {
  Napi::Value v = object.Get(field);
  if (!v.IsString()) throw ArgumentError(where + "." + field + (v.IsUndefined() ? " is required (a string)" : " must be a string"));
  return v.As<Napi::String>().Utf8Value();
}

bool BooleanField(const Napi::Object& object, const char* field, const std::string& where) {
  Napi::Value v = object.Get(field);
  if (!v.IsBoolean()) throw ArgumentError(where + "." + field + (v.IsUndefined() ? " is required (a boolean)" : " must be a boolean"));
  return v.As<Napi::Boolean>().Value();
}

int64_t IntegerField(const Napi::Object& object, const char* field, int64_t min, const std::string& where) {
  const double d = NumberField(object, field, where);
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > 9007199254740991.0) {
    throw ArgumentError(where + "." + field + " must be an integer >= " + std::to_string(min));
  }
  return static_cast<int64_t>(d);
}

int64_t IntegerField(const Napi::Object& object, const char* field, int64_t min, int64_t max, const std::string& where) {
  const double d = NumberField(object, field, where);
  if (!IsInteger(d) || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    throw ArgumentError(where + "." + field + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int64_t>(d);
}

double ProbabilityField(const Napi::Object& object, const char* field, const std::string& where) {
  const double p = NumberField(object, field, where);
  if (!(p >= 0.0 && p < 1.0)) throw ArgumentError(where + "." + field + " must be in [0, 1)");
  return p;
}

}  // namespace ulmfit
