#include "classifier.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/argmax.h>
#include <ATen/ops/bincount.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/softmax.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/tensor.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "async.h"
#include "awd_lstm.h"
#include "bpt3c.h"
#include "classifier_head.h"
#include "device.h"
#include "errors.h"
#include "model_session.h"
#include "model_wrap.h"
#include "optimizer.h"
#include "precision.h"
#include "runtime.h"
#include "step_args.h"
#include "train_step.h"
#include "transfer.h"

namespace ulmfit {

namespace {

struct ClassifierOptions {
  AwdLstmOptions encoder;
  HeadOptions head;
  Bpt3cOptions bpt3c;
};

struct ClassifierSession : ModelSession {
  ClassifierSession(const ClassifierOptions& options, const c10::Device& device, Precision precision)
      : encoder(options.encoder, EncoderLayout{"0.module.", /*embeddingGroup=*/0, /*firstRnnGroup=*/1}),
        head(options.head, static_cast<int>(options.encoder.numLayers) + 1),
        bpt3c(options.bpt3c),
        precision(precision) {
    // fastai's classifier split: embedding, one group per LSTM layer, the head.
    for (const auto& p : encoder.parameters()) {
      if (p.group == 0) parameters.push_back(p);
    }
    for (const auto& p : encoder.parameters()) {
      if (p.group != 0) parameters.push_back(p);
    }
    parameters.insert(parameters.end(), head.parameters().begin(), head.parameters().end());
    buffers = head.buffers();
    aliases = {{"0.module.encoder_dp.emb.weight", "0.module.encoder.weight"}};
    groupNames.push_back("embedding");
    for (int64_t l = 0; l < options.encoder.numLayers; l++) groupNames.push_back("rnn" + std::to_string(l));
    groupNames.push_back("head");
    encoder.To(device);
    head.To(device);
    BuildOptimizer();
  }
  AwdLstm encoder;
  ClassifierHead head;
  Bpt3cOptions bpt3c;
  Precision precision;

  int64_t numClasses() const { return head.options().numClasses; }

