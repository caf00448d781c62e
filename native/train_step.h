// The training step both engines share, on the LibTorch thread. An engine gives its forward pass, its losses
// and their backward (the language model's runs under autocast, the classifier's does not); the step does the
// rest in one place: the gradient hook, the global norm, the non-finite skip, clipping, the optimizer's
// update, what the engine keeps only from a step that was not skipped, and the step's one host transfer.
#pragma once

#include <napi.h>

#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/where.h>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "fault.h"
#include "model_session.h"
#include "optimizer.h"

namespace ulmfit {

// What an engine's forward and backward give the step: 0-dim tensors, the gradients already in place.
struct StepLoss {
  at::Tensor crossEntropy;  // the batch's mean cross-entropy
  at::Tensor loss;          // what was minimised: the cross-entropy plus AR and TAR
  at::Tensor correct;       // rows predicted right (a classifier's); undefined where there is none
};

// Adds NaN to the first gradient element where `finite` (a 0-dim bool) is false, 0 where it is true: no host
// round trip decides it.
inline void PoisonFirstGradientUnless(const std::vector<NamedParameter>& parameters, const at::Tensor& finite) {
  at::NoGradGuard noGrad;
  for (const NamedParameter& p : parameters) {
    at::Tensor grad = p.tensor.grad();
    if (!grad.defined() || grad.numel() == 0) continue;
    at::Tensor first = grad;  // a view of element 0, whatever the layout
    while (first.dim() > 0) first = first.select(0, 0);
    first.add_(at::where(finite.to(grad.device()), 0.0, static_cast<double>(kNaN)));
    return;
  }
}

// What the caller gets back.
struct StepOutcome {
  double crossEntropy = 0, loss = 0, gradNorm = 0;
  std::optional<int64_t> correct;
  bool skipped = false;
  std::vector<AppliedGroup> applied;
};

// forwardBackward() -> StepLoss runs the engine's forward pass, its losses and backward; commit(skip) keeps
// what the engine keeps only from a step that was not skipped (skip: 0-dim float, 1 = skipped), on the device.
template <typename ForwardBackward, typename Commit>
StepOutcome RunTrainStep(ModelSession& s, const StepHyper& hyper, Fault fault, ForwardBackward&& forwardBackward, Commit&& commit) {
  s.optimizer->ZeroGrad();
  const StepLoss l = forwardBackward();
  at::NoGradGuard noGrad;
  // Between backward and clipping: a test's NaN first (so that it reaches every rank), then the gradient hook.
  if (fault == Fault::Gradients) PoisonFirstGradient(s.parameters);
  if (s.gradientHook) {
    // A rank whose own loss is not finite passes a NaN on through the gradients: every rank skips the step.
    PoisonFirstGradientUnless(s.parameters, at::isfinite(l.loss.detach()));
    s.gradientHook(s.parameters);
  }
  const at::Tensor norm = s.optimizer->GradNorm();
  // A non-finite loss or gradient skips the update on the device: no host round trip decides it.
  const at::Tensor skip = (~(at::isfinite(norm) & at::isfinite(l.loss.detach()))).to(at::kFloat);
  s.optimizer->ClipTo(norm, hyper.clip);
  StepOutcome outcome;
  outcome.applied = s.optimizer->Step(hyper, skip);
  commit(skip);
  std::vector<at::Tensor> numbers{l.crossEntropy.detach(), l.loss.detach(), norm, skip};
  if (l.correct.defined()) numbers.push_back(l.correct.to(at::kFloat));
  // The step's only host transfer: the numbers the caller gets.
  const at::Tensor host = at::stack(numbers).to(at::kCPU, at::kDouble);
  const double* n = host.data_ptr<double>();
  outcome.crossEntropy = n[0];
  outcome.loss = n[1];
  outcome.gradNorm = n[2];
  outcome.skipped = n[3] != 0.0;
  if (l.correct.defined()) outcome.correct = static_cast<int64_t>(n[4]);
  return outcome;
}

// { crossEntropy, loss, gradNorm, correct? (a classifier's), skipped, applied }
Napi::Object StepOutcomeToJs(Napi::Env env, const StepOutcome& outcome);

}  // namespace ulmfit
