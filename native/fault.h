// Faults a training step inflicts on itself, for the tests that prove non-finite values are survived: armed
// with injectFault(where) from JS, consumed by the next trainStep. Each puts a NaN where real runs get one:
// the loss (an overflowing objective), one gradient element (a bad backward), or the embeddings of the
// batch's first token (a poisoned input row); the step's own finite checks must then skip the update.
#pragma once

#include <ATen/TensorIndexing.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/ones.h>

#include <limits>
#include <string>
#include <vector>

#include "awd_lstm.h"
#include "errors.h"

namespace ulmfit {

enum class Fault { None, Loss, Gradients, Embeddings };

inline Fault FaultNamed(const std::string& where) {
  if (where == "loss") return Fault::Loss;
  if (where == "gradients") return Fault::Gradients;
  if (where == "embeddings") return Fault::Embeddings;
  throw ArgumentError("injectFault: where must be \"loss\", \"gradients\" or \"embeddings\", got \"" + where + "\"");
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// A NaN multiplier on the embedding row of `token` (through the embedding-dropout mask, made if absent).
inline void PoisonEmbeddingRow(DropoutMasks& masks, int64_t token, int64_t vocabSize, const at::TensorOptions& options) {
  at::NoGradGuard noGrad;
  masks.embed = masks.embed.defined() ? masks.embed.clone() : at::ones({vocabSize, 1}, options);
  masks.embed.select(0, token).fill_(kNaN);
}

// A NaN in the first element of the first gradient there is.
inline void PoisonFirstGradient(const std::vector<NamedParameter>& parameters) {
  at::NoGradGuard noGrad;
  for (const NamedParameter& p : parameters) {
    at::Tensor grad = p.tensor.grad();
    if (!grad.defined() || grad.numel() == 0) continue;
    grad.index_put_(std::vector<at::indexing::TensorIndex>(grad.dim(), 0), kNaN);
    return;
  }
}

}  // namespace ulmfit
