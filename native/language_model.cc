#include "language_model.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/zeros.h>

#include <atomic>
#include <memory>
#include <optional>

#include "args.h"
#include "async.h"
#include "awd_lstm.h"
#include "device.h"
#include "errors.h"
#include "lm_loss.h"
#include "optimizer.h"
#include "precision.h"
#include "runtime.h"
#include "tensor_js.h"

namespace ulmfit {

namespace {

struct LmSession {
  LmSession(const AwdLstmOptions& options, const c10::Device& device, int64_t lossChunkRows, Precision precision)
      : model(options),
        optimizer(model.parameters(), static_cast<int>(options.numLayers) + 1),
        chunkRows(lossChunkRows > 0 ? lossChunkRows : DefaultChunkRows(options.vocabSize)),
        precision(precision) {
    model.To(device);
  }
  AwdLstmLm model;
  GroupOptimizer optimizer;
  int64_t chunkRows;  // rows of logits decoded at a time
  Precision precision;
  LstmState trainState, evalState;
  std::optional<DropoutMasks> fixedMasks;  // replace the random masks while set
  bool recordMasks = false;
  DropoutMasks lastMasks;                   // what the last training step applied, when recording
  std::atomic<bool> busy{false};            // from a step's call until its promise settles
};

double NumberField(const Napi::Object& object, const char* field, double fallback, const std::string& where) {
  Napi::Value v = object.Get(field);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw ArgumentError(where + "." + field + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

AwdLstmOptions ReadOptions(const Napi::Object& o) {
  AwdLstmOptions options;
  const auto integer = [&](const char* field, int64_t fallback, int64_t min) {
    const double d = NumberField(o, field, static_cast<double>(fallback), "options");
    if (d != static_cast<double>(static_cast<int64_t>(d)) || d < min) {
      throw ArgumentError(std::string("options.") + field + " must be an integer >= " + std::to_string(min));
    }
    return static_cast<int64_t>(d);
  };
  const auto probability = [&](const char* field, double fallback) {
    const double p = NumberField(o, field, fallback, "options");
    if (!(p >= 0.0 && p < 1.0)) throw ArgumentError(std::string("options.") + field + " must be in [0, 1)");
    return p;
  };
  options.vocabSize = integer("vocabSize", 0, 2);
  options.embSize = integer("embSize", options.embSize, 1);
  options.hiddenSize = integer("hiddenSize", options.hiddenSize, 1);
  options.numLayers = integer("numLayers", options.numLayers, 1);
  options.padId = integer("padId", options.padId, 0);
  if (options.padId >= options.vocabSize) throw ArgumentError("options.padId must be below options.vocabSize");
  options.embedP = probability("embedP", options.embedP);
  options.inputP = probability("inputP", options.inputP);
  options.weightP = probability("weightP", options.weightP);
  options.hiddenP = probability("hiddenP", options.hiddenP);
  options.outputP = probability("outputP", options.outputP);
  return options;
}

StepHyper ReadHyper(const Napi::Value& value, int numGroups) {
  if (!value.IsObject()) throw ArgumentError("hyper must be an object");
  const Napi::Object o = value.As<Napi::Object>();
  StepHyper hyper;
  Napi::Value kind = o.Get("optimizer");
  if (!kind.IsUndefined()) {
    const std::string k = kind.IsString() ? kind.As<Napi::String>().Utf8Value() : "";
    if (k == "adamw") hyper.kind = OptimizerKind::AdamW;
    else if (k == "sgd") hyper.kind = OptimizerKind::Sgd;
    else throw ArgumentError("hyper.optimizer must be \"adamw\" or \"sgd\"");
  }
  hyper.eps = NumberField(o, "eps", hyper.eps, "hyper");
  hyper.clip = NumberField(o, "clip", hyper.clip, "hyper");
  Napi::Value groups = o.Get("groups");
  if (!groups.IsArray() || groups.As<Napi::Array>().Length() != static_cast<uint32_t>(numGroups)) {
    throw ArgumentError("hyper.groups must be an array with one entry per layer group (" + std::to_string(numGroups) + ")");
  }
  for (uint32_t g = 0; g < static_cast<uint32_t>(numGroups); g++) {
    Napi::Value entry = groups.As<Napi::Array>().Get(g);
    if (!entry.IsObject()) throw ArgumentError("hyper.groups[" + std::to_string(g) + "] must be an object");
    const std::string where = "hyper.groups[" + std::to_string(g) + "]";
    const Napi::Object e = entry.As<Napi::Object>();
    GroupHyper h;
    h.lr = NumberField(e, "lr", h.lr, where);
    h.beta1 = NumberField(e, "beta1", h.beta1, where);
    h.beta2 = NumberField(e, "beta2", h.beta2, where);
    h.weightDecay = NumberField(e, "weightDecay", h.weightDecay, where);
    hyper.groups.push_back(h);
  }
  return hyper;
}

// Token ids from an Int32Array of batchSize x seqLen, checked against the vocabulary before LibTorch sees
// them, as int64 on the model's device.
at::Tensor TokensFrom(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t batchSize, int64_t seqLen,
                      int64_t vocabSize, const c10::Device& device) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw ArgumentError(std::string(name) + " must be an Int32Array");
  }
  Napi::Int32Array ids = v.As<Napi::Int32Array>();
  if (static_cast<int64_t>(ids.ElementLength()) != batchSize * seqLen) {
    throw ArgumentError(std::string(name) + " has " + std::to_string(ids.ElementLength()) + " ids, batchSize x seqLen is " +
                        std::to_string(batchSize * seqLen));
  }
  for (size_t i = 0; i < ids.ElementLength(); i++) {
    if (ids[i] < 0 || ids[i] >= vocabSize) {
      throw ArgumentError(std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                          " is outside the vocabulary [0, " + std::to_string(vocabSize) + ")");
    }
  }
  // from_blob views the JS memory; the int64 copy made here is what the worker owns.
  return at::from_blob(ids.Data(), {batchSize, seqLen}, at::kInt).to(device, at::kLong);
}

// The (input, target) pair of a step: arguments 0..3 are input, target, batchSize, seqLen.
struct Batch {
  at::Tensor input, target;
};

Batch ReadBatch(const Napi::CallbackInfo& info, const LmSession& s) {
  const int64_t batchSize = ArgInt(info, 2, "batchSize", 1, 1 << 20);
  const int64_t seqLen = ArgInt(info, 3, "seqLen", 1, 1 << 20);
  const int64_t vocab = s.model.options().vocabSize;
  const c10::Device device = s.model.device();
  return {TokensFrom(info, 0, "input", batchSize, seqLen, vocab, device),
          TokensFrom(info, 1, "target", batchSize, seqLen, vocab, device)};
}

struct TrainResult {
  double crossEntropy, loss, gradNorm;
  bool skipped;
};

struct EvalResult {
  double loss;
  int64_t tokens, correct;
};

class LanguageModel : public Napi::ObjectWrap<LanguageModel> {
 public:
  explicit LanguageModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LanguageModel>(info) {
    try {
      if (info.Length() < 1 || !info[0].IsObject()) throw ArgumentError("options must be an object");
      const AwdLstmOptions options = ReadOptions(info[0].As<Napi::Object>());
      const c10::Device device = ParseDevice(ArgString(info, 1, "device"));
      const double chunk = NumberField(info[0].As<Napi::Object>(), "lossChunkRows", 0, "options");
      if (!(chunk >= 0 && chunk <= 1e9)) throw ArgumentError("options.lossChunkRows must be a non-negative integer");
      const Napi::Value precision = info[0].As<Napi::Object>().Get("precision");
      const Precision p = precision.IsString() ? ParsePrecision(precision.As<Napi::String>().Utf8Value()) : Precision::Fp32;
      session_ = std::make_shared<LmSession>(options, device, static_cast<int64_t>(chunk), p);
    } catch (const Napi::Error&) {
      throw;
    } catch (...) {
      throw ToJsError(info.Env(), DescribeCurrentException());
    }
  }

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LanguageModel",
                       {
                           InstanceMethod<&LanguageModel::Parameters>("parameters"),
                           InstanceMethod<&LanguageModel::Groups>("groups"),
                           InstanceMethod<&LanguageModel::GetTensor>("getTensor"),
                           InstanceMethod<&LanguageModel::SetTensor>("setTensor"),
                           InstanceMethod<&LanguageModel::GetGrad>("getGrad"),
                           InstanceMethod<&LanguageModel::FreezeTo>("freezeTo"),
                           InstanceMethod<&LanguageModel::ResetState>("resetState"),
                           InstanceMethod<&LanguageModel::GetState>("getState"),
                           InstanceMethod<&LanguageModel::SetState>("setState"),
                           InstanceMethod<&LanguageModel::TrainStep>("trainStep"),
                           InstanceMethod<&LanguageModel::EvalStep>("evalStep"),
                           InstanceMethod<&LanguageModel::GetOptimizerState>("getOptimizerState"),
                           InstanceMethod<&LanguageModel::SetOptimizerState>("setOptimizerState"),
                           InstanceMethod<&LanguageModel::FrozenBefore>("frozenBefore"),
                           InstanceMethod<&LanguageModel::SetDropoutMasks>("setDropoutMasks"),
                           InstanceMethod<&LanguageModel::RecordDropoutMasks>("recordDropoutMasks"),
                           InstanceMethod<&LanguageModel::LastDropoutMasks>("lastDropoutMasks"),
                           InstanceMethod<&LanguageModel::Dispose>("dispose"),
                       });
  }