  // Pooled features [bs, 3 x emb] in fp32 (and the AR/TAR sums when asked); the encoder under autocast
  // when bf16 (the head stays fp32).
  Encoded Encode(const at::Tensor& tokens, const std::vector<int64_t>& lengths, const DropoutMasks* masks, bool regularise) {
    AutocastScope autocast(precision, encoder.device().type());
    return EncodeAndPool(encoder, tokens, lengths, bpt3c, masks, regularise);
  }
};

std::vector<int64_t> Int64Vector(const Napi::Object& o, const char* field, int64_t min) {
  const Napi::Value v = o.Get(field);
  if (!v.IsArray()) throw ArgumentError(std::string("options.") + field + " must be an array of integers");
  std::vector<int64_t> out;
  const Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    const Napi::Value item = a.Get(i);
    const double d = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || std::floor(d) != d || d < min) {
      throw ArgumentError(std::string("options.") + field + "[" + std::to_string(i) + "] must be an integer >= " + std::to_string(min));
    }
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

ClassifierOptions ReadOptions(const Napi::Object& o) {
  ClassifierOptions options;
  options.encoder = ReadEncoderOptions(o, /*withOutputP=*/false);
  HeadOptions& h = options.head;
  h.inFeatures = 3 * options.encoder.embSize;
  h.numClasses = IntegerField(o, "numClasses", 2, "options");
  h.hidden = Int64Vector(o, "headHidden", 1);
  const Napi::Value ps = o.Get("headDropouts");
  if (!ps.IsArray() || ps.As<Napi::Array>().Length() != h.hidden.size() + 1) {
    throw ArgumentError("options.headDropouts must be an array with one probability per head block (" +
                        std::to_string(h.hidden.size() + 1) + ")");
  }
  h.dropouts.clear();
  for (uint32_t k = 0; k <= h.hidden.size(); k++) {
    const Napi::Value p = ps.As<Napi::Array>().Get(k);
    const double d = p.IsNumber() ? p.As<Napi::Number>().DoubleValue() : NAN;
    if (!(d >= 0.0 && d < 1.0)) throw ArgumentError("options.headDropouts[" + std::to_string(k) + "] must be in [0, 1)");
    h.dropouts.push_back(d);
  }
  h.linearBias = BooleanField(o, "headBias", "options");
  options.bpt3c.seqLen = IntegerField(o, "seqLen", 1, "options");
  options.bpt3c.maxLen = IntegerField(o, "maxLen", 0, "options");  // 0: whole documents
  const Napi::Value masks = o.Get("dropoutMasks");
  const std::string masksBy = masks.IsString() ? masks.As<Napi::String>().Utf8Value() : "";
  if (masksBy != "document" && masksBy != "chunk") throw ArgumentError("options.dropoutMasks must be \"document\" or \"chunk\"");
  options.bpt3c.masksPerChunk = masksBy == "chunk";
  return options;
}

// A batch from JS, { tokens, lengths, labels?, rows, length }: the layout and every id checked on the calling
// thread, before LibTorch sees them. Read on the host; OnDevice moves it inside the worker.
struct Batch {
  at::Tensor tokens;             // [rows, length] int64
  std::vector<int64_t> lengths;  // host
  at::Tensor labels;             // [rows] int64, undefined without labels
  int64_t rows = 0;
  Batch OnDevice(const c10::Device& device) const {
    return {ToDevice(tokens, device), lengths, labels.defined() ? ToDevice(labels, device) : labels, rows};
  }
};

Batch ReadBatch(const Napi::Object& batch, const ClassifierSession& s, bool withLabels) {
  Batch b;
  b.rows = IntegerField(batch, "rows", 1, 1 << 24, "batch");
  const int64_t length = IntegerField(batch, "length", 1, 1 << 30, "batch");
  const AwdLstmOptions& o = s.encoder.options();
  const c10::Device device = s.encoder.device();
  const Napi::Int32Array lengths = Int32ArrayField(batch, "lengths", b.rows);
  const Napi::Int32Array tokens = Int32ArrayField(batch, "tokens", b.rows * length);
  CheckLayout(tokens.Data(), b.rows, length, lengths.Data(), s.bpt3c.seqLen, o.padId);
  b.tokens = TokensFrom(batch, "tokens", {b.rows, length}, o.vocabSize, device);
  b.lengths.assign(lengths.Data(), lengths.Data() + b.rows);
  if (withLabels) {
    const int32_t* labels = Int32ArrayField(batch, "labels", b.rows).Data();
    for (int64_t r = 0; r < b.rows; r++) {
      if (labels[r] < 0 || labels[r] >= s.numClasses()) {
        throw ArgumentError("labels[" + std::to_string(r) + "] = " + std::to_string(labels[r]) + " is not a class id [0, " +
                            std::to_string(s.numClasses()) + ")");
      }
    }
    b.labels = HostTensor({b.rows}, at::kLong, device);
    std::copy(labels, labels + b.rows, b.labels.data_ptr<int64_t>());
  }
  return b;
}

// hyper.classWeights: one cross-entropy weight per class, as a host tensor bound for the model's device;
// undefined when absent (equal weights).
at::Tensor ReadClassWeights(const Napi::Object& hyper, const ClassifierSession& s) {
  const Napi::Value w = hyper.Get("classWeights");
  if (w.IsUndefined() || w.IsNull()) return {};
  if (!w.IsArray() || w.As<Napi::Array>().Length() != static_cast<uint32_t>(s.numClasses())) {
    throw ArgumentError("hyper.classWeights must be an array with one weight per class (" + std::to_string(s.numClasses()) + ")");
  }
  at::Tensor weights = HostTensor({s.numClasses()}, at::kFloat, s.encoder.device());
  for (uint32_t c = 0; c < s.numClasses(); c++) {
    const Napi::Value v = w.As<Napi::Array>().Get(c);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!(d >= 0.0 && std::isfinite(d))) throw ArgumentError("hyper.classWeights[" + std::to_string(c) + "] must be a finite number >= 0");
    weights.data_ptr<float>()[c] = static_cast<float>(d);
  }
  return weights;
}

struct EvalResult {
  double loss;
  int64_t count, correct;
  std::vector<double> confusion;  // true x predicted, row-major
};

struct Matrix {
  std::vector<float> data;
  int64_t rows, columns;
};

class Classifier : public ModelWrap<Classifier, ClassifierSession> {
 public:
  explicit Classifier(const Napi::CallbackInfo& info) : ModelWrap(info) {
    Construct(info, [&] {
      if (info.Length() < 1 || !info[0].IsObject()) throw ArgumentError("options must be an object");
      const Napi::Object o = info[0].As<Napi::Object>();
      const ClassifierOptions options = ReadOptions(o);
      const c10::Device device = ParseDevice(ArgString(info, 1, "device"));
      const Precision p = ParsePrecision(StringField(o, "precision", "options"));
      return std::make_shared<ClassifierSession>(options, device, p);
    });
  }

