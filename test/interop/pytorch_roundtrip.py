"""The PyTorch side of the export round trip: loads a file written by `ulmfit export --format pytorch` with
safetensors.torch.load_file into plain PyTorch modules laid out as fastai v2's (so load_state_dict with
strict=True checks every key and shape), then runs the golden scripts' model (test/golden/*_golden.py) on the
given tokens in evaluation mode and writes what it computes.

    PYTHONPATH=<torch and safetensors> python3 test/interop/pytorch_roundtrip.py FILE.safetensors IN.json OUT.json

IN.json: {"tokens": [[id, ...], ...]} (a language model: logits after each row's last token, from a zero
state) or, for a classifier, also "lengths" (rows in the data pipeline's layout): class probabilities.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import clas_golden  # noqa: E402
import lm_golden  # noqa: E402


class WeightDropout(nn.Module):
    """fastai's WeightDropout as its state dict sees it: the raw hidden-to-hidden weight is the parameter."""

    def __init__(self, lstm):
        super().__init__()
        self.module = lstm
        raw = lstm.weight_hh_l0
        del lstm._parameters["weight_hh_l0"]
        self.weight_hh_l0_raw = nn.Parameter(raw.detach().clone())


class EmbeddingDropout(nn.Module):
    def __init__(self, emb):
        super().__init__()
        self.emb = emb


class AWDLSTM(nn.Module):
    def __init__(self, vocab, emb, hidden, layers, pad):
        super().__init__()
        self.encoder = nn.Embedding(vocab, emb, padding_idx=pad)
        self.encoder_dp = EmbeddingDropout(self.encoder)
        sizes = [emb] + [hidden] * (layers - 1) + [emb]
        self.rnns = nn.ModuleList(WeightDropout(nn.LSTM(sizes[l], sizes[l + 1], 1, batch_first=True)) for l in range(layers))


class LinearDecoder(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.decoder = nn.Linear(encoder.embedding_dim, encoder.num_embeddings)
        self.decoder.weight = encoder.weight  # tied, as in fastai


class SentenceEncoder(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module


class PoolingLinearClassifier(nn.Module):
    """fastai v2's head: per block BatchNorm1d, Dropout, Linear without bias (BatchNorm precedes it), ReLU.
    With `bias` (a head imported from fastai v1) the Linear layers have one, under the same block names."""

    def __init__(self, dims, bias=False):
        super().__init__()
        blocks = []
        for k in range(len(dims) - 1):
            block = [nn.BatchNorm1d(dims[k]), nn.Dropout(0.1), nn.Linear(dims[k], dims[k + 1], bias=bias)]
            if k < len(dims) - 2:
                block.append(nn.ReLU())
            blocks.append(nn.Sequential(*block))
        self.layers = nn.Sequential(*blocks)


def head_with_bias(w, features, c):
    """clas_golden.head in evaluation mode, with the Linear layers' biases."""
    x = features
    blocks = len(c["headHidden"]) + 1
    for k in range(blocks):
        p = f"1.layers.{k}."
        x = F.batch_norm(x, w[p + "0.running_mean"], w[p + "0.running_var"], w[p + "0.weight"], w[p + "0.bias"],
                         training=False, momentum=c["bnMomentum"], eps=c["bnEps"])
        x = F.linear(x, w[p + "2.weight"], w[p + "2.bias"])
        if k < blocks - 1:
            x = F.relu(x)
    return x


def main(path, in_path, out_path):
    torch.set_num_threads(1)
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    kind, m = meta["ulmfit.kind"], json.loads(meta["ulmfit.model"])
    state = load_file(path)
    awd = AWDLSTM(m["vocabSize"], m["embSize"], m["hiddenSize"], m["numLayers"], m["padId"])
    if kind == "awd-lstm-lm":
        model = nn.Sequential(awd, LinearDecoder(awd.encoder))
    elif kind == "awd-lstm-classifier":
        dims = [3 * m["embSize"]] + m["headHidden"] + [m["numClasses"]]
        model = nn.Sequential(SentenceEncoder(awd), PoolingLinearClassifier(dims, bias=m.get("headBias", False)))
    else:
        model = awd  # save_encoder's layout
    model.load_state_dict(state, strict=True)
    model.eval()
    w = {k: v.detach() for k, v in model.state_dict().items()}
    inputs = json.load(open(in_path))
    tokens = torch.tensor(inputs["tokens"], dtype=torch.long)
    out = {"kind": kind, "keys": sorted(state.keys()), "itos": json.loads(meta["itos"])}
    with torch.no_grad():
        if kind == "awd-lstm-lm":
            lm_golden.CONFIG.update({k: m[k] for k in ("vocabSize", "embSize", "hiddenSize", "numLayers", "padId")})
            bs = tokens.shape[0]
            zero = [(torch.zeros(1, bs, lm_golden.layer_sizes(l)[1]), torch.zeros(1, bs, lm_golden.layer_sizes(l)[1])) for l in range(m["numLayers"])]
            logits = lm_golden.forward(w, tokens, zero)[0]
            out["logits"] = logits[:, -1, :].reshape(-1).tolist()
        elif kind == "awd-lstm-classifier":
            c = clas_golden.CONFIG
            c.update({k: m[k] for k in ("vocabSize", "embSize", "hiddenSize", "numLayers", "padId", "headHidden", "seqLen")})
            c.update(nClasses=m["numClasses"], maxLen=m["maxLen"])
            features = clas_golden.encode(w, tokens, inputs["lengths"], None, m["maxLen"])
            logits = clas_golden.head(w, features, False) if not m.get("headBias") else head_with_bias(w, features, c)
            out["probabilities"] = torch.softmax(logits, dim=1).reshape(-1).tolist()
    json.dump(out, open(out_path, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
