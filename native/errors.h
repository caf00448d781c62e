// How native failures reach JavaScript: every entry point catches what LibTorch (c10::Error) or the standard
// library throws and turns it into a JS Error carrying LibTorch's own message, never its C++ backtrace, and
// never an abort.
#pragma once

#include <napi.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace ulmfit {

// A bad argument detected by our own checks (as opposed to a failure inside LibTorch).
class ArgumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// What a failure becomes in JavaScript: error.code and error.message.
struct NativeError {
  std::string code;
  std::string message;
};

// Describes the exception currently being handled (call only inside a catch block).
NativeError DescribeCurrentException();

Napi::Error ToJsError(Napi::Env env, const NativeError& error);

// Wraps a synchronous entry point so that any C++ exception becomes a thrown JS Error.
template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return Fn(info);
  } catch (const Napi::Error&) {
    throw;  // already a JS error
  } catch (...) {
    throw ToJsError(info.Env(), DescribeCurrentException());
  }
}

}  // namespace ulmfit
