"""Checkpoints written by the real torch.save (and pickles by the real pickle), for the TypeScript reader's tests.

    PYTHONPATH=<dir holding torch> python3 test/interop/fixtures.py OUTDIR

Writes into OUTDIR: the fixture files, expected/<n>.bin (each tensor as contiguous little-endian bytes in the
type the reader returns: float32 for float32/float16/bfloat16, float64, int64, ...) and expected.json (per
fixture: format, every tensor's name, dtype, shape, stride, storage offset and .bin file, and the groups of
tensors that share a storage). The TypeScript tests compare every tensor with these bytes exactly.
"""
import collections
import json
import os
import pickle
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1]
os.makedirs(os.path.join(OUT, "expected"), exist_ok=True)
torch.manual_seed(0)

VOCAB, EMB, HIDDEN = 11, 6, 5
manifest = {"torch": torch.__version__, "fixtures": {}}
blob_count = 0


# What the reader returns for each dtype: (torch dtype to convert to before writing the bytes, name).
READ_AS = {
    torch.float32: torch.float32,
    torch.float16: torch.float32,
    torch.bfloat16: torch.float32,
    torch.float64: torch.float64,
    torch.int64: torch.int64,
    torch.int32: torch.int32,
    torch.int16: torch.int16,
    torch.int8: torch.int8,
    torch.uint8: torch.uint8,
    torch.bool: torch.uint8,
    torch.uint16: torch.uint16,
}


def dtype_name(dtype):
    return str(dtype).removeprefix("torch.")


def tensor_bytes(t):
    t = t.detach().to(READ_AS[t.dtype]).contiguous()
    if t.dtype == torch.uint16:  # numpy has uint16, but torch's .numpy() may not: go through int32
        return t.to(torch.int32).numpy().astype("<u2").tobytes()
    return t.numpy().tobytes()


def record(fixture, fmt, tensors, save=None):
    """tensors: name -> tensor, as the reader should name them (the path of keys from the top)."""
    global blob_count
    entries = {}
    for name, t in tensors.items():
        blob = f"expected/{blob_count}.bin"
        blob_count += 1
        with open(os.path.join(OUT, blob), "wb") as f:
            f.write(tensor_bytes(t))
        entries[name] = {
            "dtype": dtype_name(t.dtype),
            "shape": list(t.shape),
            "stride": list(t.stride()),
            "storageOffset": t.storage_offset(),
            "requiresGrad": t.requires_grad,
            "bytes": blob,
        }
    groups = collections.defaultdict(list)
    for name, t in tensors.items():
        if t.untyped_storage().data_ptr() != 0:
            groups[t.untyped_storage().data_ptr()].append(name)
    shared = [sorted(names) for names in groups.values() if len(names) > 1]
    manifest["fixtures"][fixture] = {"format": fmt, "tensors": entries, "shared": sorted(shared)}


def save(obj, fixture, legacy=False):
    torch.save(obj, os.path.join(OUT, fixture), _use_new_zipfile_serialization=not legacy)


# ---- fastai-v2-style AWD-LSTM language model (module layout and state_dict keys as fastai writes them) ----


class EmbeddingDropout(nn.Module):
    def __init__(self, emb):
        super().__init__()
        self.emb = emb  # the same Embedding: its weight appears twice in the state dict, one storage


class WeightDropoutV2(nn.Module):
    """fastai v2: the raw weight is a parameter here; the wrapped LSTM keeps a plain attribute."""

    def __init__(self, module, layer="weight_hh_l0"):
        super().__init__()
        self.module = module
        w = getattr(module, layer)
        del module._parameters[layer]
        self.register_parameter(f"{layer}_raw", nn.Parameter(w.data))
        object.__setattr__(module, layer, w.clone())


class WeightDropoutV1(nn.Module):
    """fastai v1: the wrapped LSTM keeps weight_hh_l0 as well (the dropped-out copy), beside the raw one."""

    def __init__(self, module, layer="weight_hh_l0"):
        super().__init__()
        self.module = module
        w = getattr(module, layer)
        self.register_parameter(f"{layer}_raw", nn.Parameter(w.data))
        module._parameters[layer] = F.dropout(w.data.clone(), p=0.5, training=False)


