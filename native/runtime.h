// Process- and thread-level LibTorch settings: what the library was built with and runs on (info), the
// random seed, and the intra-op thread count applied to every task.
#pragma once

#include <napi.h>

#include <atomic>

#include "async.h"

namespace ulmfit {

// Per Node environment (main thread or worker_threads Worker): the addon is context-aware.
struct AddonState {
  std::atomic<int> numThreads{0};
  Napi::FunctionReference processGroupClass;  // to tell a ProcessGroup argument from any object
};

AddonState& StateOf(Napi::Env env);

// The settings a task launched now from this environment runs with.
ThreadSettings SettingsOf(Napi::Env env, bool gradEnabled = false);

Napi::Value Info(const Napi::CallbackInfo& info);
Napi::Value SetSeed(const Napi::CallbackInfo& info);
// The default generators' states (CPU first, then each CUDA device), and putting them back: what a resumed
// run needs to draw the dropout masks an uninterrupted one would have drawn.
Napi::Value GetRngState(const Napi::CallbackInfo& info);
Napi::Value SetRngState(const Napi::CallbackInfo& info);
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
// TF32 on CUDA (cuBLAS matmuls and cuDNN, the LSTM included): faster fp32, with a 10-bit mantissa. LibTorch's
// defaults: off for matmuls, on for cuDNN. setAllowTf32(allow: boolean) sets both.
Napi::Value SetAllowTf32(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);

}  // namespace ulmfit
