#include "awd_lstm.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/lstm.h>
#include <ATen/ops/zeros.h>

#include <c10/util/StringUtil.h>

#include <cmath>

#include "errors.h"

namespace ulmfit {

namespace {

// A leaf parameter drawn from U(-bound, bound) with LibTorch's default generator (seeded by setSeed).
at::Tensor Uniform(at::IntArrayRef shape, double bound) {
  return at::empty(shape, at::kFloat).uniform_(-bound, bound).requires_grad_(true);
}

// A dropout mask of the given shape, scaled so the expectation is unchanged; or the fixed one, checked.
at::Tensor Mask(const at::Tensor* fixed, std::vector<int64_t> shape, double p, const at::TensorOptions& options,
                const std::string& what) {
  if (fixed && fixed->defined()) {
    if (fixed->sizes() != at::IntArrayRef(shape)) {
      throw ArgumentError("dropout mask " + what + " has shape " + c10::str(fixed->sizes()) + ", the batch needs " +
                          c10::str(at::IntArrayRef(shape)));
    }
    return fixed->to(options.device(), at::kFloat);
  }
  if (p == 0.0) return at::Tensor();
  return at::empty(shape, options.requires_grad(false)).bernoulli_(1.0 - p).div_(1.0 - p);
}

at::Tensor Apply(const at::Tensor& x, const at::Tensor& mask) { return mask.defined() ? x * mask : x; }

}  // namespace

AwdLstmLm::AwdLstmLm(const AwdLstmOptions& options) : options_(options) {
  const auto& o = options_;
  encoder_ = Uniform({o.vocabSize, o.embSize}, 0.1);
  for (int64_t l = 0; l < o.numLayers; l++) {
    const int64_t in = LayerInputSize(l), out = LayerOutputSize(l);
    const double bound = 1.0 / std::sqrt(static_cast<double>(out));  // nn.LSTM's default init
    layers_.push_back(
        {Uniform({4 * out, in}, bound), Uniform({4 * out, out}, bound), Uniform({4 * out}, bound), Uniform({4 * out}, bound)});
  }
  decoderBias_ = at::zeros({o.vocabSize}, at::kFloat).requires_grad_(true);

  // fastai's LM split: one group per LSTM layer, then embedding + decoder.
  for (int64_t l = 0; l < o.numLayers; l++) {
    const std::string prefix = "0.rnns." + std::to_string(l) + ".";
    const int group = static_cast<int>(l);
    parameters_.push_back({prefix + "weight_hh_l0_raw", layers_[l].weightHhRaw, group});
    parameters_.push_back({prefix + "module.weight_ih_l0", layers_[l].weightIh, group});
    parameters_.push_back({prefix + "module.bias_ih_l0", layers_[l].biasIh, group});
    parameters_.push_back({prefix + "module.bias_hh_l0", layers_[l].biasHh, group});
  }
  const int last = static_cast<int>(o.numLayers);
  parameters_.push_back({"0.encoder.weight", encoder_, last});
  parameters_.push_back({"1.decoder.bias", decoderBias_, last, /*decay=*/false});
}

std::vector<std::string> AwdLstmLm::GroupNames(int64_t numLayers) {
  std::vector<std::string> names;
  for (int64_t l = 0; l < numLayers; l++) names.push_back("rnn" + std::to_string(l));
  names.push_back("embedding+decoder");
  return names;
}

std::vector<std::pair<std::string, std::string>> AwdLstmLm::Aliases() {
  return {{"0.encoder_dp.emb.weight", "0.encoder.weight"}, {"1.decoder.weight", "0.encoder.weight"}};
}

int64_t AwdLstmLm::LayerInputSize(int64_t layer) const { return layer == 0 ? options_.embSize : options_.hiddenSize; }

// The last layer outputs the embedding size so the decoder can share the embedding's weight.
int64_t AwdLstmLm::LayerOutputSize(int64_t layer) const {
  return layer == options_.numLayers - 1 ? options_.embSize : options_.hiddenSize;
}

void AwdLstmLm::To(const at::Device& device) {
  if (device == encoder_.device()) return;
  at::NoGradGuard noGrad;
  for (auto& p : parameters_) {
    p.tensor.set_data(p.tensor.to(device));
  }
}

void AwdLstmLm::EnsureState(LstmState& state, int64_t batchSize) const {
  // A batch of another size starts from zeros, as fastai's reset on a new batch size does.
  if (!state.empty() && state[0].first.size(1) == batchSize && state[0].first.device() == encoder_.device()) return;
  state.clear();
  const auto options = encoder_.options().requires_grad(false);
  for (int64_t l = 0; l < options_.numLayers; l++) {
    const int64_t size = LayerOutputSize(l);
    state.emplace_back(at::zeros({1, batchSize, size}, options), at::zeros({1, batchSize, size}, options));
  }
}

ForwardOutputs AwdLstmLm::Forward(const at::Tensor& tokens, bool training, LstmState& state, const DropoutMasks* fixed,
                                  DropoutMasks* used) {
  const auto& o = options_;
  const int64_t bs = tokens.size(0);
  EnsureState(state, bs);
  DropoutMasks masks;
  if (training) {
    const auto options = encoder_.options();
    // Embedding dropout drops whole words: a mask over rows of the embedding matrix.
    masks.embed = Mask(fixed ? &fixed->embed : nullptr, {o.vocabSize, 1}, o.embedP, options, "embed");
    masks.input = Mask(fixed ? &fixed->input : nullptr, {bs, 1, o.embSize}, o.inputP, options, "input");
    for (int64_t l = 0; l < o.numLayers; l++) {
      const int64_t out = LayerOutputSize(l);
      const auto pick = [&](const std::vector<at::Tensor>* list) -> const at::Tensor* {
        return list && static_cast<int64_t>(list->size()) > l ? &(*list)[l] : nullptr;
      };
      const std::string index = "[" + std::to_string(l) + "]";
      masks.weight.push_back(Mask(pick(fixed ? &fixed->weight : nullptr), {4 * out, out}, o.weightP, options, "weight" + index));
      if (l < o.numLayers - 1) {
        masks.hidden.push_back(Mask(pick(fixed ? &fixed->hidden : nullptr), {bs, 1, out}, o.hiddenP, options, "hidden" + index));
      }
    }
    masks.output = Mask(fixed ? &fixed->output : nullptr, {bs, 1, o.embSize}, o.outputP, options, "output");
  }

  at::Tensor x = at::embedding(Apply(encoder_, masks.embed), tokens, o.padId);
  x = Apply(x, masks.input);

  at::Tensor raw;
  for (int64_t l = 0; l < o.numLayers; l++) {
    const Layer& layer = layers_[l];
    // DropConnect: the raw hidden-to-hidden weight is dropped once per forward, then used at every step.
    at::Tensor weightHh = training ? Apply(layer.weightHhRaw, masks.weight[l]) : layer.weightHhRaw;
    auto [out, h, c] = at::lstm(x, {state[l].first, state[l].second}, {layer.weightIh, weightHh, layer.biasIh, layer.biasHh},
                                /*has_biases=*/true, /*num_layers=*/1, /*dropout=*/0.0, training,
                                /*bidirectional=*/false, /*batch_first=*/true);
    // Truncated BPTT: the next batch starts from this state, without a path back into this one.
    state[l] = {h.detach(), c.detach()};
    raw = out;
    x = l < o.numLayers - 1 && training ? Apply(out, masks.hidden[l]) : out;
  }
  at::Tensor dropped = Apply(raw, masks.output);
  if (used) *used = std::move(masks);
  return {raw, dropped};
}

}  // namespace ulmfit
