// Heavy calls run off the JS thread: a Task is a baton that carries its inputs to a libuv worker, which
// hands the LibTorch work to the one LibTorch thread (torch_thread.h) and waits, then settles a Promise
// back on the JS thread. LibTorch keeps the intra-op thread count, grad mode and autocast state per
// thread, so each Task applies its ThreadSettings on the thread that does the work, every time.
#pragma once

#include <napi.h>

#include <functional>
#include <optional>
#include <utility>

#include "errors.h"
#include "torch_thread.h"

namespace ulmfit {

struct ThreadSettings {
  int numThreads = 0;        // 0: leave LibTorch's default
  bool gradEnabled = false;  // inference unless a task trains
  void Apply() const;
};

template <typename Result>
class Task : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using ToJs = std::function<Napi::Value(Napi::Env, Result&)>;
  using Settle = std::function<void()>;

  // Queues `work` on a worker thread; the Promise resolves with toJs(result) or rejects with a JS Error.
  // `settle` runs on the JS thread just before the Promise settles, however the work ended.
  static Napi::Promise Run(Napi::Env env, const char* name, ThreadSettings settings, Work work, ToJs toJs, Settle settle = {}) {
    auto* task = new Task(env, name, settings, std::move(work), std::move(toJs), std::move(settle));
    Napi::Promise promise = task->deferred_.Promise();
    task->Queue();  // the worker deletes itself after OnOK/OnError
    return promise;
  }

 private:
  Task(Napi::Env env, const char* name, ThreadSettings settings, Work work, ToJs toJs, Settle settle)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        settings_(settings),
        work_(std::move(work)),
        toJs_(std::move(toJs)),
        settle_(std::move(settle)) {}

  void Execute() override {
    try {
      RunOnTorchThread([this] {
        settings_.Apply();
        result_.emplace(work_());
      });
    } catch (...) {
      error_ = DescribeCurrentException();
      SetError(error_.message);
    }
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (settle_) settle_();
    try {
      deferred_.Resolve(toJs_(Env(), *result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(ToJsError(Env(), DescribeCurrentException()).Value());
    }
  }

  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    if (settle_) settle_();
    deferred_.Reject(ToJsError(Env(), error_).Value());
  }

  Napi::Promise::Deferred deferred_;
  ThreadSettings settings_;
  Work work_;
  ToJs toJs_;
  Settle settle_;
  std::optional<Result> result_;
  NativeError error_;
};

}  // namespace ulmfit
