#include "awd_lstm.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/lstm.h>
#include <ATen/ops/zeros.h>

#include <c10/core/impl/LocalDispatchKeySet.h>
#include <c10/util/StringUtil.h>

#include <cmath>
#include <tuple>

#include "errors.h"

namespace ulmfit {

namespace {

// A leaf parameter drawn from U(-bound, bound) with LibTorch's default generator (seeded by setSeed).
at::Tensor Uniform(at::IntArrayRef shape, double bound) {
  return at::empty(shape, at::kFloat).uniform_(-bound, bound).requires_grad_(true);
}

at::Tensor Apply(const at::Tensor& x, const at::Tensor& mask) { return mask.defined() ? x * mask : x; }

// One CUDA LSTM layer, in fp32 whatever the autocast state: LibTorch's autocast would send cuDNN's RNN to
// fp16 (its _cudnn_rnn wrapper hard-codes half, also under bf16 autocast), whose gradients underflow without
// loss scaling, and cuDNN's bf16 LSTM is slower than its TF32 one on an H200 (bench/RESULTS.md). Under bf16
// precision the step allows TF32 (CudnnTf32Scope). cuDNN wants a layer's weights as one buffer in its own
// layout (w_ih, w_hh, b_ih, b_hh back to back); handed separate tensors it warns and re-flattens them on
// every call. DropConnect gives w_hh new values each step anyway, so the four are concatenated once here
// (one differentiable copy) and cuDNN gets views of that buffer.
std::tuple<at::Tensor, at::Tensor, at::Tensor> CudaLstmLayer(const at::Tensor& x, const std::pair<at::Tensor, at::Tensor>& state,
                                                             const std::vector<at::Tensor>& weights, bool training) {
  c10::impl::ExcludeDispatchKeyGuard noAutocast(c10::autocast_dispatch_keyset);
  std::vector<at::Tensor> pieces;
  for (const at::Tensor& w : weights) pieces.push_back(w.reshape({-1}));
  const at::Tensor buffer = at::cat(pieces);
  std::vector<at::Tensor> views;
  int64_t offset = 0;
  for (const at::Tensor& w : weights) {
    views.push_back(buffer.narrow(0, offset, w.numel()).view(w.sizes()));
    offset += w.numel();
  }
  return at::lstm(x.to(at::kFloat), {state.first.to(at::kFloat), state.second.to(at::kFloat)}, views, /*has_biases=*/true,
                  /*num_layers=*/1, /*dropout=*/0.0, training, /*bidirectional=*/false, /*batch_first=*/true);
}

}  // namespace

at::Tensor DropoutMask(const at::Tensor* fixed, const std::vector<int64_t>& shape, double p, const at::TensorOptions& options,
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

AwdLstm::AwdLstm(const AwdLstmOptions& options, const EncoderLayout& layout) : options_(options) {
  const auto& o = options_;
  encoder_ = Uniform({o.vocabSize, o.embSize}, 0.1);
  for (int64_t l = 0; l < o.numLayers; l++) {
    const int64_t in = LayerInputSize(l), out = LayerOutputSize(l);
    const double bound = 1.0 / std::sqrt(static_cast<double>(out));  // nn.LSTM's default init
    layers_.push_back(
        {Uniform({4 * out, in}, bound), Uniform({4 * out, out}, bound), Uniform({4 * out}, bound), Uniform({4 * out}, bound)});
  }
  for (int64_t l = 0; l < o.numLayers; l++) {
    const std::string prefix = layout.prefix + "rnns." + std::to_string(l) + ".";
    const int group = layout.firstRnnGroup + static_cast<int>(l);
    parameters_.push_back({prefix + "weight_hh_l0_raw", layers_[l].weightHhRaw, group});
    parameters_.push_back({prefix + "module.weight_ih_l0", layers_[l].weightIh, group});
    parameters_.push_back({prefix + "module.bias_ih_l0", layers_[l].biasIh, group});
    parameters_.push_back({prefix + "module.bias_hh_l0", layers_[l].biasHh, group});
  }
  parameters_.push_back({layout.prefix + "encoder.weight", encoder_, layout.embeddingGroup});
}

int64_t AwdLstm::LayerInputSize(int64_t layer) const { return layer == 0 ? options_.embSize : options_.hiddenSize; }

// The last layer outputs the embedding size so the language model's decoder can share the embedding's weight.
int64_t AwdLstm::LayerOutputSize(int64_t layer) const { return layer == options_.numLayers - 1 ? options_.embSize : options_.hiddenSize; }

void AwdLstm::To(const at::Device& device) {
  if (device == encoder_.device()) return;
  at::NoGradGuard noGrad;
  for (auto& p : parameters_) p.tensor.set_data(p.tensor.to(device));
}

LstmState AwdLstm::ZeroState(int64_t batchSize) const {
  LstmState state;
  const auto options = encoder_.options().requires_grad(false);
  for (int64_t l = 0; l < options_.numLayers; l++) {
    const int64_t size = LayerOutputSize(l);
    state.emplace_back(at::zeros({1, batchSize, size}, options), at::zeros({1, batchSize, size}, options));
  }
  return state;
}

DropoutMasks AwdLstm::DrawMasks(int64_t bs, const DropoutMasks* fixed) const {
  const auto& o = options_;
  const auto options = encoder_.options();
  const auto pick = [](const std::vector<at::Tensor>* list, int64_t l) -> const at::Tensor* {
    return list && static_cast<int64_t>(list->size()) > l ? &(*list)[l] : nullptr;
  };
  DropoutMasks masks;
  // Embedding dropout drops whole words: a mask over rows of the embedding matrix.
  masks.embed = DropoutMask(fixed ? &fixed->embed : nullptr, {o.vocabSize, 1}, o.embedP, options, "embed");
  masks.input = DropoutMask(fixed ? &fixed->input : nullptr, {bs, 1, o.embSize}, o.inputP, options, "input");
  for (int64_t l = 0; l < o.numLayers; l++) {
    const int64_t out = LayerOutputSize(l);
    const std::string index = "[" + std::to_string(l) + "]";
    masks.weight.push_back(DropoutMask(pick(fixed ? &fixed->weight : nullptr, l), {4 * out, out}, o.weightP, options, "weight" + index));
    if (l < o.numLayers - 1) {
      masks.hidden.push_back(DropoutMask(pick(fixed ? &fixed->hidden : nullptr, l), {bs, 1, out}, o.hiddenP, options, "hidden" + index));
    }
  }
  masks.output = DropoutMask(fixed ? &fixed->output : nullptr, {bs, 1, o.embSize}, o.outputP, options, "output");
  return masks;
}

ForwardOutputs AwdLstm::Forward(const at::Tensor& tokens, LstmState& state, const DropoutMasks* masks) {
  const auto& o = options_;
  const bool training = masks != nullptr;
  at::Tensor x = at::embedding(encoder_, tokens, o.padId);
  if (masks && masks->embed.defined()) {
    // Dropping whole embedding rows, applied to the rows looked up: the same numbers as embedding the
    // masked matrix, without building a vocab x emb product.
    x = x * masks->embed.index_select(0, tokens.reshape({-1})).view({tokens.size(0), tokens.size(1), 1});
  }
  if (masks) x = Apply(x, masks->input);

  at::Tensor raw;
  for (int64_t l = 0; l < o.numLayers; l++) {
    const Layer& layer = layers_[l];
    // DropConnect: the raw hidden-to-hidden weight is dropped once per forward, then used at every step.
    at::Tensor weightHh = masks ? Apply(layer.weightHhRaw, masks->weight[l]) : layer.weightHhRaw;
    const std::vector<at::Tensor> weights = {layer.weightIh, weightHh, layer.biasIh, layer.biasHh};
    auto [out, h, c] = x.is_cuda() ? CudaLstmLayer(x, state[l], weights, training)
                                   : at::lstm(x, {state[l].first, state[l].second}, weights, /*has_biases=*/true, /*num_layers=*/1,
                                              /*dropout=*/0.0, training, /*bidirectional=*/false, /*batch_first=*/true);
    // Truncated BPTT: the next call starts from this state, without a path back into this one.
    state[l] = {h.detach(), c.detach()};
    raw = out;
    x = l < o.numLayers - 1 && masks ? Apply(out, masks->hidden[l]) : out;
  }
  return {raw, masks ? Apply(raw, masks->output) : raw};
}

}  // namespace ulmfit
