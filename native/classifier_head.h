// The classifier's head on the pooled features (fastai's PoolingLinearClassifier): blocks of
// BatchNorm -> Dropout -> Linear (no bias: fastai v2; with one: fastai v1), ReLU between blocks, e.g.
// 1200 -> 50 -> nClasses. Keys follow fastai v2's: 1.layers.<block>.0.* is the BatchNorm (weight, bias and
// its buffers), 1.layers.<block>.2.weight (and .bias) the Linear. BatchNorm parameters and Linear biases are
// exempt from weight decay, as in fastai.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "awd_lstm.h"
#include "model_session.h"

namespace ulmfit {

struct HeadOptions {
  // From the caller (ReadOptions in classifier.cc): the defaults live in the TypeScript schemas alone.
  int64_t inFeatures = 0;  // 3 x emb: [last, max, mean]
  std::vector<int64_t> hidden;
  int64_t numClasses = 0;
  std::vector<double> dropouts;  // one per block, before its Linear
  // PyTorch's BatchNorm1d constants (fastai's head uses them as they are): not options.
  double bnEps = 1e-5;
  double bnMomentum = 0.1;
  bool linearBias = false;  // fastai v1's head: Linear layers with biases
};

class ClassifierHead {
 public:
  ClassifierHead(const HeadOptions& options, int group);

  const HeadOptions& options() const { return options_; }
  const std::vector<NamedParameter>& parameters() const { return parameters_; }
  const std::vector<NamedParameter>& buffers() const { return buffers_; }

  // One dropout mask per block, [bs, block input]; `fixed` (when given) replaces them, checked.
  std::vector<at::Tensor> DrawMasks(int64_t batchSize, const std::vector<at::Tensor>* fixed) const;

  // features [bs, inFeatures] float -> logits [bs, numClasses]. Training uses batch statistics and dropout
  // (`masks`), and keeps the updated running statistics pending until CommitStatistics; evaluation uses the
  // running statistics and no dropout. With `rankSum` (data parallelism), training's batch statistics are
  // those of every rank's rows together (synchronised BatchNorm), so N ranks of b rows train as one batch of N b.
  at::Tensor Forward(const at::Tensor& features, bool training, const std::vector<at::Tensor>* masks, const RankSum* rankSum = nullptr);

  // Makes the pending running statistics of the last training Forward the model's, unless the step was
  // skipped (skip: a 0-dim float, 1 = skipped), without a host round trip.
  void CommitStatistics(const at::Tensor& skip);

  void To(const at::Device& device);

 private:
  struct Block {
    at::Tensor bnWeight, bnBias, runningMean, runningVar, batchesTracked, linear;
    at::Tensor linearBias;  // undefined without options.linearBias
    at::Tensor pendingMean, pendingVar;
  };
  // Training-mode BatchNorm with statistics over all ranks' rows; updates the block's pending running ones.
  at::Tensor SynchronisedBatchNorm(Block& b, const at::Tensor& x, const RankSum& rankSum);

  HeadOptions options_;
  std::vector<Block> blocks_;
  std::vector<NamedParameter> parameters_;
  std::vector<NamedParameter> buffers_;
};

}  // namespace ulmfit
