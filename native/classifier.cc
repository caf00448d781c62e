#include "classifier.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/argmax.h>
#include <ATen/ops/bincount.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/isfinite.h>
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

// A batch from JS, arguments (tokens, lengths, [labels,] rows, length): the layout and every id checked on
// the calling thread, before LibTorch sees them. Read on the host; OnDevice moves it inside the worker.
struct Batch {
  at::Tensor tokens;             // [rows, length] int64
  std::vector<int64_t> lengths;  // host
  at::Tensor labels;             // [rows] int64, undefined without labels
  int64_t rows = 0;
  Batch OnDevice(const c10::Device& device) const {
    return {ToDevice(tokens, device), lengths, labels.defined() ? ToDevice(labels, device) : labels, rows};
  }
};

Batch ReadBatch(const Napi::CallbackInfo& info, const ClassifierSession& s, bool withLabels) {
  const size_t shapeAt = withLabels ? 3 : 2;
  Batch b;
  b.rows = ArgInt(info, shapeAt, "rows", 1, 1 << 24);
  const int64_t length = ArgInt(info, shapeAt + 1, "length", 1, 1 << 30);
  const AwdLstmOptions& o = s.encoder.options();
  const c10::Device device = s.encoder.device();
  const Napi::Int32Array lengths = ArgInt32Array(info, 1, "lengths", b.rows);
  const Napi::Int32Array tokens = ArgInt32Array(info, 0, "tokens", b.rows * length);
  CheckLayout(tokens.Data(), b.rows, length, lengths.Data(), s.bpt3c.seqLen, o.padId);
  b.tokens = TokensFrom(info, 0, "tokens", {b.rows, length}, o.vocabSize, device);
  b.lengths.assign(lengths.Data(), lengths.Data() + b.rows);
  if (withLabels) {
    const Napi::Int32Array labels = ArgInt32Array(info, 2, "labels", b.rows);
    for (int64_t r = 0; r < b.rows; r++) {
      if (labels[r] < 0 || labels[r] >= s.numClasses()) {
        throw ArgumentError("labels[" + std::to_string(r) + "] = " + std::to_string(labels[r]) + " is not a class id [0, " +
                            std::to_string(s.numClasses()) + ")");
      }
    }
    b.labels = HostTensor({b.rows}, at::kLong, device);
    std::copy(labels.Data(), labels.Data() + b.rows, b.labels.data_ptr<int64_t>());
  }
  return b;
}

