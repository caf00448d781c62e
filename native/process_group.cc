#include "process_group.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/cat.h>

#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include "args.h"
#include "async.h"
#include "errors.h"
#include "nccl_backend.h"
#include "runtime.h"

namespace ulmfit {

// Gradients go to the all-reduce in flat buckets of at most this many bytes (DDP's default size).
constexpr int64_t kBucketBytes = 25 << 20;

struct GroupOptions {
  int rank = 0, worldSize = 0, masterPort = 0;
  int device = -1;  // the CUDA device of an NCCL group's rank; -1 for Gloo (CPU)
  std::string masterAddr, backend;
  std::chrono::milliseconds timeout{0};
};

struct GroupHandle {
  GroupOptions options;
#ifdef USE_C10D_GLOO
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
#endif
};

int WorldSizeOf(const GroupHandle& group) { return group.options.worldSize; }

namespace {

#ifdef USE_C10D_GLOO
std::string Where(const GroupOptions& o) {
  return "rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize) + " at " + o.masterAddr + ":" +
         std::to_string(o.masterPort);
}

// Rank 0 serves the store; every rank says it joined and waits for the others, naming those that never came.
c10::intrusive_ptr<c10d::Store> Rendezvous(const GroupOptions& o) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(o.masterPort);
  so.isServer = o.rank == 0;
  so.waitWorkers = false;
  so.timeout = o.timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(o.masterAddr, so);
  } catch (const std::exception& e) {
    throw std::runtime_error(Where(o) + ": " + (o.rank == 0 ? "could not serve the rendezvous store" : "rank 0's store did not answer") +
                             " (" + e.what() + ")");
  }
  const auto joined = [](int r) { return "ulmfit/joined/" + std::to_string(r); };
  store->set(joined(o.rank), std::vector<uint8_t>{1});
  std::vector<std::string> everyone;
  for (int r = 0; r < o.worldSize; r++) everyone.push_back(joined(r));
  try {
    store->wait(everyone, o.timeout);
  } catch (const std::exception&) {
    std::string missing;
    for (int r = 0; r < o.worldSize; r++) {
      if (!store->check({joined(r)})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    }
    throw std::runtime_error(Where(o) + ": rank(s) " + missing + " did not join within " + std::to_string(o.timeout.count()) + " ms");
  }
  return store;
}

c10::intrusive_ptr<c10d::Backend> ConnectGloo(const GroupOptions& o, const c10::intrusive_ptr<c10d::Store>& store) {
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->timeout = o.timeout;
  // Over the loopback interface when the group is on one machine; else the interface the hostname resolves to.
  const bool local = o.masterAddr == "localhost" || o.masterAddr.rfind("127.", 0) == 0;
  options->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                   : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("ulmfit/gloo", store), o.rank, o.worldSize,
                                                     options);
}
#endif

void Connect(GroupHandle& g) {
#ifdef USE_C10D_GLOO
  const GroupOptions& o = g.options;
  if (o.backend == "nccl" && !NcclBuilt()) {
    throw ArgumentError(
        "backend \"nccl\" is not built into this addon: it needs a CUDA LibTorch and NCCL's and CUDA's headers when it "
        "is compiled (scripts/nccl.js); use \"gloo\"");
  }
  if (o.backend == "nccl" && o.device < 0) throw ArgumentError("backend \"nccl\" needs the rank's CUDA device");
  g.store = Rendezvous(o);
#ifdef USE_C10D_NCCL
  if (o.backend == "nccl") {
    g.backend = ConnectNccl(g.store, o.rank, o.worldSize, o.device, o.timeout);
    return;
  }
#endif
  g.backend = ConnectGloo(o, g.store);
#else
  throw ArgumentError(
      "this build of the addon has no process groups: gloo's headers were not found when it was compiled "
      "(scripts/gloo.js looks in ULMFIT_GLOO_INCLUDE, /usr/include and ULMFIT_HOME/gloo; Debian: libgloo-dev); "
      "rebuild with them: npx ulmfit setup --rebuild");
#endif
}

// In-place sum over the ranks of one flat tensor (fp32 or fp64); a peer that died or stalled is named as such.
void AllReduceSum(GroupHandle& g, at::Tensor& flat) {
#ifdef USE_C10D_GLOO
  std::vector<at::Tensor> list{flat};
  try {
    g.backend->allreduce(list)->wait();
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(g.options.rank) + " of " + std::to_string(g.options.worldSize) +
                             ": a collective failed: another rank exited, or did not answer within " +
                             std::to_string(g.options.timeout.count()) + " ms (" + e.what() + ")");
  }
