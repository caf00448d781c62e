"""Golden outputs for the AWD-LSTM language model, computed with PyTorch itself.

Builds the same model as native/awd_lstm.cc in plain PyTorch (fastai's layout and state_dict keys), with
fixed weights and batches and every dropout off, and writes: cross-entropy, the loss with AR/TAR,
every gradient; the same with fixed dropout masks (training-mode maths); then the parameters after three AdamW steps (torch.optim.AdamW as the oracle) with
different per-group hyperparameters, gradient clipping, and the first group frozen.

    PYTHONPATH=<dir holding torch> python3 test/golden/lm_golden.py test/golden/lm.json

Values are written with 7 significant digits, so the file only changes when the maths does.
"""
import json
import sys

import torch
import torch.nn.functional as F

CONFIG = dict(vocabSize=40, embSize=6, hiddenSize=10, numLayers=3, padId=1)
BATCH, SEQ = 3, 5
ALPHA, BETA = 2.0, 1.0
CLIP = 0.5
# One entry per layer group (rnn0, rnn1, rnn2, embedding+decoder): each group gets its own numbers.
GROUP_HYPER = [
    dict(lr=1e-2, beta1=0.9, beta2=0.99, weightDecay=0.01),
    dict(lr=2e-2, beta1=0.8, beta2=0.98, weightDecay=0.1),
    dict(lr=5e-3, beta1=0.7, beta2=0.99, weightDecay=0.0),
    dict(lr=3e-2, beta1=0.75, beta2=0.95, weightDecay=0.05),
]
EPS = 1e-5
FROZEN_BEFORE = 1  # group 0 does not train in the optimizer case


def layer_sizes(l):
    c = CONFIG
    inp = c["embSize"] if l == 0 else c["hiddenSize"]
    out = c["embSize"] if l == c["numLayers"] - 1 else c["hiddenSize"]
    return inp, out


def make_weights(gen):
    c = CONFIG
    w = {}
    for l in range(c["numLayers"]):
        inp, out = layer_sizes(l)
        p = f"0.rnns.{l}."
        w[p + "weight_hh_l0_raw"] = torch.rand(4 * out, out, generator=gen) - 0.5
        w[p + "module.weight_ih_l0"] = torch.rand(4 * out, inp, generator=gen) - 0.5
        w[p + "module.bias_ih_l0"] = (torch.rand(4 * out, generator=gen) - 0.5) * 0.2
        w[p + "module.bias_hh_l0"] = (torch.rand(4 * out, generator=gen) - 0.5) * 0.2
    w["0.encoder.weight"] = (torch.rand(c["vocabSize"], c["embSize"], generator=gen) - 0.5) * 0.2
    w["1.decoder.bias"] = (torch.rand(c["vocabSize"], generator=gen) - 0.5) * 0.2
    return {k: v.clone().requires_grad_(True) for k, v in w.items()}


def group_of(name):
    return int(name.split(".")[2]) if name.startswith("0.rnns.") else CONFIG["numLayers"]


def forward(w, tokens, state, masks=None):
    """Embedding, LSTM layers (carrying `state`), tied decoder; `masks` (already scaled) applies dropout as
    AWD-LSTM does, none when None. Returns logits, the last layer's raw output and its dropped output."""
    c = CONFIG
    m = masks or {}
    apply = lambda x, mask: x if mask is None else x * mask
    x = F.embedding(tokens, apply(w["0.encoder.weight"], m.get("embed")), padding_idx=c["padId"])
    x = apply(x, m.get("input"))
    new_state = []
    for l in range(c["numLayers"]):
        p = f"0.rnns.{l}."
        h0, c0 = state[l]
        w_hh = apply(w[p + "weight_hh_l0_raw"], m["weight"][l] if m else None)
        out, h, cc = torch._VF.lstm(
            x, (h0, c0),
            [w[p + "module.weight_ih_l0"], w_hh, w[p + "module.bias_ih_l0"], w[p + "module.bias_hh_l0"]],
            True, 1, 0.0, True, False, True)
        new_state.append((h.detach(), cc.detach()))
        raw = out
        x = apply(out, m["hidden"][l]) if m and l < c["numLayers"] - 1 else out
    dropped = apply(raw, m.get("output"))
    logits = F.linear(dropped, w["0.encoder.weight"], w["1.decoder.bias"])
    return logits, raw, dropped, new_state


def losses(logits, raw, dropped, target):
    ce = F.cross_entropy(logits.reshape(-1, CONFIG["vocabSize"]), target.reshape(-1))
    loss = ce + ALPHA * dropped.pow(2).mean() + BETA * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
    return ce, loss


