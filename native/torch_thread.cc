#include "torch_thread.h"

#include <c10/util/Exception.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace ulmfit {

namespace {

// LibTorch's C++ warnings go to stderr on every call (Python shows each once); some fire every step (cuDNN's
// weight-layout notice when it cannot use our buffer). The LibTorch thread shows each distinct one once.
class OnceWarningHandler : public c10::WarningHandler {
 public:
  void process(const c10::Warning& warning) override {
    if (!shown_.insert(warning.msg()).second) return;
    std::fprintf(stderr, "ulmfit: LibTorch warning: %s\n", warning.msg().c_str());
  }

 private:
  std::set<std::string> shown_;  // only the LibTorch thread touches it
};

class TorchThread {
 public:
  TorchThread() : thread_([this] { Loop(); }) { thread_.detach(); }

  void Run(const std::function<void()>& fn) {
    std::packaged_task<void()> task(fn);
    std::future<void> done = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(task));
    }
    ready_.notify_one();
    done.get();  // rethrows what fn threw
  }

 private:
  void Loop() {
    static OnceWarningHandler warnings;
    c10::WarningUtils::set_warning_handler(&warnings);  // per thread: this one
    for (;;) {
      std::packaged_task<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<void()>> queue_;
  std::thread thread_;
};

}  // namespace

void RunOnTorchThread(const std::function<void()>& fn) {
  // Created on first use and never destroyed: it lives as long as the process and LibTorch's own statics.
  static TorchThread* thread = new TorchThread();
  thread->Run(fn);
}

}  // namespace ulmfit
