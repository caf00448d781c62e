#include "step_args.h"

#include <cmath>

#include "args.h"
#include "errors.h"
#include "tensor_js.h"
#include "transfer.h"

namespace ulmfit {

AwdLstmOptions ReadEncoderOptions(const Napi::Object& o, bool withOutputP) {
  AwdLstmOptions options;
  options.vocabSize = IntegerField(o, "vocabSize", 2, "options");
  options.embSize = IntegerField(o, "embSize", 1, "options");
  options.hiddenSize = IntegerField(o, "hiddenSize", 1, "options");
  options.numLayers = IntegerField(o, "numLayers", 1, "options");
  options.padId = IntegerField(o, "padId", 0, "options");
  if (options.padId >= options.vocabSize) throw ArgumentError("options.padId must be below options.vocabSize");
  options.embedP = ProbabilityField(o, "embedP", "options");
  options.inputP = ProbabilityField(o, "inputP", "options");
  options.weightP = ProbabilityField(o, "weightP", "options");
  options.hiddenP = ProbabilityField(o, "hiddenP", "options");
  options.outputP = withOutputP ? ProbabilityField(o, "outputP", "options") : 0.0;
  return options;
}

StepHyper ReadHyper(const Napi::Object& o, int numGroups) {
  StepHyper hyper;
  const std::string kind = StringField(o, "optimizer", "hyper");
  if (kind == "adamw")
    hyper.kind = OptimizerKind::AdamW;
  else if (kind == "sgd")
    hyper.kind = OptimizerKind::Sgd;
  else
    throw ArgumentError("hyper.optimizer must be \"adamw\" or \"sgd\"");
  hyper.eps = NumberField(o, "eps", "hyper");
  hyper.clip = NumberField(o, "clip", "hyper");
  hyper.alpha = NumberField(o, "alpha", "hyper");
  hyper.beta = NumberField(o, "beta", "hyper");
  if (!(hyper.alpha >= 0.0 && std::isfinite(hyper.alpha)) || !(hyper.beta >= 0.0 && std::isfinite(hyper.beta))) {
    throw ArgumentError("hyper.alpha and hyper.beta must be finite numbers >= 0");
  }
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
    h.lr = NumberField(e, "lr", where);
    h.beta1 = NumberField(e, "beta1", where);
    h.beta2 = NumberField(e, "beta2", where);
    h.momentum = NumberField(e, "momentum", where);
    h.weightDecay = NumberField(e, "weightDecay", where);
    hyper.groups.push_back(h);
  }
  return hyper;
}

Napi::Int32Array Int32ArrayField(const Napi::Object& batch, const char* field, int64_t length) {
  Napi::Value v = batch.Get(field);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw ArgumentError(std::string("batch.") + field + " must be an Int32Array");
  }
  Napi::Int32Array array = v.As<Napi::Int32Array>();
  if (static_cast<int64_t>(array.ElementLength()) != length) {
    throw ArgumentError(std::string("batch.") + field + " has " + std::to_string(array.ElementLength()) + " elements, expected " +
                        std::to_string(length));
  }
  return array;
}

at::Tensor TokensFrom(const Napi::Object& batch, const char* field, at::IntArrayRef shape, int64_t vocabSize, const c10::Device& bound) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  Napi::Int32Array ids = Int32ArrayField(batch, field, count);
  const std::string name = std::string("batch.") + field;
  // The int64 host copy (pinned when bound for a GPU) is what the worker owns; each id is checked as it is copied.
  at::Tensor host = HostTensor(shape, at::kLong, bound);
  int64_t* out = host.data_ptr<int64_t>();
  for (size_t i = 0; i < ids.ElementLength(); i++) {
    if (ids[i] < 0 || ids[i] >= vocabSize) {
      throw ArgumentError(name + "[" + std::to_string(i) + "] = " + std::to_string(ids[i]) + " is outside the vocabulary [0, " +
                          std::to_string(vocabSize) + ")");
    }
    out[i] = ids[i];
  }
  return host;
}

DropoutMasks ReadMasks(const Napi::Object& o) {
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
      const Napi::Value item = a.Get(i);
      list.push_back(item.IsNull() || item.IsUndefined() ? at::Tensor()
                                                         : TensorFromJs(item, std::string("masks.") + key + "[" + std::to_string(i) + "]"));
    }
    return list;
  };
  DropoutMasks masks;
  masks.embed = one("embed");
  masks.input = one("input");
  masks.weight = many("weight");
  masks.hidden = many("hidden");
  masks.output = one("output");
  masks.head = many("head");
  return masks;
}

Napi::Object MasksToJs(Napi::Env env, const DropoutMasks& m) {
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
  out.Set("head", many(m.head));
  return out;
}

Napi::Array AppliedToJs(Napi::Env env, const std::vector<AppliedGroup>& applied) {
  Napi::Array out = Napi::Array::New(env, applied.size());
  for (size_t g = 0; g < applied.size(); g++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("lr", applied[g].hyper.lr);
    o.Set("beta1", applied[g].hyper.beta1);
    o.Set("beta2", applied[g].hyper.beta2);
    o.Set("momentum", applied[g].hyper.momentum);
    o.Set("weightDecay", applied[g].hyper.weightDecay);
    o.Set("trained", applied[g].trained);
    out.Set(static_cast<uint32_t>(g), o);
  }
  return out;
}

}  // namespace ulmfit