#else
  throw ArgumentError("this build of the addon has no process groups");
#endif
}

// A method's body with C++ exceptions turned into JS errors.
template <typename Fn>
Napi::Value Guard(const Napi::CallbackInfo& info, Fn&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw ToJsError(info.Env(), DescribeCurrentException());
  }
}

class ProcessGroup : public Napi::ObjectWrap<ProcessGroup> {
 public:
  // new ProcessGroup({ rank, worldSize, masterAddr, masterPort, timeoutMs, backend, device }): every field explicit
  // (device: an NCCL rank's CUDA device, -1 for Gloo).
  explicit ProcessGroup(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroup>(info) {
    try {
      const Napi::Object o = ArgObject(info, 0, "options");
      GroupOptions g;
      g.worldSize = static_cast<int>(IntegerField(o, "worldSize", 1, 1 << 20, "options"));
      g.rank = static_cast<int>(IntegerField(o, "rank", 0, g.worldSize - 1, "options"));
      g.masterAddr = StringField(o, "masterAddr", "options");
      g.masterPort = static_cast<int>(IntegerField(o, "masterPort", 1, 65535, "options"));
      g.timeout = std::chrono::milliseconds(IntegerField(o, "timeoutMs", 1, int64_t{1} << 40, "options"));
      g.backend = StringField(o, "backend", "options");
      g.device = static_cast<int>(IntegerField(o, "device", -1, 1 << 16, "options"));
      group_ = std::make_shared<GroupHandle>();
      group_->options = g;
    } catch (const Napi::Error&) {
      throw;
    } catch (...) {
      throw ToJsError(info.Env(), DescribeCurrentException());
    }
  }

  static Napi::Function Define(Napi::Env env) {
    Napi::Function f =
        DefineClass(env, "ProcessGroup",
                    {InstanceMethod<&ProcessGroup::Connect>("connect"), InstanceMethod<&ProcessGroup::AllReduce>("allReduce"),
                     InstanceMethod<&ProcessGroup::Dispose>("dispose")});
    StateOf(env).processGroupClass = Napi::Persistent(f);
    return f;
  }

  std::shared_ptr<GroupHandle> connected(Napi::Env env, const char* what) const {
#ifdef USE_C10D_GLOO
    if (group_ && group_->backend) return group_;
#endif
    throw ArgumentError(std::string(what) + ": the process group is not connected (await its connect() first) or was disposed");
  }

 private:
  // connect() -> Promise<void>: the rendezvous and the backend's own handshake, off the JS thread.
  Napi::Value Connect(const Napi::CallbackInfo& info) {
    return Guard(info, [&] {
      if (!group_) throw ArgumentError("this process group was disposed");
      auto group = group_;
      return Napi::Value(Task<bool>::Run(
          info.Env(), "ulmfit.ProcessGroup.connect", SettingsOf(info.Env()),
          [group]() {
            ulmfit::Connect(*group);
            return true;
          },
          [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }));
    });
  }

  // allReduce(data: Float32Array | Float64Array) -> Promise of the same type: the element-wise sum over the ranks.
  Napi::Value AllReduce(const Napi::CallbackInfo& info) {
    return Guard(info, [&] {
      auto group = connected(info.Env(), "allReduce");
      const Napi::Value arg = info[0];
      const bool isTyped = info.Length() > 0 && arg.IsTypedArray();
      const napi_typedarray_type type = isTyped ? arg.As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
      if (type != napi_float32_array && type != napi_float64_array) throw ArgumentError("data must be a Float32Array or a Float64Array");
      const Napi::TypedArray in = arg.As<Napi::TypedArray>();
      const at::ScalarType dtype = type == napi_float32_array ? at::kFloat : at::kDouble;
      at::Tensor flat = at::empty({static_cast<int64_t>(in.ElementLength())}, dtype);
      const auto* bytes = static_cast<const uint8_t*>(in.ArrayBuffer().Data()) + in.ByteOffset();
      if (in.ElementLength() > 0) std::memcpy(flat.data_ptr(), bytes, in.ByteLength());
      return Napi::Value(Task<at::Tensor>::Run(
          info.Env(), "ulmfit.ProcessGroup.allReduce", SettingsOf(info.Env()),
          [group, flat]() mutable {
            // An NCCL group reduces on its rank's GPU.
            const int device = group->options.device;
            if (device < 0) {
              AllReduceSum(*group, flat);
              return flat;
            }
            at::Tensor onDevice = flat.to(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device)));
            AllReduceSum(*group, onDevice);
            return onDevice.to(at::kCPU);
          },
          [](Napi::Env env, at::Tensor& t) -> Napi::Value {
            const size_t n = static_cast<size_t>(t.numel());
            Napi::TypedArray out = t.scalar_type() == at::kFloat ? Napi::TypedArray(Napi::Float32Array::New(env, n))
                                                                 : Napi::TypedArray(Napi::Float64Array::New(env, n));
            auto* target = static_cast<uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset();
            if (n > 0) std::memcpy(target, t.data_ptr(), out.ByteLength());
            return out;
          }));
    });
  }

  // Lets go of the group; a collective in flight keeps what it needs until it ends.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    group_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<GroupHandle> group_;
};

}  // namespace

