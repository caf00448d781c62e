// Our optimizer over the model's layer groups: AdamW (decoupled weight decay, fastai's eps and betas) on
// LibTorch's fused kernel, or SGD with momentum. Every step takes each group's hyperparameters from the
// caller (TypeScript's schedules), so nothing changes them while a step runs. freezeTo(n) stops groups
// before n from training at all: no gradient, no update, no decay.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "awd_lstm.h"

namespace ulmfit {

// Every value comes from the caller (ReadHyper): the defaults live in the TypeScript schemas alone.
struct GroupHyper {
  double lr = 0;
  double beta1 = 0;     // Adam's
  double beta2 = 0;     // Adam's
  double momentum = 0;  // SGD's
  double weightDecay = 0;
};

enum class OptimizerKind { AdamW, Sgd };

// What a step handed the update kernels for one group (read back by the caller to check its schedule).
struct AppliedGroup {
  GroupHyper hyper;
  bool trained = false;  // false for a frozen group (nothing was updated)
};

struct StepHyper {
  OptimizerKind kind = OptimizerKind::AdamW;
  std::vector<GroupHyper> groups;  // one per layer group
  double eps = 0;
  double clip = 0;   // global gradient-norm limit; 0: no clipping
  double alpha = 0;  // activation regularisation (AR) on the last layer's outputs; 0: off
  double beta = 0;   // temporal activation regularisation (TAR) on them; 0: off
};

class GroupOptimizer {
 public:
  GroupOptimizer(std::vector<NamedParameter> parameters, int numGroups);

  int numGroups() const { return numGroups_; }
  int frozenBefore() const { return frozenBefore_; }
  // Groups [0, n) stop training; the rest train. fastai clears the optimizer state here (clearState).
  void FreezeTo(int n, bool clearState);
  void ClearState();

  // Clears every gradient (before a backward pass).
  void ZeroGrad();
  // Global L2 norm of the gradients of the training parameters (a 0-dim tensor, no host sync).
  at::Tensor GradNorm() const;
  // Scales gradients so their global norm is at most `clip` (no host sync).
  void ClipTo(const at::Tensor& norm, double clip);
  // One update with the given hyperparameters. found_inf (0-dim float, 1 = skip) is honoured on the device.
  // Returns, per group, the hyperparameters the kernels were given.
  std::vector<AppliedGroup> Step(const StepHyper& hyper, const at::Tensor& foundInf);

  // Optimizer state per parameter name ("exp_avg", "exp_avg_sq", "step", "momentum_buffer").
  struct ParamState {
    at::Tensor expAvg, expAvgSq, step, momentum;
  };
  // Parallel to the parameters given at construction (saving and loading the optimizer reads and fills it).
  std::vector<ParamState>& state() { return state_; }

 private:
  std::vector<at::Tensor> TrainingGrads() const;

  std::vector<NamedParameter> parameters_;
  std::vector<ParamState> state_;  // parallel to parameters_
  int numGroups_;
  int frozenBefore_ = 0;
};

}  // namespace ulmfit