  static Napi::Function Define(Napi::Env env) {
    Methods methods = SharedMethods();
    methods.push_back(InstanceMethod<&Classifier::TrainStep>("trainStep"));
    methods.push_back(InstanceMethod<&Classifier::EvalStep>("evalStep"));
    methods.push_back(InstanceMethod<&Classifier::Predict>("predict"));
    methods.push_back(InstanceMethod<&Classifier::Features>("features"));
    return DefineClass(env, "Classifier", methods);
  }

 private:
  // trainStep(batch: { tokens, lengths, labels, rows, length }, hyper) -> Promise<StepOutcome> (train_step.h)
  // hyper: { optimizer, groups: [{ lr, beta1, beta2, momentum, weightDecay }] (5), eps, clip, alpha, beta, classWeights? }
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    return Guard(info, [&](ClassifierSession& s) -> Napi::Value {
      const Batch host = ReadBatch(ArgObject(info, 0, "batch"), s, /*withLabels=*/true);
      if (host.rows < 2) {
        throw ArgumentError("trainStep needs at least 2 documents: BatchNorm cannot train on one (drop a last batch of 1)");
      }
      const Napi::Object h = ArgObject(info, 1, "hyper");
      const StepHyper hyper = ReadHyper(h, s.optimizer->numGroups());
      const at::Tensor hostWeights = ReadClassWeights(h, s);
      const Fault fault = std::exchange(s.pendingFault, Fault::None);
      return RunAsync<StepOutcome>(
          info, "ulmfit.Classifier.trainStep", /*gradEnabled=*/true,
          [host, hyper, hostWeights, fault](ClassifierSession& s) {
            const CudnnTf32Scope tf32(s.precision, s.encoder.device().type());  // forward and backward
            const Batch batch = host.OnDevice(s.encoder.device());
            const at::Tensor classWeights = hostWeights.defined() ? ToDevice(hostWeights, s.encoder.device()) : hostWeights;
            return RunTrainStep(
                s, hyper, fault, [&] { return ForwardBackward(s, batch, classWeights, hyper, fault); },
                // BatchNorm's statistics move only with a step that was not skipped.
                [&](const at::Tensor& skip) { s.head.CommitStatistics(skip); });
          },
          [](Napi::Env env, StepOutcome& r) -> Napi::Value { return StepOutcomeToJs(env, r); });
    });
  }

  // The classifier's forward pass (BPT3C, pooling, the head), cross-entropy, AR/TAR, and backward.
  static StepLoss ForwardBackward(ClassifierSession& s, const Batch& batch, const at::Tensor& classWeights, const StepHyper& hyper,
                                  Fault fault) {
    const DropoutMasks* fixed = s.fixedMasks ? &*s.fixedMasks : nullptr;
    // One set of masks per batch: each document keeps its masks across its chunks (variational).
    DropoutMasks masks = s.encoder.DrawMasks(batch.rows, fixed);
    masks.head = s.head.DrawMasks(batch.rows, fixed ? &fixed->head : nullptr);
    if (s.recordMasks) s.lastMasks = masks;
    if (fault == Fault::Embeddings) {
      // The first row's first real token (every row holds at least one).
      const at::Tensor real = batch.tokens[0].masked_select(batch.tokens[0] != s.encoder.options().padId);
      PoisonEmbeddingRow(masks, real[0].item<int64_t>(), s.encoder.options().vocabSize,
                         s.encoder.embedding().options().requires_grad(false));
    }
    const Encoded encoded = s.Encode(batch.tokens, batch.lengths, &masks, /*regularise=*/hyper.alpha != 0.0 || hyper.beta != 0.0);
    const at::Tensor logits = s.head.Forward(encoded.features, /*training=*/true, &masks.head, &s.rankSum);
    const at::Tensor crossEntropy = at::cross_entropy_loss(logits, batch.labels, classWeights);
    // AR and TAR as in the language model, on the classifier's encoder outputs over the pooled windows.
    const double values = static_cast<double>(s.encoder.options().embSize);
    at::Tensor loss = crossEntropy;
    if (hyper.alpha != 0.0) loss = loss + hyper.alpha * encoded.activationSquares / (values * static_cast<double>(encoded.positions));
    if (hyper.beta != 0.0 && encoded.pairs > 0)
      loss = loss + hyper.beta * encoded.changeSquares / (values * static_cast<double>(encoded.pairs));
    if (fault == Fault::Loss) loss = loss + kNaN;
    loss.backward();
    at::NoGradGuard noGrad;
    return {crossEntropy.detach(), loss.detach(), (logits.argmax(1) == batch.labels).sum()};
  }