std::shared_ptr<GroupHandle> GroupOf(Napi::Env env, const Napi::Value& value, const char* what) {
  const Napi::FunctionReference& cls = StateOf(env).processGroupClass;
  if (!value.IsObject() || cls.IsEmpty() || !value.As<Napi::Object>().InstanceOf(cls.Value())) {
    throw ArgumentError(std::string(what) + " must be a ProcessGroup");
  }
  return ProcessGroup::Unwrap(value.As<Napi::Object>())->connected(env, what);
}

GradientHook AveragingHook(std::shared_ptr<GroupHandle> group) {
  return [group](const std::vector<NamedParameter>& parameters) {
    std::vector<at::Tensor> grads;
    for (const NamedParameter& p : parameters) {
      if (p.tensor.grad().defined()) grads.push_back(p.tensor.grad());
    }
    for (size_t first = 0; first < grads.size();) {
      // One bucket: gradients in order up to kBucketBytes (a larger one alone), flattened, summed, averaged.
      size_t end = first;
      int64_t bytes = 0;
      do bytes += static_cast<int64_t>(grads[end++].nbytes());
      while (end < grads.size() && bytes + static_cast<int64_t>(grads[end].nbytes()) <= kBucketBytes);
      std::vector<at::Tensor> pieces;
      for (size_t i = first; i < end; i++) pieces.push_back(grads[i].reshape({-1}));
      at::Tensor flat = at::cat(pieces);
      AllReduceSum(*group, flat);
      flat.div_(static_cast<double>(group->options.worldSize));
      int64_t offset = 0;
      for (size_t i = first; i < end; i++) {
        grads[i].copy_(flat.narrow(0, offset, grads[i].numel()).view_as(grads[i]));
        offset += grads[i].numel();
      }
      first = end;
    }
  };
}

RankSum DifferentiableSum(std::shared_ptr<GroupHandle> group) {
  return [group](const at::Tensor& local) {
    at::Tensor total;
    {
      at::NoGradGuard noGrad;
      total = local.detach().contiguous().clone();
      AllReduceSum(*group, total);
    }
    if (!local.requires_grad()) return total;
    // The value is the ranks' sum; the gradient reaching `local` is the sum of every rank's gradient of it
    // (a hook on an identity step all-reduces it during backward, in the same order on every rank).
    at::Tensor through = local * 1.0;
    through.register_hook([group](const at::Tensor& grad) {
      at::Tensor summed = grad.contiguous().clone();
      AllReduceSum(*group, summed);
      return summed;
    });
    return through + (total - local.detach());
  };
}

void BroadcastTensors(GroupHandle& group, const std::vector<at::Tensor>& tensors, int root) {
#ifdef USE_C10D_GLOO
  at::NoGradGuard noGrad;
  c10d::BroadcastOptions options;
  options.rootRank = root;
  // One collective per tensor: Gloo broadcasts a list's root tensor only (the others are local copies).
  for (const at::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t.detach()};
    group.backend->broadcast(one, options)->wait();
  }
#else
  throw ArgumentError("this build of the addon has no process groups");
#endif
}

Napi::Function DefineProcessGroup(Napi::Env env) { return ProcessGroup::Define(env); }

}  // namespace ulmfit
