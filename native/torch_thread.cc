#include "torch_thread.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace ulmfit {

namespace {

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
