// What both engines (language model, classifier) hold besides their network: the named parameters and
// buffers, the layer groups, the optimizer over them, the dropout-mask hooks for tests, and the flag that
// keeps one step in flight per model. model_wrap.h gives both JS classes the methods that use it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "awd_lstm.h"
#include "fault.h"
#include "optimizer.h"

namespace ulmfit {

// Called in a training step with the gradients in place, between backward and clipping: where a process
// group averages them across ranks (data parallelism).
using GradientHook = std::function<void(const std::vector<NamedParameter>& parameters)>;

// The sum of a tensor over the ranks, differentiable (its gradient is the sum of the ranks' gradients): what
// the classifier head's BatchNorm uses to take its statistics over the whole distributed batch.
using RankSum = std::function<at::Tensor(const at::Tensor& local)>;

struct ModelSession {
  std::vector<NamedParameter> parameters;                    // trained by the optimizer, in its order
  std::vector<NamedParameter> buffers;                       // saved and loaded, never trained (BatchNorm statistics)
  std::vector<std::pair<std::string, std::string>> aliases;  // (alias, name): fastai keeps some tensors twice
  std::vector<std::string> groupNames;
  std::unique_ptr<GroupOptimizer> optimizer;  // built once the parameters are known

  std::optional<DropoutMasks> fixedMasks;  // replace the random masks while set
  bool recordMasks = false;
  DropoutMasks lastMasks;            // what the last training step applied, when recording
  std::atomic<bool> busy{false};     // from a step's call until its promise settles
  Fault pendingFault = Fault::None;  // inflicted by the next training step (fault tests), then cleared
  GradientHook gradientHook;         // set while a process group is attached
  RankSum rankSum;                   // set with it

  void BuildOptimizer() { optimizer = std::make_unique<GroupOptimizer>(parameters, static_cast<int>(groupNames.size())); }
};

}  // namespace ulmfit
