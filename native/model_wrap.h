// The JS methods both engines share (parameters, groups, tensors by name, gradients, freezing, optimizer
// state, dropout-mask hooks, dispose), on a ModelSession. Each engine's class derives from ModelWrap and
// adds its own steps; SharedMethods() lists the shared ones for DefineClass.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "async.h"
#include "errors.h"
#include "model_session.h"
#include "process_group.h"
#include "runtime.h"
#include "step_args.h"
#include "tensor_js.h"

namespace ulmfit {

template <typename Derived, typename Session>
class ModelWrap : public Napi::ObjectWrap<Derived> {
 public:
  explicit ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

 protected:
  using Wrap = Napi::ObjectWrap<Derived>;
  using Methods = std::vector<typename Wrap::PropertyDescriptor>;
  using Callback = typename Wrap::InstanceMethodCallback;

  static Methods SharedMethods() {
    return {
        Wrap::InstanceMethod("parameters", Callback(&ModelWrap::Parameters)),
        Wrap::InstanceMethod("groups", Callback(&ModelWrap::Groups)),
        Wrap::InstanceMethod("getTensor", Callback(&ModelWrap::GetTensor)),
        Wrap::InstanceMethod("setTensor", Callback(&ModelWrap::SetTensor)),
        Wrap::InstanceMethod("getGrad", Callback(&ModelWrap::GetGrad)),
        Wrap::InstanceMethod("freezeTo", Callback(&ModelWrap::FreezeTo)),
        Wrap::InstanceMethod("frozenBefore", Callback(&ModelWrap::FrozenBefore)),
        Wrap::InstanceMethod("getOptimizerState", Callback(&ModelWrap::GetOptimizerState)),
        Wrap::InstanceMethod("setOptimizerState", Callback(&ModelWrap::SetOptimizerState)),
        Wrap::InstanceMethod("setDropoutMasks", Callback(&ModelWrap::SetDropoutMasks)),
        Wrap::InstanceMethod("recordDropoutMasks", Callback(&ModelWrap::RecordDropoutMasks)),
        Wrap::InstanceMethod("lastDropoutMasks", Callback(&ModelWrap::LastDropoutMasks)),
        Wrap::InstanceMethod("injectFault", Callback(&ModelWrap::InjectFault)),
        Wrap::InstanceMethod("attachProcessGroup", Callback(&ModelWrap::AttachProcessGroup)),
        Wrap::InstanceMethod("broadcastFrom", Callback(&ModelWrap::BroadcastFrom)),
        Wrap::InstanceMethod("dispose", Callback(&ModelWrap::Dispose)),
    };
  }

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

  // Runs work(session) -> Result as one Task off the JS thread and resolves with toJs(env, result); the model
  // refuses every other call until the Promise settles.
  template <typename Result, typename Work, typename ToJs>
  Napi::Value RunAsync(const Napi::CallbackInfo& info, const char* name, bool gradEnabled, Work work, ToJs toJs) {
    auto session = session_;
    session->busy.store(true);
    return Task<Result>::Run(
        info.Env(), name, SettingsOf(info.Env(), gradEnabled), [session, work]() { return work(*session); },
        [toJs](Napi::Env env, Result& result) -> Napi::Value { return toJs(env, result); }, [session]() { session->busy.store(false); });
  }

