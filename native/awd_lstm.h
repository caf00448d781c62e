// The AWD-LSTM language model (Merity et al.; fastai's layout): embedding with embedding dropout, input
// dropout, LSTM layers whose hidden-to-hidden weights are DropConnect-ed, variational dropout between
// layers and after the last, and a decoder tied to the embedding with its own bias. Parameters carry
// fastai's state_dict names and are split into fastai's layer groups.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace ulmfit {

struct AwdLstmOptions {
  int64_t vocabSize = 0;
  int64_t embSize = 400;
  int64_t hiddenSize = 1152;
  int64_t numLayers = 3;
  int64_t padId = 1;
  // fastai's language-model defaults (dropMult is applied by the caller).
  double embedP = 0.02;   // whole embedding rows
  double inputP = 0.25;   // after the embedding
  double weightP = 0.2;   // DropConnect on weight_hh
  double hiddenP = 0.15;  // between LSTM layers
  double outputP = 0.1;   // after the last layer
};

struct NamedParameter {
  std::string name;  // fastai's state_dict key
  at::Tensor tensor;
  int group;         // index into AwdLstmLm::GroupNames()
  bool decay = true;  // false for Linear biases and BatchNorm weights, as fastai exempts them
};

// Hidden state per layer: (h, c), each [1, bs, layer output size].
using LstmState = std::vector<std::pair<at::Tensor, at::Tensor>>;

// The dropout masks of one training forward, each already scaled by 1/(1-p); undefined where p is 0.
// Variational masks have a time dimension of 1, so one mask serves every time step of a sequence.
struct DropoutMasks {
  at::Tensor embed;                // [vocab, 1]: whole embedding rows
  at::Tensor input;                // [bs, 1, emb]
  std::vector<at::Tensor> weight;  // per layer [4 x out, out]: DropConnect on weight_hh only
  std::vector<at::Tensor> hidden;  // per layer but the last [bs, 1, out]
  at::Tensor output;               // [bs, 1, emb]
};

// What the encoder produces: the decoder's input (droppedLast) and what AR and TAR regularise. The
// decoder (vocabulary logits) is applied by the caller, in chunks: see lm_loss.h.
struct ForwardOutputs {
  at::Tensor rawLast;      // last layer's output before output dropout [bs, seq, emb]
  at::Tensor droppedLast;  // after output dropout
};

class AwdLstmLm {
 public:
  explicit AwdLstmLm(const AwdLstmOptions& options);

  const AwdLstmOptions& options() const { return options_; }
  const std::vector<NamedParameter>& parameters() const { return parameters_; }
  static std::vector<std::string> GroupNames(int64_t numLayers);
  // Other names a parameter answers to (fastai keeps the tied weight under three keys).
  static std::vector<std::pair<std::string, std::string>> Aliases();

  // tokens: [bs, seq] integer ids. Training mode applies every dropout. `state` is the hidden state carried
  // from the previous call; it is replaced by this call's final state, detached (truncated BPTT), and
  // started from zeros when empty or when the batch size changes.
  // `fixed` replaces the random masks (tests, and golden parity of training-mode maths); `used` receives
  // the masks this call applied.
  ForwardOutputs Forward(const at::Tensor& tokens, bool training, LstmState& state, const DropoutMasks* fixed = nullptr,
                         DropoutMasks* used = nullptr);

  int64_t LayerOutputSize(int64_t layer) const;
  int64_t LayerInputSize(int64_t layer) const;

  // The tied decoder: logits = droppedLast . decoderWeight^T + decoderBias.
  const at::Tensor& decoderWeight() const { return encoder_; }
  const at::Tensor& decoderBias() const { return decoderBias_; }

  void To(const at::Device& device);
  at::Device device() const { return encoder_.device(); }

 private:
  void EnsureState(LstmState& state, int64_t batchSize) const;

  AwdLstmOptions options_;
  at::Tensor encoder_;     // [vocab, emb], also the decoder weight
  at::Tensor decoderBias_;  // [vocab]
  struct Layer {
    at::Tensor weightIh, weightHhRaw, biasIh, biasHh;
  };
  std::vector<Layer> layers_;
  std::vector<NamedParameter> parameters_;
};

}  // namespace ulmfit
