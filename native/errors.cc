#include "errors.h"

#include <c10/util/Exception.h>

#include <new>

namespace ulmfit {

namespace {

// c10 messages can end with an "Exception raised from ..." line when C++ stack traces are enabled; the JS
// user gets LibTorch's message, not the location inside LibTorch.
std::string WithoutBacktrace(std::string message) {
  const auto at = message.find("\nException raised from ");
  if (at != std::string::npos) message.erase(at);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

}  // namespace

NativeError DescribeCurrentException() {
  try {
    throw;
  } catch (const c10::OutOfMemoryError& e) {
    return {"ERR_ULMFIT_OUT_OF_MEMORY", WithoutBacktrace(e.what_without_backtrace())};
  } catch (const c10::Error& e) {
    return {"ERR_ULMFIT_TORCH", WithoutBacktrace(e.what_without_backtrace())};
  } catch (const ArgumentError& e) {
    return {"ERR_ULMFIT_ARGUMENT", e.what()};
  } catch (const std::bad_alloc&) {
    return {"ERR_ULMFIT_OUT_OF_MEMORY", "out of memory (std::bad_alloc)"};
  } catch (const std::exception& e) {
    return {"ERR_ULMFIT_NATIVE", e.what()};
  } catch (...) {
    return {"ERR_ULMFIT_NATIVE", "unknown native exception"};
  }
}

Napi::Error ToJsError(Napi::Env env, const NativeError& error) {
  Napi::Error js = Napi::Error::New(env, error.message);
  js.Set("code", Napi::String::New(env, error.code));
  return js;
}

}  // namespace ulmfit
