// c10d process groups for data-parallel training: a rendezvous through a TCPStore that rank 0 serves, then
// Gloo between the ranks (CPU tensors) or NCCL between GPUs (where the build has it). A model attached to a group averages
// its gradients across the ranks inside its training step (the session's gradient hook), in buckets; a
// broadcast gives every rank one rank's weights. An addon built without gloo's headers (scripts/gloo.js)
// says so when a group connects.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

#include "model_session.h"

namespace ulmfit {

// A connected group (process_group.cc): its rank, size and c10d backend.
struct GroupHandle;

// The connected group a JS ProcessGroup holds; `what` names the argument in errors.
std::shared_ptr<GroupHandle> GroupOf(Napi::Env env, const Napi::Value& value, const char* what);
int WorldSizeOf(const GroupHandle& group);

// The gradient hook that replaces each gradient with its mean over the group's ranks.
GradientHook AveragingHook(std::shared_ptr<GroupHandle> group);

// The differentiable sum over the group's ranks (model_session.h), for synchronised BatchNorm.
RankSum DifferentiableSum(std::shared_ptr<GroupHandle> group);

// Every rank's `tensors` become rank `root`'s (on the calling thread: a collective, every rank must call it).
void BroadcastTensors(GroupHandle& group, const std::vector<at::Tensor>& tensors, int root);

Napi::Function DefineProcessGroup(Napi::Env env);

}  // namespace ulmfit
