// The preloader addon. It links against nothing but libc, so it loads anywhere; it then dlopens LibTorch's
// libraries with RTLD_GLOBAL from wherever discovery found them. The main addon, linked with --as-needed
// and no rpath, then finds them by soname among the libraries already loaded. Handles are kept open for
// the life of the process: LibTorch registers kernels and static state that must never be unloaded.
#define NAPI_VERSION 8
#include <node_api.h>

#include <dlfcn.h>

#include <string>
#include <vector>

namespace {

napi_value Throw(napi_env env, const std::string& message) {
  napi_throw_error(env, "ERR_ULMFIT_DLOPEN", message.c_str());
  return nullptr;
}

// preload(paths: string[]): number. Opens each library in order; throws with dlerror()'s message.
napi_value Preload(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1) {
    return Throw(env, "preload expects an array of library paths");
  }
  bool isArray = false;
  napi_is_array(env, argv[0], &isArray);
  if (!isArray) return Throw(env, "preload expects an array of library paths");
  uint32_t length = 0;
  napi_get_array_length(env, argv[0], &length);
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    napi_get_element(env, argv[0], i, &item);
    size_t size = 0;
    if (napi_get_value_string_utf8(env, item, nullptr, 0, &size) != napi_ok) {
      return Throw(env, "preload expects an array of library paths (strings)");
    }
    std::string path(size, '\0');
    napi_get_value_string_utf8(env, item, path.data(), size + 1, &size);
    dlerror();
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      const char* why = dlerror();
      return Throw(env, "could not load " + path + ": " + (why ? why : "unknown dlopen error"));
    }
  }
  napi_value result;
  napi_create_uint32(env, length, &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "preload", NAPI_AUTO_LENGTH, Preload, nullptr, &fn);
  napi_set_named_property(env, exports, "preload", fn);
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