  // Constructors: C++ exceptions become JS errors.
  template <typename Fn>
  void Construct(const Napi::CallbackInfo& info, Fn&& fn) {
    try {
      session_ = fn();
    } catch (const Napi::Error&) {
      throw;
    } catch (...) {
      throw ToJsError(info.Env(), DescribeCurrentException());
    }
    // V8 sees a small wrapper; told what the model holds natively (each parameter with its gradient and
    // Adam's two moments, the buffers), it collects a dropped model in time instead of letting them pile up.
    int64_t bytes = 0;
    for (const NamedParameter& p : session_->parameters) bytes += 4 * static_cast<int64_t>(p.tensor.nbytes());
    for (const NamedParameter& b : session_->buffers) bytes += static_cast<int64_t>(b.tensor.nbytes());
    externalBytes_ = bytes;
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), externalBytes_);
  }

  // Dispose or collection: the memory told to V8 is given back once.
  void ReleaseExternalMemory(Napi::Env env) {
    if (externalBytes_ == 0) return;
    Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
    externalBytes_ = 0;
  }

  void Finalize(Napi::Env env) override { ReleaseExternalMemory(env); }

  std::shared_ptr<Session> session_;
  int64_t externalBytes_ = 0;

 private:
  static const at::Tensor& FindTensor(const ModelSession& s, const std::string& name) {
    std::string target = name;
    for (const auto& [alias, of] : s.aliases) {
      if (alias == name) target = of;
    }
    for (const auto* list : {&s.parameters, &s.buffers}) {
      for (const auto& p : *list) {
        if (p.name == target) return p.tensor;
      }
    }
    throw ArgumentError("no tensor named \"" + name + "\"");
  }

  static Napi::Object Describe(Napi::Env env, const NamedParameter& p, bool trainable) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", p.name);
    Napi::Array shape = Napi::Array::New(env);
    for (int64_t i = 0; i < p.tensor.dim(); i++) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, p.tensor.size(i)));
    o.Set("shape", shape);
    o.Set("group", p.group);
    o.Set("decay", p.decay);
    o.Set("trainable", trainable);
    return o;
  }

  // { parameters: [{ name, shape, group, decay, trainable }], buffers: [...], aliases: { alias: name } }
  Napi::Value Parameters(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      Napi::Env env = info.Env();
      Napi::Array parameters = Napi::Array::New(env);
      for (const auto& p : s.parameters) parameters.Set(parameters.Length(), Describe(env, p, p.group >= s.optimizer->frozenBefore()));
      Napi::Array buffers = Napi::Array::New(env);
      for (const auto& p : s.buffers) buffers.Set(buffers.Length(), Describe(env, p, false));
      Napi::Object aliases = Napi::Object::New(env);
      for (const auto& [alias, of] : s.aliases) aliases.Set(alias, of);
      Napi::Object result = Napi::Object::New(env);
      result.Set("parameters", parameters);
      result.Set("buffers", buffers);
      result.Set("aliases", aliases);
      return result;
    });
  }

  Napi::Value Groups(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      Napi::Env env = info.Env();
      Napi::Array out = Napi::Array::New(env, s.groupNames.size());
      for (size_t g = 0; g < s.groupNames.size(); g++) {
        Napi::Array members = Napi::Array::New(env);
        double count = 0;
        for (const auto& p : s.parameters) {
          if (p.group != static_cast<int>(g)) continue;
          members.Set(members.Length(), p.name);
          count += static_cast<double>(p.tensor.numel());
        }
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", s.groupNames[g]);
        o.Set("parameters", members);
        o.Set("numel", count);
        o.Set("trainable", static_cast<int>(g) >= s.optimizer->frozenBefore());
        out.Set(static_cast<uint32_t>(g), o);
      }
      return out;
    });
  }

  Napi::Value GetTensor(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value { return TensorToJs(info.Env(), FindTensor(s, ArgString(info, 0, "name"))); });
  }

  Napi::Value SetTensor(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      const std::string name = ArgString(info, 0, "name");
      CopyInto(FindTensor(s, name), ArgFloat32Array(info, 1, "data"), "setTensor(\"" + name + "\")");
      return info.Env().Undefined();
    });
  }

  Napi::Value GetGrad(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      const at::Tensor& t = FindTensor(s, ArgString(info, 0, "name"));
      if (!t.grad().defined()) return info.Env().Null();
      return TensorToJs(info.Env(), t.grad());
    });
  }

  Napi::Value FreezeTo(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      const int n = ArgInt(info, 0, "n", 0, s.optimizer->numGroups() - 1);
      const bool clear = info.Length() > 1 && info[1].ToBoolean().Value();
      s.optimizer->FreezeTo(n, clear);
      return info.Env().Undefined();
    });
  }

  Napi::Value FrozenBefore(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value { return Napi::Number::New(info.Env(), s.optimizer->frozenBefore()); });
  }

  // The optimizer's state as [{ name, part, data, shape }], part one of exp_avg, exp_avg_sq, step,
  // momentum_buffer; parameters that have not been updated yet have none.
  Napi::Value GetOptimizerState(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      Napi::Env env = info.Env();
      Napi::Array out = Napi::Array::New(env);
      auto& state = s.optimizer->state();
      for (size_t i = 0; i < s.parameters.size(); i++) {
        const auto add = [&](const char* part, const at::Tensor& t) {
          if (!t.defined()) return;
          Napi::Object o = TensorToJs(env, t);
          o.Set("name", s.parameters[i].name);
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
    return Guard(info, [&](Session& s) -> Napi::Value {
      const std::string name = ArgString(info, 0, "name");
      const std::string part = ArgString(info, 1, "part");
      size_t i = 0;
      while (i < s.parameters.size() && s.parameters[i].name != name) i++;
      if (i == s.parameters.size()) throw ArgumentError("optimizer state for \"" + name + "\": no such parameter");
      const at::Tensor& p = s.parameters[i].tensor;
      auto& st = s.optimizer->state()[i];
      const auto options = p.options().requires_grad(false);
      at::Tensor* slot = part == "exp_avg"           ? &st.expAvg
                         : part == "exp_avg_sq"      ? &st.expAvgSq
                         : part == "step"            ? &st.step
                         : part == "momentum_buffer" ? &st.momentum
                                                     : nullptr;
      if (!slot) throw ArgumentError("optimizer state part must be exp_avg, exp_avg_sq, step or momentum_buffer, got \"" + part + "\"");
      at::Tensor t = part == "step" ? at::empty({}, options.dtype(at::kFloat)) : at::empty(p.sizes(), options);
      CopyInto(t, ArgFloat32Array(info, 2, "data"), "optimizer state " + name + "." + part);
      *slot = t;
      return info.Env().Undefined();
    });
  }

  // setDropoutMasks(masks | null): each { data, shape }, used by every training step until cleared; a mask
  // left out is drawn at random as usual.
  Napi::Value SetDropoutMasks(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
        s.fixedMasks.reset();
        return info.Env().Undefined();
      }
      if (!info[0].IsObject()) throw ArgumentError("masks must be an object or null");
      s.fixedMasks = ReadMasks(info[0].As<Napi::Object>());
      return info.Env().Undefined();
    });
  }

  Napi::Value RecordDropoutMasks(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      s.recordMasks = info.Length() > 0 && info[0].ToBoolean().Value();
      if (!s.recordMasks) s.lastMasks = DropoutMasks{};
      return info.Env().Undefined();
    });
  }

  // The masks the last training step applied (while recording), as setDropoutMasks takes them.
  Napi::Value LastDropoutMasks(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value { return MasksToJs(info.Env(), s.lastMasks); });
  }

  // injectFault(where): the next trainStep puts a NaN into "loss", "gradients" or "embeddings" (fault.h).
  Napi::Value InjectFault(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      s.pendingFault = FaultNamed(ArgString(info, 0, "where"));
      return info.Env().Undefined();
    });
  }

  // attachProcessGroup(group | null): every training step averages its gradients over the group's ranks
  // (between backward and clipping); null detaches.
  Napi::Value AttachProcessGroup(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      const bool detach = info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined();
      if (detach) {
        s.gradientHook = GradientHook();
        s.rankSum = RankSum();
      } else {
        auto group = GroupOf(info.Env(), info[0], "attachProcessGroup");
        s.gradientHook = AveragingHook(group);
        s.rankSum = DifferentiableSum(group);
      }
      return info.Env().Undefined();
    });
  }

  // broadcastFrom(group, root) -> Promise<void>: every parameter and buffer becomes rank root's (a collective:
  // every rank calls it).
  Napi::Value BroadcastFrom(const Napi::CallbackInfo& info) {
    return Guard(info, [&](Session& s) -> Napi::Value {
      auto group = GroupOf(info.Env(), info[0], "broadcastFrom");
      const int root = ArgInt(info, 1, "root", 0, WorldSizeOf(*group) - 1);
      return RunAsync<bool>(
          info, "ulmfit.broadcastFrom", /*gradEnabled=*/false,
          [group, root](Session& s) {
            std::vector<at::Tensor> tensors;
            for (const auto* list : {&s.parameters, &s.buffers})
              for (const NamedParameter& p : *list) tensors.push_back(p.tensor);
            BroadcastTensors(*group, tensors, root);
            return true;
          },
          [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
    });
  }

  // Lets go of the model now; a step in flight keeps what it needs until it ends.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    session_.reset();
    ReleaseExternalMemory(info.Env());
    return info.Env().Undefined();
  }
};

}  // namespace ulmfit