  // evalStep(batch: { tokens, lengths, labels, rows, length }) -> Promise<{ loss (summed), count, correct, confusion }>
  Napi::Value EvalStep(const Napi::CallbackInfo& info) {
    return Guard(info, [&](ClassifierSession& s) -> Napi::Value {
      const Batch host = ReadBatch(ArgObject(info, 0, "batch"), s, /*withLabels=*/true);
      return RunAsync<EvalResult>(
          info, "ulmfit.Classifier.evalStep", /*gradEnabled=*/false,
          [host](ClassifierSession& s) {
            const CudnnTf32Scope tf32(s.precision, s.encoder.device().type());
            const Batch batch = host.OnDevice(s.encoder.device());
            const int64_t classes = s.numClasses();
            const at::Tensor logits =
                s.head.Forward(s.Encode(batch.tokens, batch.lengths, nullptr, /*regularise=*/false).features, /*training=*/false, nullptr);
            const at::Tensor loss = at::cross_entropy_loss(logits, batch.labels, {}, at::Reduction::Sum);
            const at::Tensor predicted = logits.argmax(1);
            const at::Tensor confusion = at::bincount(batch.labels * classes + predicted, {}, classes * classes).to(at::kDouble);
            const at::Tensor numbers = at::cat({loss.reshape({1}).to(at::kDouble), confusion}).to(at::kCPU);
            const double* n = numbers.data_ptr<double>();
            EvalResult r{n[0], batch.rows, 0, std::vector<double>(n + 1, n + 1 + classes * classes)};
            for (int64_t c = 0; c < classes; c++) r.correct += static_cast<int64_t>(r.confusion[c * classes + c]);
            return r;
          },
          [](Napi::Env env, EvalResult& r) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("loss", r.loss);
            o.Set("count", static_cast<double>(r.count));
            o.Set("correct", static_cast<double>(r.correct));
            Napi::Array confusion = Napi::Array::New(env, r.confusion.size());
            for (size_t i = 0; i < r.confusion.size(); i++) confusion.Set(static_cast<uint32_t>(i), r.confusion[i]);
            o.Set("confusion", confusion);
            return o;
          });
    });
  }

  // predict(batch: { tokens, lengths, rows, length }) -> Promise<{ data: Float32Array (rows x classes), shape }>
  Napi::Value Predict(const Napi::CallbackInfo& info) {
    return EvalRows(info, "ulmfit.Classifier.predict", [](ClassifierSession& s, const at::Tensor& features) {
      return at::softmax(s.head.Forward(features, /*training=*/false, nullptr), 1);
    });
  }

  // features(batch: { tokens, lengths, rows, length }) -> Promise<{ data: Float32Array (rows x 3 emb), shape }>: the
  // pooled [last, max, mean] the head reads, in evaluation mode.
  Napi::Value Features(const Napi::CallbackInfo& info) {
    return EvalRows(info, "ulmfit.Classifier.features", [](ClassifierSession&, const at::Tensor& features) { return features; });
  }

  // An evaluation-mode pass over a batch without labels: `rows` turns its pooled features into the
  // [rows, n] matrix the Promise resolves with.
  template <typename RowsOf>
  Napi::Value EvalRows(const Napi::CallbackInfo& info, const char* name, RowsOf rows) {
    return Guard(info, [&](ClassifierSession& s) -> Napi::Value {
      const Batch host = ReadBatch(ArgObject(info, 0, "batch"), s, /*withLabels=*/false);
      return RunAsync<Matrix>(
          info, name, /*gradEnabled=*/false,
          [host, rows](ClassifierSession& s) {
            const CudnnTf32Scope tf32(s.precision, s.encoder.device().type());
            const Batch batch = host.OnDevice(s.encoder.device());
            const at::Tensor out = rows(s, s.Encode(batch.tokens, batch.lengths, nullptr, /*regularise=*/false).features)
                                       .to(at::kCPU, at::kFloat)
                                       .contiguous();
            const float* data = out.data_ptr<float>();
            return Matrix{std::vector<float>(data, data + out.numel()), out.size(0), out.size(1)};
          },
          [](Napi::Env env, Matrix& m) -> Napi::Value {
            Napi::Float32Array data = Napi::Float32Array::New(env, m.data.size());
            if (!m.data.empty()) std::memcpy(data.Data(), m.data.data(), sizeof(float) * m.data.size());
            Napi::Array shape = Napi::Array::New(env, 2);
            shape.Set(0u, static_cast<double>(m.rows));
            shape.Set(1u, static_cast<double>(m.columns));
            Napi::Object o = Napi::Object::New(env);
            o.Set("data", data);
            o.Set("shape", shape);
            return o;
          });
    });
  }
};

}  // namespace

Napi::Function DefineClassifier(Napi::Env env) { return Classifier::Define(env); }

}  // namespace ulmfit