def make_masks(gen):
    """Fixed dropout masks with their AWD-LSTM shapes, scaled by 1/(1-p)."""
    c = CONFIG

    def mask(shape, p):
        return (torch.rand(*shape, generator=gen) >= p).float() / (1 - p)

    last = c["numLayers"] - 1
    return dict(
        embed=mask((c["vocabSize"], 1), 0.2),
        input=mask((BATCH, 1, c["embSize"]), 0.25),
        weight=[mask((4 * layer_sizes(l)[1], layer_sizes(l)[1]), 0.3) for l in range(c["numLayers"])],
        hidden=[mask((BATCH, 1, layer_sizes(l)[1]), 0.15) for l in range(last)],
        output=mask((BATCH, 1, c["embSize"]), 0.1),
    )


def tensor_json(t):
    return dict(shape=list(t.shape), data=flat(t))


def zero_state():
    return [(torch.zeros(1, BATCH, layer_sizes(l)[1]), torch.zeros(1, BATCH, layer_sizes(l)[1])) for l in range(CONFIG["numLayers"])]


def flat(t):
    return [float(f"{v:.7g}") for v in t.detach().reshape(-1).tolist()]


def main(out_path):
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(20180118)
    weights = make_weights(gen)
    initial = {k: flat(v) for k, v in weights.items()}
    batches = []
    for _ in range(4):
        stream = torch.randint(0, CONFIG["vocabSize"], (BATCH, SEQ + 1), generator=gen)
        batches.append((stream[:, :-1].contiguous(), stream[:, 1:].contiguous()))

    # Case 1: one forward and backward from a zero state.
    tokens, target = batches[0]
    logits, raw, dropped, _ = forward(weights, tokens, zero_state())
    ce, loss = losses(logits, raw, dropped, target)
    loss.backward()
    grads = {k: flat(v.grad) for k, v in weights.items()}

    # Case 1b: the same with fixed dropout masks: training-mode maths.
    masks = make_masks(gen)
    wm = make_weights(torch.Generator().manual_seed(20180118))
    logits_m, raw_m, dropped_m, _ = forward(wm, tokens, zero_state(), masks)
    ce_m, loss_m = losses(logits_m, raw_m, dropped_m, target)
    loss_m.backward()

    # Case 2: three AdamW steps on batches 1..3 with the state carried, group 0 frozen, clipping on.
    w2 = make_weights(torch.Generator().manual_seed(20180118))
    for k, v in w2.items():
        v.requires_grad_(group_of(k) >= FROZEN_BEFORE)
    param_groups = []
    for g, h in enumerate(GROUP_HYPER):
        if g < FROZEN_BEFORE:
            continue
        for decay in (True, False):
            params = [v for k, v in w2.items() if group_of(k) == g and (k != "1.decoder.bias") == decay]
            if params:
                param_groups.append(dict(params=params, lr=h["lr"], betas=(h["beta1"], h["beta2"]),
                                         weight_decay=h["weightDecay"] if decay else 0.0, eps=EPS))
    opt = torch.optim.AdamW(param_groups, foreach=False, fused=False)
    state = zero_state()
    steps = []
    for tokens, target in batches[1:]:
        opt.zero_grad(set_to_none=True)
        logits, raw, dropped, state = forward(w2, tokens, state)
        ce2, loss2 = losses(logits, raw, dropped, target)
        loss2.backward()
        trainable = [v for v in w2.values() if v.requires_grad]
        norm = torch.nn.utils.clip_grad_norm_(trainable, CLIP)
        opt.step()
        steps.append(dict(crossEntropy=float(f"{ce2.item():.7g}"), loss=float(f"{loss2.item():.7g}"),
                          gradNorm=float(f"{norm.item():.7g}")))

    golden = dict(
        torch=torch.__version__,
        config=CONFIG, batchSize=BATCH, seqLen=SEQ, alpha=ALPHA, beta=BETA,
        weights=initial,
        batches=[dict(input=t.reshape(-1).tolist(), target=y.reshape(-1).tolist()) for t, y in batches],
        forward=dict(crossEntropy=float(f"{ce.item():.7g}"), loss=float(f"{loss.item():.7g}")),
        grads=grads,
        masked=dict(
            masks=dict(embed=tensor_json(masks["embed"]), input=tensor_json(masks["input"]),
                       weight=[tensor_json(m) for m in masks["weight"]], hidden=[tensor_json(m) for m in masks["hidden"]],
                       output=tensor_json(masks["output"])),
            crossEntropy=float(f"{ce_m.item():.7g}"), loss=float(f"{loss_m.item():.7g}"),
            grads={k: flat(v.grad) for k, v in wm.items()}),
        optimizer=dict(groups=GROUP_HYPER, eps=EPS, clip=CLIP, frozenBefore=FROZEN_BEFORE, steps=steps,
                       after={k: flat(v) for k, v in w2.items()}),
    )
    with open(out_path, "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/golden/lm.json")