struct TrainResult {
  double crossEntropy, loss, gradNorm;
  int64_t correct;
  bool skipped;
  std::vector<AppliedGroup> applied;
};

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
  // trainStep(tokens, lengths, labels, rows, length, hyper)
  //   -> Promise<{ crossEntropy, loss (with AR/TAR), gradNorm, correct, skipped, applied }>
  // hyper: { optimizer, groups: [{ lr, beta1, beta2, weightDecay }] (5), eps, clip, alpha, beta, classWeights? }
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    return Guard(info, [&](ClassifierSession& s) -> Napi::Value {
      Batch batch = ReadBatch(info, s, /*withLabels=*/true);
      if (batch.rows < 2) {
        throw ArgumentError("trainStep needs at least 2 documents: BatchNorm cannot train on one (drop a last batch of 1)");
      }
      const StepHyper hyper = ReadHyper(info[5], s.optimizer->numGroups());
      const double alpha = NumberField(info[5].As<Napi::Object>(), "alpha", "hyper");
      const double beta = NumberField(info[5].As<Napi::Object>(), "beta", "hyper");
      if (!(alpha >= 0.0 && std::isfinite(alpha)) || !(beta >= 0.0 && std::isfinite(beta))) {
        throw ArgumentError("hyper.alpha and hyper.beta must be finite numbers >= 0");
      }
      at::Tensor classWeights;
      const Napi::Value w = info[5].As<Napi::Object>().Get("classWeights");
      if (!w.IsUndefined() && !w.IsNull()) {
        if (!w.IsArray() || w.As<Napi::Array>().Length() != static_cast<uint32_t>(s.numClasses())) {
          throw ArgumentError("hyper.classWeights must be an array with one weight per class (" + std::to_string(s.numClasses()) + ")");
        }
        std::vector<float> weights;
        for (uint32_t c = 0; c < s.numClasses(); c++) {
          const Napi::Value v = w.As<Napi::Array>().Get(c);
          const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
          if (!(d >= 0.0 && std::isfinite(d)))
            throw ArgumentError("hyper.classWeights[" + std::to_string(c) + "] must be a finite number >= 0");
          weights.push_back(static_cast<float>(d));
        }
        classWeights = HostTensor({s.numClasses()}, at::kFloat, s.encoder.device());
        std::copy(weights.begin(), weights.end(), classWeights.data_ptr<float>());
      }
      const Fault fault = std::exchange(s.pendingFault, Fault::None);
      auto session = session_;
      session->busy.store(true);
      return Task<TrainResult>::Run(
          info.Env(), "ulmfit.Classifier.trainStep", SettingsOf(info.Env(), /*gradEnabled=*/true),
          [session, host = std::move(batch), hyper, alpha, beta, hostWeights = classWeights, fault]() {
            ClassifierSession& s = *session;
            const CudnnTf32Scope tf32(s.precision, s.encoder.device().type());  // forward and backward
            const Batch batch = host.OnDevice(s.encoder.device());
            const at::Tensor classWeights = hostWeights.defined() ? ToDevice(hostWeights, s.encoder.device()) : hostWeights;
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
            const Encoded encoded = s.Encode(batch.tokens, batch.lengths, &masks, /*regularise=*/alpha != 0.0 || beta != 0.0);
            const at::Tensor logits = s.head.Forward(encoded.features, /*training=*/true, &masks.head);
            const at::Tensor crossEntropy = at::cross_entropy_loss(logits, batch.labels, classWeights);
            // AR and TAR as in the language model, on the classifier's encoder outputs over the pooled windows.
            const double values = static_cast<double>(s.encoder.options().embSize);
            at::Tensor loss = crossEntropy;
            if (alpha != 0.0) loss = loss + alpha * encoded.activationSquares / (values * static_cast<double>(encoded.positions));
            if (beta != 0.0 && encoded.pairs > 0)
              loss = loss + beta * encoded.changeSquares / (values * static_cast<double>(encoded.pairs));
            if (fault == Fault::Loss) loss = loss + kNaN;
            s.optimizer->ZeroGrad();
            loss.backward();
            at::NoGradGuard noGrad;
            if (fault == Fault::Gradients) PoisonFirstGradient(s.parameters);
            const at::Tensor norm = s.optimizer->GradNorm();
            // A non-finite loss or gradient skips the update (and the BatchNorm statistics) on the device.
            const at::Tensor skip = (~(at::isfinite(norm) & at::isfinite(loss.detach()))).to(at::kFloat);
            s.optimizer->ClipTo(norm, hyper.clip);
            std::vector<AppliedGroup> applied = s.optimizer->Step(hyper, skip);
            s.head.CommitStatistics(skip);
            const at::Tensor correct = (logits.argmax(1) == batch.labels).sum().to(at::kFloat);
            // The step's only host transfer: the numbers the caller gets.
            const at::Tensor numbers = at::stack({crossEntropy.detach(), loss.detach(), norm, correct, skip}).to(at::kCPU, at::kDouble);
            const double* n = numbers.data_ptr<double>();
            return TrainResult{n[0], n[1], n[2], static_cast<int64_t>(n[3]), n[4] != 0.0, std::move(applied)};
          },
          [](Napi::Env env, TrainResult& r) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("crossEntropy", r.crossEntropy);
            o.Set("loss", r.loss);
            o.Set("gradNorm", r.gradNorm);
            o.Set("correct", static_cast<double>(r.correct));
            o.Set("skipped", r.skipped);
            o.Set("applied", AppliedToJs(env, r.applied));
            return o;
          },
          [session]() { session->busy.store(false); });
    });
  }

  // evalStep(tokens, lengths, labels, rows, length) -> Promise<{ loss (summed), count, correct, confusion }>
  Napi::Value EvalStep(const Napi::CallbackInfo& info) {
    return Guard(info, [&](ClassifierSession& s) -> Napi::Value {
      Batch batch = ReadBatch(info, s, /*withLabels=*/true);
      auto session = session_;
      session->busy.store(true);
      return Task<EvalResult>::Run(
          info.Env(), "ulmfit.Classifier.evalStep", SettingsOf(info.Env(), /*gradEnabled=*/false),
          [session, host = std::move(batch)]() {
            ClassifierSession& s = *session;
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
          },
          [session]() { session->busy.store(false); });
    });
  }

  // predict(tokens, lengths, rows, length) -> Promise<{ data: Float32Array (rows x classes), shape }>
  Napi::Value Predict(const Napi::CallbackInfo& info) {
    return EvalRows(info, "ulmfit.Classifier.predict", [](ClassifierSession& s, const at::Tensor& features) {
      return at::softmax(s.head.Forward(features, /*training=*/false, nullptr), 1);
    });
  }

  // features(tokens, lengths, rows, length) -> Promise<{ data: Float32Array (rows x 3 emb), shape }>: the
  // pooled [last, max, mean] the head reads, in evaluation mode.
  Napi::Value Features(const Napi::CallbackInfo& info) {
    return EvalRows(info, "ulmfit.Classifier.features", [](ClassifierSession&, const at::Tensor& features) { return features; });
  }

  // An evaluation-mode pass over a batch without labels: `rows` turns its pooled features into the
  // [rows, n] matrix the Promise resolves with.
  template <typename RowsOf>
  Napi::Value EvalRows(const Napi::CallbackInfo& info, const char* name, RowsOf rows) {
    return Guard(info, [&](ClassifierSession& s) -> Napi::Value {
      Batch batch = ReadBatch(info, s, /*withLabels=*/false);
      auto session = session_;
      session->busy.store(true);
      return Task<Matrix>::Run(
          info.Env(), name, SettingsOf(info.Env(), /*gradEnabled=*/false),
          [session, host = std::move(batch), rows]() {
            ClassifierSession& s = *session;
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
          },
          [session]() { session->busy.store(false); });
    });
  }
};

}  // namespace

Napi::Function DefineClassifier(Napi::Env env) { return Classifier::Define(env); }

}  // namespace ulmfit