class AWDLSTM(nn.Module):
    def __init__(self, weight_dropout):
        super().__init__()
        self.encoder = nn.Embedding(VOCAB, EMB, padding_idx=1)
        self.encoder_dp = EmbeddingDropout(self.encoder)
        self.rnns = nn.ModuleList(
            [weight_dropout(nn.LSTM(EMB, HIDDEN, 1, batch_first=True)), weight_dropout(nn.LSTM(HIDDEN, EMB, 1, batch_first=True))]
        )


class LinearDecoder(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.decoder = nn.Linear(EMB, VOCAB)
        self.decoder.weight = encoder.weight  # tied


def language_model(weight_dropout):
    awd = AWDLSTM(weight_dropout)
    return nn.Sequential(awd, LinearDecoder(awd.encoder))


lm_v2 = language_model(WeightDropoutV2).state_dict()
save(lm_v2, "lm_v2.pth")
record("lm_v2.pth", "zip", dict(lm_v2))

lm_v1 = language_model(WeightDropoutV1).state_dict()
save(lm_v1, "lm_v1.pth")
record("lm_v1.pth", "zip", dict(lm_v1))

# fastai 0.7 names (torch 0.3/0.4 era, so the legacy format), built as a plain OrderedDict.
encoder = torch.randn(VOCAB, EMB)
lm_v07 = collections.OrderedDict()
lm_v07["0.encoder.weight"] = encoder
lm_v07["0.encoder_with_dropout.embed.weight"] = encoder
for i, (n_in, n_out) in enumerate([(EMB, HIDDEN), (HIDDEN, EMB)]):
    lm_v07[f"0.rnns.{i}.module.weight_ih_l0"] = torch.randn(4 * n_out, n_in)
    lm_v07[f"0.rnns.{i}.module.bias_ih_l0"] = torch.randn(4 * n_out)
    lm_v07[f"0.rnns.{i}.module.bias_hh_l0"] = torch.randn(4 * n_out)
    lm_v07[f"0.rnns.{i}.module.weight_hh_l0_raw"] = torch.randn(4 * n_out, n_out)
lm_v07["1.decoder.weight"] = encoder
save(lm_v07, "lm_v07_legacy.pth", legacy=True)
record("lm_v07_legacy.pth", "legacy", dict(lm_v07))


# ---- learn.save: {'model': ..., 'opt': ...}, where opt holds a fastcore class this reader cannot know ----

fastcore = types.ModuleType("fastcore")
foundation = types.ModuleType("fastcore.foundation")


class L:
    """A stand-in for fastcore.foundation.L (pickled by reference to that module, like the real one)."""

    def __init__(self, items):
        self.items = list(items)


L.__module__ = "fastcore.foundation"
foundation.L = L
fastcore.foundation = foundation
sys.modules["fastcore"] = fastcore
sys.modules["fastcore.foundation"] = foundation

opt_state = [{"grad_avg": torch.randn(3), "sqr_avg": torch.rand(3), "step": 4}, {"grad_avg": torch.randn(2, 2), "step": 4}]
opt = {"state": L(opt_state), "hypers": L([{"lr": 0.01, "mom": 0.9, "wd": 0.01}])}
save({"model": lm_v2, "opt": opt}, "learner.pth")
learner = {f"model.{k}": v for k, v in lm_v2.items()}
learner.update({"opt.state.items.0.grad_avg": opt_state[0]["grad_avg"], "opt.state.items.0.sqr_avg": opt_state[0]["sqr_avg"]})
learner["opt.state.items.1.grad_avg"] = opt_state[1]["grad_avg"]
record("learner.pth", "zip", learner)
# The same class outside the part a caller would skip: must be refused.
save({"model": {"w": torch.ones(2), "extra": L([1, 2])}, "opt": opt}, "learner_bad.pth")


# ---- fastai classifier: SentenceEncoder around the AWD-LSTM, then PoolingLinearClassifier ----


class SentenceEncoder(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module


def head_block(n_in, n_out, relu, bias=True):
    """One block of the head: BatchNorm1d, Dropout, Linear (fastai v2's has no bias after the BatchNorm)."""
    layers = [nn.BatchNorm1d(n_in), nn.Dropout(0.1), nn.Linear(n_in, n_out, bias=bias)]
    return nn.Sequential(*(layers + [nn.ReLU()] if relu else layers))


class PoolingLinearClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(head_block(3 * EMB, 4, True), head_block(4, 2, False))


classifier = nn.Sequential(SentenceEncoder(AWDLSTM(WeightDropoutV2)), PoolingLinearClassifier())
classifier.train()
classifier[1].layers(torch.randn(5, 3 * EMB))  # running statistics and num_batches_tracked (an int64 scalar)
classifier_sd = classifier.state_dict()
save(classifier_sd, "classifier.pth")
record("classifier.pth", "zip", dict(classifier_sd))


# ---- dtypes, views, parameters, plain values: the zip format and the legacy one ----

specials = [1.0, -2.5, 65504.0, 6e-8, 1e-40, 0.0, -0.0, float("inf"), float("-inf"), float("nan"), 3.14159, -1e-3]
base = torch.randn(4, 5)
param_with_state = nn.Parameter(torch.randn(2))
param_with_state.note = "carried as Python state"
tensors = {
    "f32": torch.randn(3, 4),
    "f16": torch.tensor(specials).half(),
    "bf16": torch.tensor(specials).bfloat16(),
    "f64": torch.randn(5, dtype=torch.float64),
    "i64": torch.tensor([0, -1, 2**62, -(2**63), 2**63 - 1, 42]),
    "i32": torch.tensor([0, -7, 2**31 - 1, -(2**31)], dtype=torch.int32),
    "i16": torch.tensor([-32768, 3, 32767], dtype=torch.int16),
    "i8": torch.tensor([-128, 5, 127], dtype=torch.int8),
    "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True]),
    "u16": torch.tensor([0, 1, 65535], dtype=torch.uint16),  # a "new" dtype: written with _rebuild_tensor_v3
    "base": base,
    "transposed": base.t(),
    "sliced": base[1:, ::2],
    "row": base[2],
    "expanded": torch.randn(3, 1).expand(3, 4),
    "scalar": torch.tensor(3.5),
    "empty": torch.zeros(0, 3),
    "half_view": torch.randn(4, 4).half()[:, 1],
    "param": nn.Parameter(torch.randn(2, 3)),
    "param_with_state": param_with_state,
}
values = dict(tensors)
values["plain"] = {
    "list": [1, 2.5, "naïve ✓", None, True, False],
    "tuple": (1, (2, 3)),
    "big": 2**70,
    "negative_big": -(2**65),
    "negative": -5,
    "int_keys": {1: "a", 300: "b", 70000: "c"},
    "dtype": torch.float16,
}
save(values, "dtypes.pth")
record("dtypes.pth", "zip", tensors)
save(values, "dtypes_legacy.pth", legacy=True)
record("dtypes_legacy.pth", "legacy", tensors)
with open(os.path.join(OUT, "plain.json"), "w") as f:
    plain = dict(values["plain"], big=str(2**70), negative_big=str(-(2**65)), int_keys={"1": "a", "300": "b", "70000": "c"}, dtype="float16")
    json.dump(plain, f, ensure_ascii=False)

# Same tensor object twice (one memo entry) and a list at the top level.
shared = torch.randn(2, 2)
save([shared, shared, {"again": shared}], "top_list.pth")


# Enough tensors that the memo passes 256 entries (LONG_BINPUT / LONG_BINGET, as in every real model).
many = {f"t{i}": torch.full((2,), float(i)) for i in range(300)}
save(many, "many.pth")
record("many.pth", "zip", many)


# ---- fastai's itos*.pkl: a plain pickle of a list of strings ----

itos = ["xxunk", "xxpad", "xxbos", "the", ",", "naïve", "日本語", "emoji 🙂", "", "a" * 300]
with open(os.path.join(OUT, "itos.pkl"), "wb") as f:
    pickle.dump(itos, f)
with open(os.path.join(OUT, "itos_p2.pkl"), "wb") as f:
    pickle.dump(itos, f, protocol=2)
with open(os.path.join(OUT, "itos.json"), "w") as f:
    json.dump(itos, f, ensure_ascii=False)
with open(os.path.join(OUT, "not_itos.pkl"), "wb") as f:
    pickle.dump({"itos": itos}, f)
with open(os.path.join(OUT, "itos_with_int.pkl"), "wb") as f:
    pickle.dump(["a", 1], f)


# ---- hostile pickles: each names a callable that would run code in Python's pickle.load ----


class CallsEval:
    def __reduce__(self):
        return (eval, ("print('pwned')",))


class CallsSystem:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


with open(os.path.join(OUT, "evil_eval.pkl"), "wb") as f:
    pickle.dump(["a", CallsEval()], f)
with open(os.path.join(OUT, "evil_system.pkl"), "wb") as f:
    pickle.dump(CallsSystem(), f, protocol=2)
save({"model": {"w": torch.ones(2)}, "opt": CallsSystem()}, "evil_in_opt.pth")

# ---- for importCheckpoint: fastai v2's real head (Linear without bias after BatchNorm), save_encoder, an itos ----


class PoolingLinearClassifierV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(head_block(3 * EMB, 4, True, bias=False), head_block(4, 3, False, bias=False))


classifier_v2 = nn.Sequential(SentenceEncoder(AWDLSTM(WeightDropoutV2)), PoolingLinearClassifierV2())
classifier_v2.train()
classifier_v2[1].layers(torch.randn(5, 3 * EMB))
classifier_v2_sd = classifier_v2.state_dict()
save(classifier_v2_sd, "classifier_v2.pth")
record("classifier_v2.pth", "zip", dict(classifier_v2_sd))

# fastai v1's classifier: its MultiBatchEncoder's AWD-LSTM keeps v1's weight_hh_l0 copies, and the head is
# one flat Sequential of bn_drop_lin blocks (BatchNorm1d, Dropout, Linear with bias, ReLU but after the last),
# saved in the legacy format, as fastai v1 did with the PyTorch of its time.
class PoolingLinearClassifierV1(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.BatchNorm1d(3 * EMB), nn.Dropout(0.2), nn.Linear(3 * EMB, 4), nn.ReLU(inplace=True),
            nn.BatchNorm1d(4), nn.Dropout(0.1), nn.Linear(4, 3),
        )


classifier_v1 = nn.Sequential(SentenceEncoder(AWDLSTM(WeightDropoutV1)), PoolingLinearClassifierV1())
classifier_v1.train()
classifier_v1[1].layers(torch.randn(5, 3 * EMB))
classifier_v1_sd = classifier_v1.state_dict()
save(classifier_v1_sd, "classifier_v1_legacy.pth", legacy=True)
record("classifier_v1_legacy.pth", "legacy", dict(classifier_v1_sd))

# learn.save_encoder: the AWD-LSTM's own state dict, so its keys have no "0." in front.
encoder_sd = language_model(WeightDropoutV2)[0].state_dict()
save(encoder_sd, "encoder_v2.pth")
record("encoder_v2.pth", "zip", dict(encoder_sd))

# An itos as long as the fixtures' embeddings, in fastai v1's order of the special tokens.
itos_lm = ["xxunk", "xxpad", "xxbos", "xxfld", "xxmaj", "xxup", "xxrep", "xxwrep", "the", ".", "a"]
assert len(itos_lm) == VOCAB
with open(os.path.join(OUT, "itos_lm.pkl"), "wb") as f:
    pickle.dump(itos_lm, f)

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(f"fixtures: wrote {len(manifest['fixtures'])} checkpoints with expected values to {OUT}")
