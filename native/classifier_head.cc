#include "classifier_head.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/batch_norm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/full.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/rsqrt.h>
#include <ATen/ops/where.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <string>

#include "errors.h"

namespace ulmfit {

ClassifierHead::ClassifierHead(const HeadOptions& options, int group) : options_(options) {
  std::vector<int64_t> dims{options.inFeatures};
  dims.insert(dims.end(), options.hidden.begin(), options.hidden.end());
  dims.push_back(options.numClasses);
  if (options.dropouts.size() != dims.size() - 1) {
    throw ArgumentError("the head has " + std::to_string(dims.size() - 1) + " blocks but " + std::to_string(options.dropouts.size()) +
                        " dropouts");
  }
  for (size_t k = 0; k + 1 < dims.size(); k++) {
    const int64_t in = dims[k], out = dims[k + 1];
    const auto leaf = [](at::Tensor t) { return t.requires_grad_(true); };
    // nn.Linear's default init (kaiming_uniform with a = sqrt(5)): U(+-1/sqrt(fan_in)); BatchNorm: 1 and 0.
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    Block b{leaf(at::ones({in}, at::kFloat)),
            leaf(at::zeros({in}, at::kFloat)),
            at::zeros({in}, at::kFloat),
            at::ones({in}, at::kFloat),
            at::zeros({}, at::kFloat),
            leaf(at::empty({out, in}, at::kFloat).uniform_(-bound, bound)),
            {},
            {}};
    const std::string bn = "1.layers." + std::to_string(k) + ".0.";
    parameters_.push_back({bn + "weight", b.bnWeight, group, /*decay=*/false});
    parameters_.push_back({bn + "bias", b.bnBias, group, /*decay=*/false});
    parameters_.push_back({"1.layers." + std::to_string(k) + ".2.weight", b.linear, group});
    if (options.linearBias) {
      b.linearBias = leaf(at::empty({out}, at::kFloat).uniform_(-bound, bound));  // nn.Linear's bias init
      parameters_.push_back({"1.layers." + std::to_string(k) + ".2.bias", b.linearBias, group, /*decay=*/false});
    }
    buffers_.push_back({bn + "running_mean", b.runningMean, group, false});
    buffers_.push_back({bn + "running_var", b.runningVar, group, false});
    buffers_.push_back({bn + "num_batches_tracked", b.batchesTracked, group, false});
    blocks_.push_back(std::move(b));
  }
}

std::vector<at::Tensor> ClassifierHead::DrawMasks(int64_t batchSize, const std::vector<at::Tensor>* fixed) const {
  std::vector<at::Tensor> masks;
  for (size_t k = 0; k < blocks_.size(); k++) {
    const at::Tensor* given = fixed && fixed->size() > k ? &(*fixed)[k] : nullptr;
    masks.push_back(DropoutMask(given, {batchSize, blocks_[k].linear.size(1)}, options_.dropouts[k], blocks_[k].linear.options(),
                                "head[" + std::to_string(k) + "]"));
  }
  return masks;
}

at::Tensor ClassifierHead::SynchronisedBatchNorm(Block& b, const at::Tensor& x, const RankSum& rankSum) {
  // One all-reduce for the sums and the row count, one for the squared deviations (two passes, as
  // BatchNorm's own kernel, so that the figures match one process's to rounding).
  const int64_t features = x.size(1);
  const at::Tensor sums = rankSum(at::cat({x.sum(0), at::full({1}, static_cast<double>(x.size(0)), x.options())}));
  const at::Tensor rows = sums.narrow(0, features, 1).detach();
  const at::Tensor mean = sums.narrow(0, 0, features) / rows;
  const at::Tensor centred = x - mean;
  const at::Tensor var = rankSum((centred * centred).sum(0)) / rows;
  {
    at::NoGradGuard noGrad;
    const double m = options_.bnMomentum;
    const at::Tensor n = rows.squeeze();
    b.pendingMean.mul_(1.0 - m).add_(mean.detach() * m);
    b.pendingVar.mul_(1.0 - m).add_(var.detach() * (n / (n - 1.0)) * m);  // unbiased, as BatchNorm keeps it
  }
  return centred * at::rsqrt(var + options_.bnEps) * b.bnWeight + b.bnBias;
}

at::Tensor ClassifierHead::Forward(const at::Tensor& features, bool training, const std::vector<at::Tensor>* masks,
                                   const RankSum* rankSum) {
  at::Tensor x = features;
  for (size_t k = 0; k < blocks_.size(); k++) {
    Block& b = blocks_[k];
    if (training) {
      // Batch statistics update copies of the running ones; CommitStatistics keeps them unless the step is skipped.
      b.pendingMean = b.runningMean.clone();
      b.pendingVar = b.runningVar.clone();
    }
    if (training && rankSum && *rankSum) {
      x = SynchronisedBatchNorm(b, x, *rankSum);
    } else {
      x = at::batch_norm(x, b.bnWeight, b.bnBias, training ? b.pendingMean : b.runningMean, training ? b.pendingVar : b.runningVar,
                         training, options_.bnMomentum, options_.bnEps, /*cudnn_enabled=*/true);
    }
    if (training && masks && (*masks)[k].defined()) x = x * (*masks)[k];
    x = b.linearBias.defined() ? at::linear(x, b.linear, b.linearBias) : at::linear(x, b.linear);
    if (k + 1 < blocks_.size()) x = at::relu(x);
  }
  return x;
}

void ClassifierHead::CommitStatistics(const at::Tensor& skip) {
  at::NoGradGuard noGrad;
  const at::Tensor keepOld = skip > 0;
  for (Block& b : blocks_) {
    if (!b.pendingMean.defined()) continue;
    b.runningMean.copy_(at::where(keepOld, b.runningMean, b.pendingMean));
    b.runningVar.copy_(at::where(keepOld, b.runningVar, b.pendingVar));
    b.batchesTracked.add_(1.0 - skip);
    b.pendingMean.reset();
    b.pendingVar.reset();
  }
}

void ClassifierHead::To(const at::Device& device) {
  at::NoGradGuard noGrad;
  for (auto* list : {&parameters_, &buffers_}) {
    for (auto& p : *list) {
      if (p.tensor.device() != device) p.tensor.set_data(p.tensor.to(device));
    }
  }
}

}  // namespace ulmfit
