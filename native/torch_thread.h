// The one thread that runs LibTorch work. Tasks are queued by libuv workers (Task::Execute), which wait for
// their turn to finish. Why one: LibTorch parallelises inside each operation (its intra-op thread pool is
// per calling thread), so steps spread over libuv's four workers would each bring their own OpenMP team,
// and idle teams spinning beside a busy one cost a third of the throughput here (measured on the LM step:
// 257 tokens/s from the pool, 365 from one thread) and memory for every team.
#pragma once

#include <functional>

namespace ulmfit {

// Runs fn on the LibTorch thread and waits for it; an exception fn throws is rethrown here.
void RunOnTorchThread(const std::function<void()>& fn);

}  // namespace ulmfit
