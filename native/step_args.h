// What the engines read from JS: their encoder options, per-group hyperparameters, token ids checked against
// the vocabulary, Int32Array arguments, and dropout masks (in and out).
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "awd_lstm.h"
#include "optimizer.h"

namespace ulmfit {

// The encoder's sizes and dropouts from the engine options. A classifier's encoder has no output dropout
// (its head's first dropout takes its place): outputP is read only where `withOutputP`.
AwdLstmOptions ReadEncoderOptions(const Napi::Object& options, bool withOutputP);

// hyper: { optimizer: "adamw" | "sgd", groups: [{ lr, beta1, beta2, momentum, weightDecay }] (one per group), eps, clip,
// alpha, beta }
StepHyper ReadHyper(const Napi::Object& hyper, int numGroups);

// [{ lr, beta1, beta2, momentum, weightDecay, trained }] per group: what a step's update kernels were given.
Napi::Array AppliedToJs(Napi::Env env, const std::vector<AppliedGroup>& applied);

// batch[field]: an Int32Array of exactly `length` elements.
Napi::Int32Array Int32ArrayField(const Napi::Object& batch, const char* field, int64_t length);

// Token ids from batch[field], an Int32Array of as many elements as `shape` holds, each checked against the
// vocabulary before LibTorch sees it, as an int64 host tensor of `shape` bound for `bound` (pinned for a GPU:
// the worker moves it there with ToDevice, without blocking).
at::Tensor TokensFrom(const Napi::Object& batch, const char* field, at::IntArrayRef shape, int64_t vocabSize, const c10::Device& bound);

// { embed?, input?, weight?: [], hidden?: [], output?, head?: [] }, each { data, shape }.
DropoutMasks ReadMasks(const Napi::Object& object);
Napi::Object MasksToJs(Napi::Env env, const DropoutMasks& masks);

}  // namespace ulmfit
