#include "language_model.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/where.h>
#include <ATen/ops/zeros.h>

#include <memory>
#include <utility>
#include <vector>

#include "args.h"
#include "async.h"
#include "awd_lstm.h"
#include "device.h"
#include "errors.h"
#include "lm_loss.h"
#include "model_session.h"
#include "model_wrap.h"
#include "optimizer.h"
#include "precision.h"
#include "runtime.h"
#include "step_args.h"
#include "tensor_js.h"
#include "train_step.h"
#include "transfer.h"

namespace ulmfit {

namespace {

struct LmSession : ModelSession {
  LmSession(const AwdLstmOptions& options, const c10::Device& device, int64_t lossChunkRows, Precision precision)
      : encoder(options, EncoderLayout{"0.", /*embeddingGroup=*/static_cast<int>(options.numLayers), /*firstRnnGroup=*/0}),
        decoderBias(at::zeros({options.vocabSize}, at::kFloat).requires_grad_(true)),
        chunkRows(lossChunkRows > 0 ? lossChunkRows : DefaultChunkRows(options.vocabSize, device)),
        precision(precision) {
    // fastai's LM split: one group per LSTM layer, then embedding + decoder.
    parameters = encoder.parameters();
    parameters.push_back({"1.decoder.bias", decoderBias, static_cast<int>(options.numLayers), /*decay=*/false});
    aliases = {{"0.encoder_dp.emb.weight", "0.encoder.weight"}, {"1.decoder.weight", "0.encoder.weight"}};
    for (int64_t l = 0; l < options.numLayers; l++) groupNames.push_back("rnn" + std::to_string(l));
    groupNames.push_back("embedding+decoder");
    encoder.To(device);
    if (device != decoderBias.device()) {
      at::NoGradGuard noGrad;
      decoderBias.set_data(decoderBias.to(device));
    }
    BuildOptimizer();
  }
  AwdLstm encoder;
  at::Tensor decoderBias;  // [vocab]; the decoder's weight is the embedding (tied)
  int64_t chunkRows;       // rows of logits decoded at a time
  Precision precision;
  LstmState trainState, evalState, generateState;

  // The hidden state for a batch of batchSize rows: zeros when there is none yet or the batch size
  // changed, as fastai's reset on a new batch size does.
  LstmState& StateFor(LstmState& state, int64_t batchSize) {
    if (state.empty() || state[0].first.size(1) != batchSize || state[0].first.device() != encoder.device()) {
      state = encoder.ZeroState(batchSize);
    }
    return state;
  }
};

// A step's batch { input, target, batchSize, seqLen } (two [batchSize, seqLen] token grids), read on the host;
// OnDevice moves it to the model's device inside the worker, without blocking.
struct Batch {
  at::Tensor input, target;
  Batch OnDevice(const c10::Device& device) const { return {ToDevice(input, device), ToDevice(target, device)}; }
};

// [batchSize, seqLen] from a batch object, each at most 2^20 (their product then fits every index type).
std::pair<int64_t, int64_t> GridOf(const Napi::Object& batch) {
  return {IntegerField(batch, "batchSize", 1, 1 << 20, "batch"), IntegerField(batch, "seqLen", 1, 1 << 20, "batch")};
}

Batch ReadBatch(const Napi::Object& batch, const LmSession& s) {
  const auto [batchSize, seqLen] = GridOf(batch);
  const int64_t vocab = s.encoder.options().vocabSize;
  const c10::Device device = s.encoder.device();
  return {TokensFrom(batch, "input", {batchSize, seqLen}, vocab, device), TokensFrom(batch, "target", {batchSize, seqLen}, vocab, device)};
}

struct EvalResult {
  double loss;
  int64_t tokens, correct;
};

class LanguageModel : public ModelWrap<LanguageModel, LmSession> {
 public:
  explicit LanguageModel(const Napi::CallbackInfo& info) : ModelWrap(info) {
    Construct(info, [&] {
      if (info.Length() < 1 || !info[0].IsObject()) throw ArgumentError("options must be an object");
      const AwdLstmOptions options = ReadEncoderOptions(info[0].As<Napi::Object>(), /*withOutputP=*/true);
      const c10::Device device = ParseDevice(ArgString(info, 1, "device"));
      const double chunk = NumberField(info[0].As<Napi::Object>(), "lossChunkRows", "options");
      if (!(chunk >= 0 && chunk <= 1e9)) throw ArgumentError("options.lossChunkRows must be a non-negative integer");
      const Precision p = ParsePrecision(StringField(info[0].As<Napi::Object>(), "precision", "options"));
      return std::make_shared<LmSession>(options, device, static_cast<int64_t>(chunk), p);
    });
  }

