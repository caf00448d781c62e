#include "optimizer.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/_fused_adamw.h>
#include <ATen/ops/_fused_sgd.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

#include "errors.h"

namespace ulmfit {

GroupOptimizer::GroupOptimizer(std::vector<NamedParameter> parameters, int numGroups)
    : parameters_(std::move(parameters)), state_(parameters_.size()), numGroups_(numGroups) {}

void GroupOptimizer::FreezeTo(int n, bool clearState) {
  if (n < 0 || n >= numGroups_) {
    throw ArgumentError("freezeTo: n must be from 0 to " + std::to_string(numGroups_ - 1) + " (at least the last group trains), got " +
                        std::to_string(n));
  }
  frozenBefore_ = n;
  for (auto& p : parameters_) {
    const bool trains = p.group >= n;
    p.tensor.requires_grad_(trains);
    if (!trains) p.tensor.mutable_grad().reset();
  }
  if (clearState) ClearState();
}

void GroupOptimizer::ClearState() {
  for (auto& s : state_) s = ParamState{};
}

void GroupOptimizer::ZeroGrad() {
  for (auto& p : parameters_) p.tensor.mutable_grad().reset();
}

std::vector<at::Tensor> GroupOptimizer::TrainingGrads() const {
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters_) {
    if (p.group >= frozenBefore_ && p.tensor.grad().defined()) grads.push_back(p.tensor.grad());
  }
  return grads;
}

at::Tensor GroupOptimizer::GradNorm() const {
  const std::vector<at::Tensor> grads = TrainingGrads();
  if (grads.empty()) return at::zeros({}, parameters_.front().tensor.options().requires_grad(false));
  return at::stack(at::_foreach_norm(grads, 2)).norm();
}

void GroupOptimizer::ClipTo(const at::Tensor& norm, double clip) {
  if (clip <= 0.0) return;
  std::vector<at::Tensor> grads = TrainingGrads();
  if (grads.empty()) return;
  at::NoGradGuard noGrad;
  // The same rule as PyTorch's clip_grad_norm_: scale by clip / (norm + 1e-6), never up.
  at::_foreach_mul_(grads, (clip / (norm + 1e-6)).clamp_max(1.0));
}

std::vector<AppliedGroup> GroupOptimizer::Step(const StepHyper& hyper, const at::Tensor& foundInf) {
  if (static_cast<int>(hyper.groups.size()) != numGroups_) {
    throw ArgumentError("hyperparameters are given for " + std::to_string(hyper.groups.size()) + " groups, the model has " +
                        std::to_string(numGroups_));
  }
  at::NoGradGuard noGrad;
  // A frozen group received nothing: reported with lr and weight decay 0.
  std::vector<AppliedGroup> applied;
  for (const GroupHyper& h : hyper.groups) applied.push_back({{0.0, h.beta1, h.beta2, h.momentum, 0.0}, false});
  for (int g = frozenBefore_; g < numGroups_; g++) {
    const GroupHyper& h = hyper.groups[g];
    applied[g] = AppliedGroup{h, true};
    // Two calls per group: parameters that decay, and those fastai exempts (Linear biases, BatchNorm).
    for (const bool decay : {true, false}) {
      std::vector<at::Tensor> params, grads, expAvgs, expAvgSqs, steps, momenta;
      bool firstStep = false;
      for (size_t i = 0; i < parameters_.size(); i++) {
        const NamedParameter& p = parameters_[i];
        if (p.group != g || p.decay != decay || !p.tensor.grad().defined()) continue;
        ParamState& s = state_[i];
        params.push_back(p.tensor);
        grads.push_back(p.tensor.grad());
        if (hyper.kind == OptimizerKind::AdamW) {
          if (!s.expAvg.defined()) {
            s.expAvg = at::zeros_like(p.tensor);
            s.expAvgSq = at::zeros_like(p.tensor);
            s.step = at::zeros({}, p.tensor.options().dtype(at::kFloat));
          }
          expAvgs.push_back(s.expAvg);
          expAvgSqs.push_back(s.expAvgSq);
          steps.push_back(s.step);
        } else if (h.momentum > 0.0) {  // plain SGD keeps no buffers (the fused kernel wants none)
          if (!s.momentum.defined()) {
            s.momentum = at::zeros_like(p.tensor);
            firstStep = true;
          }
          momenta.push_back(s.momentum);
        }
      }
      if (params.empty()) continue;
      const double weightDecay = decay ? h.weightDecay : 0.0;
      if (hyper.kind == OptimizerKind::AdamW) {
        // The kernel reads the step count as already advanced (PyTorch's wrapper adds 1 first); a skipped
        // update must not advance it.
        at::_foreach_add_(steps, 1.0 - foundInf);
        at::_fused_adamw_(params, grads, expAvgs, expAvgSqs, /*max_exp_avg_sqs=*/{}, steps, h.lr, h.beta1, h.beta2, weightDecay, hyper.eps,
                          /*amsgrad=*/false, /*maximize=*/false, /*grad_scale=*/std::nullopt, foundInf);
      } else {
        if (weightDecay != 0.0) {
          // Decoupled decay (fastai's SGD default), skipped with the update when found_inf is set.
          at::_foreach_mul_(params, 1.0 - h.lr * weightDecay * (1.0 - foundInf));
        }
        at::_fused_sgd_(params, grads, momenta, /*weight_decay=*/0.0, /*momentum=*/h.momentum, h.lr, /*dampening=*/0.0,
                        /*nesterov=*/false, /*maximize=*/false, firstStep, /*grad_scale=*/std::nullopt, foundInf);
      }
    }
  }
  return applied;
}

}  // namespace ulmfit