 private:
  // Every method: C++ exceptions become JS errors; a disposed model or one with a step in flight refuses.
  template <typename Fn>
  Napi::Value Guard(const Napi::CallbackInfo& info, Fn&& fn) {
    try {
      if (!session_) throw ArgumentError("this model was disposed");
      if (session_->busy.load()) throw ArgumentError("a step is in flight on this model; wait for its promise first");
      return fn(*session_);
    } catch (const Napi::Error&) {
      throw;
    } catch (...) {
      throw ToJsError(info.Env(), DescribeCurrentException());
    }
  }

  const at::Tensor& FindTensor(LmSession& s, const std::string& name) {
    std::string target = name;
    for (const auto& [alias, of] : AwdLstmLm::Aliases()) {
      if (alias == name) target = of;
    }
    for (const auto& p : s.model.parameters()) {
      if (p.name == target) return p.tensor;
    }
    throw ArgumentError("no tensor named \"" + name + "\"");
  }

  LstmState& StateNamed(LmSession& s, const std::string& which) {
    if (which == "train") return s.trainState;
    if (which == "eval") return s.evalState;
    throw ArgumentError("state must be \"train\" or \"eval\", got \"" + which + "\"");
  }

  Napi::Value Parameters(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      Napi::Env env = info.Env();
      Napi::Array out = Napi::Array::New(env);
      for (const auto& p : s.model.parameters()) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", p.name);
        Napi::Array shape = Napi::Array::New(env);
        for (int64_t i = 0; i < p.tensor.dim(); i++) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, p.tensor.size(i)));
        o.Set("shape", shape);
        o.Set("group", p.group);
        o.Set("decay", p.decay);
        o.Set("trainable", p.group >= s.optimizer.frozenBefore());
        out.Set(out.Length(), o);
      }
      Napi::Object aliases = Napi::Object::New(env);
      for (const auto& [alias, of] : AwdLstmLm::Aliases()) aliases.Set(alias, of);
      Napi::Object result = Napi::Object::New(env);
      result.Set("parameters", out);
      result.Set("aliases", aliases);
      return result;
    });
  }

  Napi::Value Groups(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      Napi::Env env = info.Env();
      const auto names = AwdLstmLm::GroupNames(s.model.options().numLayers);
      Napi::Array out = Napi::Array::New(env, names.size());
      for (size_t g = 0; g < names.size(); g++) {
        Napi::Array members = Napi::Array::New(env);
        double count = 0;
        for (const auto& p : s.model.parameters()) {
          if (p.group != static_cast<int>(g)) continue;
          members.Set(members.Length(), p.name);
          count += static_cast<double>(p.tensor.numel());
        }
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", names[g]);
        o.Set("parameters", members);
        o.Set("numel", count);
        o.Set("trainable", static_cast<int>(g) >= s.optimizer.frozenBefore());
        out.Set(static_cast<uint32_t>(g), o);
      }
      return out;
    });
  }

  Napi::Value GetTensor(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      return TensorToJs(info.Env(), FindTensor(s, ArgString(info, 0, "name")));
    });
  }

  Napi::Value SetTensor(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const std::string name = ArgString(info, 0, "name");
      CopyInto(FindTensor(s, name), ArgFloat32Array(info, 1, "data"), "setTensor(\"" + name + "\")");
      return info.Env().Undefined();
    });
  }

  Napi::Value GetGrad(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const at::Tensor& t = FindTensor(s, ArgString(info, 0, "name"));
      if (!t.grad().defined()) return info.Env().Null();
      return TensorToJs(info.Env(), t.grad());
    });
  }

  Napi::Value FreezeTo(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const int n = ArgInt(info, 0, "n", 0, s.optimizer.numGroups() - 1);
      const bool clear = info.Length() > 1 && info[1].ToBoolean().Value();
      s.optimizer.FreezeTo(n, clear);
      return info.Env().Undefined();
    });
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
      const int64_t layers = s.model.options().numLayers;
      if (info.Length() < 3 || !info[2].IsArray() || info[2].As<Napi::Array>().Length() != static_cast<uint32_t>(layers)) {
        throw ArgumentError("state must be an array with one { h, c } per layer (" + std::to_string(layers) + ")");
      }
      LstmState fresh;
      const auto options = s.model.parameters().front().tensor.options().requires_grad(false);
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
          at::Tensor t = at::empty({1, batchSize, s.model.LayerOutputSize(l)}, options);
          CopyInto(t, v.As<Napi::Float32Array>(), "state[" + std::to_string(l) + "]." + part);
          (part[0] == 'h' ? hc.first : hc.second) = t;
        }
        fresh.push_back(hc);
      }
      state = std::move(fresh);
      return info.Env().Undefined();
    });
  }

  // trainStep(input: Int32Array, target: Int32Array, batchSize, seqLen, hyper) -> Promise<TrainResult>
  // hyper: { optimizer, groups: [{ lr, beta1, beta2, weightDecay }], eps, clip, alpha, beta }
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const auto [input, target] = ReadBatch(info, s);
      const StepHyper hyper = ReadHyper(info[4], s.optimizer.numGroups());
      const Napi::Object h = info[4].As<Napi::Object>();
      const double alpha = NumberField(h, "alpha", 2.0, "hyper");
      const double beta = NumberField(h, "beta", 1.0, "hyper");
      auto session = session_;
      session->busy.store(true);
      return Task<TrainResult>::Run(
          info.Env(), "ulmfit.LanguageModel.trainStep", SettingsOf(info.Env(), /*gradEnabled=*/true),
          [session, input, target, hyper, alpha, beta]() {
            LmSession& s = *session;
            AutocastScope autocast(s.precision, s.model.device().type());
            const ForwardOutputs out = s.model.Forward(input, /*training=*/true, s.trainState,
                                                       s.fixedMasks ? &*s.fixedMasks : nullptr,
                                                       s.recordMasks ? &s.lastMasks : nullptr);
            at::Tensor hidden = out.droppedLast.reshape({-1, out.droppedLast.size(2)});
            const DecoderLoss decoder = DecoderCrossEntropy(hidden, s.model.decoderWeight(), s.model.decoderBias(),
                                                            target.reshape({-1}), s.chunkRows, /*withGrad=*/true,
                                                            /*countCorrect=*/false);
            at::Tensor crossEntropy = decoder.sumCrossEntropy / static_cast<double>(hidden.size(0));
            // The decoder's gradient enters the graph as a surrogate term whose gradient is dInput.
            at::Tensor objective = (hidden * decoder.dInput).sum();
            at::Tensor regulariser = at::zeros({}, crossEntropy.options());
            // AR on the dropped last-layer output, TAR on its raw output (training only, as in fastai).
            // In fp32 whatever the precision: the loss is always fp32.
            if (alpha != 0.0) regulariser = regulariser + alpha * out.droppedLast.to(at::kFloat).pow(2).mean();
            if (beta != 0.0 && out.rawLast.size(1) > 1) {
              const int64_t t = out.rawLast.size(1);
              const at::Tensor raw = out.rawLast.to(at::kFloat);
              regulariser = regulariser + beta * (raw.narrow(1, 1, t - 1) - raw.narrow(1, 0, t - 1)).pow(2).mean();
            }
            s.optimizer.ZeroGrad();
            (objective + regulariser).backward();
            at::NoGradGuard noGrad;
            // The decoder's own gradients; the tied weight already holds the embedding path's.
            for (const auto& [param, grad] : {std::pair{s.model.decoderWeight(), decoder.dWeight},
                                              std::pair{s.model.decoderBias(), decoder.dBias}}) {
              if (!param.requires_grad()) continue;
              at::Tensor& g = param.mutable_grad();
              if (g.defined()) g.add_(grad);
              else g = grad;
            }
            at::Tensor loss = crossEntropy + regulariser.detach();
            at::Tensor norm = s.optimizer.GradNorm();
            // A non-finite loss or gradient skips the update on the device: no host round trip decides it.
            at::Tensor foundInf = (~(at::isfinite(norm) & at::isfinite(loss.detach()))).to(at::kFloat);
            s.optimizer.ClipTo(norm, hyper.clip);
            s.optimizer.Step(hyper, foundInf);
            // The step's only host transfer: the four numbers the caller gets.
            at::Tensor numbers = at::stack({crossEntropy.detach(), loss.detach(), norm, foundInf}).to(at::kCPU, at::kDouble);
            const double* n = numbers.data_ptr<double>();
            return TrainResult{n[0], n[1], n[2], n[3] != 0.0};
          },
          [](Napi::Env env, TrainResult& r) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("crossEntropy", r.crossEntropy);
            o.Set("loss", r.loss);
            o.Set("gradNorm", r.gradNorm);
            o.Set("skipped", r.skipped);
            return o;
          },
          [session]() { session->busy.store(false); });
    });
  }

  // evalStep(input, target, batchSize, seqLen) -> Promise<{ loss (summed cross-entropy), tokens, correct }>
  Napi::Value EvalStep(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const auto [input, target] = ReadBatch(info, s);
      auto session = session_;
      session->busy.store(true);
      return Task<EvalResult>::Run(
          info.Env(), "ulmfit.LanguageModel.evalStep", SettingsOf(info.Env(), /*gradEnabled=*/false),
          [session, input, target]() {
            LmSession& s = *session;
            AutocastScope autocast(s.precision, s.model.device().type());
            const ForwardOutputs out = s.model.Forward(input, /*training=*/false, s.evalState);
            at::Tensor hidden = out.droppedLast.reshape({-1, out.droppedLast.size(2)});
            const DecoderLoss decoder = DecoderCrossEntropy(hidden, s.model.decoderWeight(), s.model.decoderBias(),
                                                            target.reshape({-1}), s.chunkRows, /*withGrad=*/false,
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
          },
          [session]() { session->busy.store(false); });
    });
  }

  // The optimizer's state as [{ name, part, data, shape }], part one of exp_avg, exp_avg_sq, step,
  // momentum_buffer; parameters that have not been updated yet have none.
  Napi::Value GetOptimizerState(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      Napi::Env env = info.Env();
      Napi::Array out = Napi::Array::New(env);
      const auto& params = s.model.parameters();
      auto& state = s.optimizer.state();
      for (size_t i = 0; i < params.size(); i++) {
        const auto add = [&](const char* part, const at::Tensor& t) {
          if (!t.defined()) return;
          Napi::Object o = TensorToJs(env, t);
          o.Set("name", params[i].name);
          o.Set("part", part);
          out.Set(out.Length(), o);
        };
        add("exp_avg", state[i].expAvg);
        add("exp_avg_sq", state[i].expAvgSq);
        add("step", state[i].step);
        add("momentum_buffer", state[i].momentum);
      }
      return out;
    });
  }

  // setOptimizerState(name, part, data: Float32Array): restores one piece of saved optimizer state.
  Napi::Value SetOptimizerState(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      const std::string name = ArgString(info, 0, "name");
      const std::string part = ArgString(info, 1, "part");
      const auto& params = s.model.parameters();
      size_t i = 0;
      while (i < params.size() && params[i].name != name) i++;
      if (i == params.size()) throw ArgumentError("optimizer state for \"" + name + "\": no such parameter");
      const at::Tensor& p = params[i].tensor;
      auto& st = s.optimizer.state()[i];
      const auto options = p.options().requires_grad(false);
      at::Tensor* slot = part == "exp_avg" ? &st.expAvg : part == "exp_avg_sq" ? &st.expAvgSq : part == "step" ? &st.step
                       : part == "momentum_buffer" ? &st.momentum : nullptr;
      if (!slot) throw ArgumentError("optimizer state part must be exp_avg, exp_avg_sq, step or momentum_buffer, got \"" + part + "\"");
      at::Tensor t = part == "step" ? at::empty({}, options.dtype(at::kFloat)) : at::empty(p.sizes(), options);
      CopyInto(t, ArgFloat32Array(info, 2, "data"), "optimizer state " + name + "." + part);
      *slot = t;
      return info.Env().Undefined();
    });
  }

  Napi::Value FrozenBefore(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value { return Napi::Number::New(info.Env(), s.optimizer.frozenBefore()); });
  }

  // setDropoutMasks(masks | null): { embed?, input?, weight?: [], hidden?: [], output? }, each { data, shape },
  // used by every training step until cleared; a mask left out is drawn at random as usual.
  Napi::Value SetDropoutMasks(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
        s.fixedMasks.reset();
        return info.Env().Undefined();
      }
      if (!info[0].IsObject()) throw ArgumentError("masks must be an object or null");
      const Napi::Object o = info[0].As<Napi::Object>();
      DropoutMasks masks;
      const auto one = [&](const char* key) {
        const Napi::Value v = o.Get(key);
        return v.IsUndefined() || v.IsNull() ? at::Tensor() : TensorFromJs(v, std::string("masks.") + key);
      };
      const auto many = [&](const char* key) {
        std::vector<at::Tensor> list;
        const Napi::Value v = o.Get(key);
        if (v.IsUndefined() || v.IsNull()) return list;
        if (!v.IsArray()) throw ArgumentError(std::string("masks.") + key + " must be an array");
        const Napi::Array a = v.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) {
          list.push_back(TensorFromJs(a.Get(i), std::string("masks.") + key + "[" + std::to_string(i) + "]"));
        }
        return list;
      };
      masks.embed = one("embed");
      masks.input = one("input");
      masks.weight = many("weight");
      masks.hidden = many("hidden");
      masks.output = one("output");
      s.fixedMasks = std::move(masks);
      return info.Env().Undefined();
    });
  }

  Napi::Value RecordDropoutMasks(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      s.recordMasks = info.Length() > 0 && info[0].ToBoolean().Value();
      if (!s.recordMasks) s.lastMasks = DropoutMasks{};
      return info.Env().Undefined();
    });
  }

  // The masks the last training step applied (while recording), as setDropoutMasks takes them.
  Napi::Value LastDropoutMasks(const Napi::CallbackInfo& info) {
    return Guard(info, [&](LmSession& s) -> Napi::Value {
      Napi::Env env = info.Env();
      const DropoutMasks& m = s.lastMasks;
      const auto one = [&](const at::Tensor& t) -> Napi::Value { return t.defined() ? Napi::Value(TensorToJs(env, t)) : env.Null(); };
      const auto many = [&](const std::vector<at::Tensor>& list) {
        Napi::Array a = Napi::Array::New(env, list.size());
        for (size_t i = 0; i < list.size(); i++) a.Set(static_cast<uint32_t>(i), one(list[i]));
        return a;
      };
      Napi::Object out = Napi::Object::New(env);
      out.Set("embed", one(m.embed));
      out.Set("input", one(m.input));
      out.Set("weight", many(m.weight));
      out.Set("hidden", many(m.hidden));
      out.Set("output", one(m.output));
      return out;
    });
  }

  // Lets go of the model now; a step in flight keeps what it needs until it ends.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    session_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<LmSession> session_;
};

}  // namespace

Napi::Function DefineLanguageModel(Napi::Env env) { return LanguageModel::Define(env); }

}  // namespace ulmfit