  static Napi::Function Define(Napi::Env env) {
    Methods methods = SharedMethods();
    methods.push_back(InstanceMethod<&LanguageModel::ResetState>("resetState"));
    methods.push_back(InstanceMethod<&LanguageModel::GetState>("getState"));
    methods.push_back(InstanceMethod<&LanguageModel::SetState>("setState"));
    methods.push_back(InstanceMethod<&LanguageModel::TrainStep>("trainStep"));
    methods.push_back(InstanceMethod<&LanguageModel::EvalStep>("evalStep"));
    methods.push_back(InstanceMethod<&LanguageModel::NextTokenLogits>("nextTokenLogits"));
    return DefineClass(env, "LanguageModel", methods);
  }

 private:
  LstmState& StateNamed(LmSession& s, const std::string& which) {
    if (which == "train") return s.trainState;
    if (which == "eval") return s.evalState;
    if (which == "generate") return s.generateState;
    throw ArgumentError("state must be \"train\", \"eval\" or \"generate\", got \"" + which + "\"");
  }

  Napi::Value ResetState(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      StateNamed(s, ArgString(info, 0, "which")).clear();
      return info.Env().Undefined();
    });
  }

  Napi::Value GetState(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      Napi::Env env = info.Env();
      const LstmState& state = StateNamed(s, ArgString(info, 0, "which"));
      Napi::Array out = Napi::Array::New(env, state.size());
      for (size_t l = 0; l < state.size(); l++) {
        Napi::Object layer = Napi::Object::New(env);
        layer.Set("h", TensorToJs(env, state[l].first));
        layer.Set("c", TensorToJs(env, state[l].second));
        out.Set(static_cast<uint32_t>(l), layer);
      }
      return out;
    });
  }

  // setState(which, batchSize, [{ h: Float32Array, c: Float32Array }, ...]): one entry per layer.
  Napi::Value SetState(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      LstmState& state = StateNamed(s, ArgString(info, 0, "which"));
      const int64_t batchSize = ArgInt(info, 1, "batchSize", 1, 1 << 20);
      const int64_t layers = s.encoder.options().numLayers;
      if (info.Length() < 3 || !info[2].IsArray() || info[2].As<Napi::Array>().Length() != static_cast<uint32_t>(layers)) {
        throw ArgumentError("state must be an array with one { h, c } per layer (" + std::to_string(layers) + ")");
      }
      LstmState fresh;
      const auto options = s.encoder.embedding().options().requires_grad(false);
      for (int64_t l = 0; l < layers; l++) {
        Napi::Value entry = info[2].As<Napi::Array>().Get(static_cast<uint32_t>(l));
        if (!entry.IsObject()) throw ArgumentError("state[" + std::to_string(l) + "] must be { h, c }");
        const Napi::Object e = entry.As<Napi::Object>();
        std::pair<at::Tensor, at::Tensor> hc;
        for (const char* part : {"h", "c"}) {
          Napi::Value v = e.Get(part);
          if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
            throw ArgumentError("state[" + std::to_string(l) + "]." + part + " must be a Float32Array");
          }
          at::Tensor t = at::empty({1, batchSize, s.encoder.LayerOutputSize(l)}, options);
          CopyInto(t, v.As<Napi::Float32Array>(), "state[" + std::to_string(l) + "]." + part);
          (part[0] == 'h' ? hc.first : hc.second) = t;
        }
        fresh.push_back(hc);
      }
      state = std::move(fresh);
      return info.Env().Undefined();
    });
  }

  // trainStep(batch: { input, target, batchSize, seqLen }, hyper) -> Promise<StepOutcome> (train_step.h)
  // hyper: { optimizer, groups: [{ lr, beta1, beta2, momentum, weightDecay }], eps, clip, alpha, beta }
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const Batch host = ReadBatch(ArgObject(info, 0, "batch"), s);
      const StepHyper hyper = ReadHyper(ArgObject(info, 1, "hyper"), s.optimizer->numGroups());
      const Fault fault = std::exchange(s.pendingFault, Fault::None);
      return RunAsync<StepOutcome>(
          info, "ulmfit.LanguageModel.trainStep", /*gradEnabled=*/true,
          [host, hyper, fault](LmSession& s) {
            const auto [input, target] = host.OnDevice(s.encoder.device());
            const CudnnTf32Scope tf32(s.precision, s.encoder.device().type());
            LstmState& state = s.StateFor(s.trainState, input.size(0));
            const LstmState before = state;  // Forward puts new tensors in the state, never writes into these
            return RunTrainStep(
                s, hyper, fault, [&] { return ForwardBackward(s, input, target, hyper, fault); },
                [&](const at::Tensor& skip) {
                  // A skipped step leaves the carried hidden state as it was too: a NaN that reached it would
                  // otherwise poison every later batch of the epoch.
                  const at::Tensor skipped = skip > 0;
                  for (size_t l = 0; l < state.size(); l++) {
                    state[l] = {at::where(skipped, before[l].first, state[l].first), at::where(skipped, before[l].second, state[l].second)};
                  }
                });
          },
          [](Napi::Env env, StepOutcome& r) -> Napi::Value { return StepOutcomeToJs(env, r); });
    });
  }

  // The language model's forward pass (under autocast when bf16), cross-entropy through the chunked tied
  // decoder, AR/TAR, and backward, still under autocast as the forward was.
  static StepLoss ForwardBackward(LmSession& s, const at::Tensor& input, const at::Tensor& target, const StepHyper& hyper, Fault fault) {
    AutocastScope autocast(s.precision, s.encoder.device().type());
    DropoutMasks masks = s.encoder.DrawMasks(input.size(0), s.fixedMasks ? &*s.fixedMasks : nullptr);
    if (s.recordMasks) s.lastMasks = masks;
    if (fault == Fault::Embeddings) {
      PoisonEmbeddingRow(masks, input[0][0].item<int64_t>(), s.encoder.options().vocabSize,
                         s.encoder.embedding().options().requires_grad(false));
    }
    const ForwardOutputs out = s.encoder.Forward(input, s.trainState, &masks);
    at::Tensor hidden = out.droppedLast.reshape({-1, out.droppedLast.size(2)});
    const DecoderLoss decoder = DecoderCrossEntropy(hidden, s.encoder.embedding(), s.decoderBias, target.reshape({-1}), s.chunkRows,
                                                    /*withGrad=*/true, /*countCorrect=*/false);
    at::Tensor crossEntropy = decoder.sumCrossEntropy / static_cast<double>(hidden.size(0));
    // The decoder's gradient enters the graph as a surrogate term whose gradient is dInput.
    at::Tensor objective = (hidden * decoder.dInput).sum();
    at::Tensor regulariser = at::zeros({}, crossEntropy.options());
    // AR on the dropped last-layer output, TAR on its raw output (training only, as in fastai).
    // In fp32 whatever the precision: the loss is always fp32.
    if (hyper.alpha != 0.0) regulariser = regulariser + hyper.alpha * out.droppedLast.to(at::kFloat).pow(2).mean();
    if (hyper.beta != 0.0 && out.rawLast.size(1) > 1) {
      const int64_t t = out.rawLast.size(1);
      const at::Tensor raw = out.rawLast.to(at::kFloat);
      regulariser = regulariser + hyper.beta * (raw.narrow(1, 1, t - 1) - raw.narrow(1, 0, t - 1)).pow(2).mean();
    }
    if (fault == Fault::Loss) regulariser = regulariser + kNaN;
    (objective + regulariser).backward();
    at::NoGradGuard noGrad;
    // The decoder's own gradients; the tied weight already holds the embedding path's.
    for (const auto& [param, grad] : {std::pair{s.encoder.embedding(), decoder.dWeight}, std::pair{s.decoderBias, decoder.dBias}}) {
      if (!param.requires_grad()) continue;
      at::Tensor& g = param.mutable_grad();
      if (g.defined())
        g.add_(grad);
      else
        g = grad;
    }
    return {crossEntropy.detach(), crossEntropy.detach() + regulariser.detach(), at::Tensor()};
  }

  // evalStep(batch: { input, target, batchSize, seqLen }) -> Promise<{ loss (summed cross-entropy), tokens, correct }>
  Napi::Value EvalStep(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const Batch host = ReadBatch(ArgObject(info, 0, "batch"), s);
      return RunAsync<EvalResult>(
          info, "ulmfit.LanguageModel.evalStep", /*gradEnabled=*/false,
          [host](LmSession& s) {
            const auto [input, target] = host.OnDevice(s.encoder.device());
            const CudnnTf32Scope tf32(s.precision, s.encoder.device().type());
            AutocastScope autocast(s.precision, s.encoder.device().type());
            const ForwardOutputs out = s.encoder.Forward(input, s.StateFor(s.evalState, input.size(0)), nullptr);
            at::Tensor hidden = out.droppedLast.reshape({-1, out.droppedLast.size(2)});
            const DecoderLoss decoder =
                DecoderCrossEntropy(hidden, s.encoder.embedding(), s.decoderBias, target.reshape({-1}), s.chunkRows, /*withGrad=*/false,
                                    /*countCorrect=*/true);
            at::Tensor numbers = at::stack({decoder.sumCrossEntropy.to(at::kDouble), decoder.correct.to(at::kDouble)}).to(at::kCPU);
            const double* n = numbers.data_ptr<double>();
            return EvalResult{n[0], hidden.size(0), static_cast<int64_t>(n[1])};
          },
          [](Napi::Env env, EvalResult& r) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("loss", r.loss);
            o.Set("tokens", static_cast<double>(r.tokens));
            o.Set("correct", static_cast<double>(r.correct));
            return o;
          });
    });
  }

  // nextTokenLogits(batch: { input, batchSize, seqLen }) -> Promise<{ data, shape: [batchSize, vocab] }>
  // Evaluation mode, carrying the "generate" hidden state: the logits after each row's last token (text
  // generation feeds a prompt, then one sampled token at a time).
  Napi::Value NextTokenLogits(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const Napi::Object batch = ArgObject(info, 0, "batch");
      const auto [batchSize, seqLen] = GridOf(batch);
      const at::Tensor hostInput = TokensFrom(batch, "input", {batchSize, seqLen}, s.encoder.options().vocabSize, s.encoder.device());
      return RunAsync<at::Tensor>(
          info, "ulmfit.LanguageModel.nextTokenLogits", /*gradEnabled=*/false,
          [hostInput](LmSession& s) {
            const at::Tensor input = ToDevice(hostInput, s.encoder.device());
            const CudnnTf32Scope tf32(s.precision, s.encoder.device().type());
            AutocastScope autocast(s.precision, s.encoder.device().type());
            const ForwardOutputs out = s.encoder.Forward(input, s.StateFor(s.generateState, input.size(0)), nullptr);
            const at::Tensor last = out.droppedLast.select(1, out.droppedLast.size(1) - 1).to(at::kFloat);
            const at::Tensor logits = at::addmm(s.decoderBias, last, s.encoder.embedding().t());
            return logits.to(at::kCPU).contiguous();
          },
          [](Napi::Env env, at::Tensor& logits) -> Napi::Value { return TensorToJs(env, logits); });
    });
  }
};

}  // namespace

Napi::Function DefineLanguageModel(Napi::Env env) { return LanguageModel::Define(env); }

}  // namespace ulmfit
