// The AWD-LSTM encoder (Merity et al.; fastai's layout): embedding with embedding dropout, input dropout,
// LSTM layers whose hidden-to-hidden weights are DropConnect-ed, variational dropout between layers and
// (for the language model) after the last. Parameters carry fastai's state_dict names under a prefix
// ("0." in the language model, "0.module." in the classifier) and the layer groups their model gives them.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace ulmfit {

// Every value comes from the caller (ReadEncoderOptions): the defaults live in the TypeScript schemas alone.
struct AwdLstmOptions {
  int64_t vocabSize = 0;
  int64_t embSize = 0;
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t padId = 0;
  // Dropout probabilities (dropMult already applied by the caller).
  double embedP = 0;   // whole embedding rows
  double inputP = 0;   // after the embedding
  double weightP = 0;  // DropConnect on weight_hh
  double hiddenP = 0;  // between LSTM layers
  double outputP = 0;  // after the last layer (the classifier's encoder has none: its head drops instead)
};

// Where the encoder's parameters go in its model: their key prefix and layer groups.
struct EncoderLayout {
  std::string prefix = "0.";
  int embeddingGroup = 3;
  int firstRnnGroup = 0;  // layer l is in group firstRnnGroup + l
};

struct NamedParameter {
  std::string name;  // fastai's state_dict key
  at::Tensor tensor;
  int group;          // index into the model's group names
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
  at::Tensor output;               // [bs, 1, emb] (language model only)
  std::vector<at::Tensor> head;    // classifier head, per block [bs, features in] (classifier only)
};

// What the encoder produces: the last layer's output before and after output dropout. The language model
// decodes droppedLast (and regularises both: AR and TAR); the classifier pools rawLast.
struct ForwardOutputs {
  at::Tensor rawLast;      // [bs, seq, emb]
  at::Tensor droppedLast;  // after output dropout
};

// A checked fixed mask, or a fresh one of the given shape scaled so the expectation is unchanged;
// undefined where p is 0 and nothing is fixed.
at::Tensor DropoutMask(const at::Tensor* fixed, const std::vector<int64_t>& shape, double p, const at::TensorOptions& options,
                       const std::string& what);

class AwdLstm {
 public:
  AwdLstm(const AwdLstmOptions& options, const EncoderLayout& layout);

  const AwdLstmOptions& options() const { return options_; }
  const std::vector<NamedParameter>& parameters() const { return parameters_; }

  // The encoder's masks for a batch of batchSize rows: `fixed` replaces the random ones (tests, and golden
  // parity of training-mode maths), each checked against the shape the batch needs.
  DropoutMasks DrawMasks(int64_t batchSize, const DropoutMasks* fixed) const;

  // tokens: [bs, seq] integer ids; `state` holds [1, bs, out] per layer and is replaced by this call's final
  // state, detached (truncated BPTT). `masks` (from DrawMasks, rows sliced to bs) applies dropout; none
  // when null (evaluation).
  ForwardOutputs Forward(const at::Tensor& tokens, LstmState& state, const DropoutMasks* masks);

  // Zeros of the state's shape for a batch of batchSize rows, on the encoder's device.
  LstmState ZeroState(int64_t batchSize) const;

  int64_t LayerOutputSize(int64_t layer) const;
  int64_t LayerInputSize(int64_t layer) const;

  // The embedding matrix [vocab, emb] (the language model's decoder weight too).
  const at::Tensor& embedding() const { return encoder_; }

  void To(const at::Device& device);
  at::Device device() const { return encoder_.device(); }

 private:
  AwdLstmOptions options_;
  at::Tensor encoder_;  // [vocab, emb]
  struct Layer {
    at::Tensor weightIh, weightHhRaw, biasIh, biasHh;
  };
  std::vector<Layer> layers_;
  std::vector<NamedParameter> parameters_;
};

}  // namespace ulmfit
