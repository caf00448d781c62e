"""Golden outputs for the AWD-LSTM text classifier (ULMFiT's BPT3C encoder and concat-pooling head),
computed with PyTorch itself.

Builds the classifier the C++ engine implements in plain PyTorch (fastai's classifier state_dict keys),
with fixed weights and fixed batches laid out as fastai does (rows sorted by length, front padding in whole
chunks), and writes: logits, loss, every gradient and the BatchNorm buffers after one training-mode
forward/backward without dropout; the same with fixed dropout masks; the loss and gradients with class
weights; the loss and gradients with AR and TAR (over each document's window, as the engine applies them);
eval-mode pooled features, logits, probabilities, summed loss and accuracy on two batches; eval logits with no
window limit; then the parameters and buffers after two AdamW steps (torch.optim.AdamW as the oracle) with
per-group hyperparameters, no weight decay on BatchNorm, gradient clipping, and the first two groups frozen.

The forward, per batch: chunks of `seqLen` positions; only the rows whose front padding is over run through
the LSTMs (a prefix, since rows are sorted), joining rows start from zeros, the state is detached after each
chunk, and a chunk runs without autograd when it lies outside every document's window (the last `maxLen`
positions of the document). The last layer's outputs over each window are pooled into
[last, max, mean], which the head (BatchNorm, dropout, bias-free Linear, ReLU between blocks) turns into
logits.

    PYTHONPATH=<dir holding torch> python3 test/golden/clas_golden.py test/golden/clas.json

Weights and masks are drawn in float32 and rounded to the 7 significant digits the file holds, so the engine
reads exactly the values used here; everything is then computed in float64 (the exact answer for those
inputs), and the script fails when the same computation in float32 lands further than FLOAT32_LIMIT
tolerances from it. Values are written with 7 significant digits, so the file only changes when the maths
does; the JSON is indented like json.dump(indent=1, sort_keys=True) but with each list of numbers on one line.
"""
import json
import sys

import torch
import torch.nn.functional as F

CONFIG = dict(vocabSize=40, embSize=6, hiddenSize=10, numLayers=3, padId=1, nClasses=3, headHidden=[5],
              seqLen=4, maxLen=10, bnEps=1e-5, bnMomentum=0.1)
# Train-mode BatchNorm over 3 to 5 rows makes the gradients sensitive to rounding (float32 lands about 1 to 2
# tolerances from the exact values for a typical seed, 8 for some): this seed was picked, among 0..1999, as
# the one where float32 lands nearest (0.42 tolerances with PyTorch's LSTM, 0.30 with a hand-written one).
SEED = 148
BATCH_LENGTHS = [[23, 17, 9, 3], [14, 13, 12, 12, 11], [19, 15, 10], [11, 9, 9, 6]]
CLASS_WEIGHTS = [0.5, 2.0, 1.0]
# AR and TAR: fastai's alpha; beta far above its 1, since this small model's outputs change little from one
# position to the next (TAR is 100 times smaller than AR here) and the check must see TAR's share too.
ALPHA, BETA = 2.0, 200.0
CLIP = 0.5
# One entry per layer group (embedding, rnn0, rnn1, rnn2, head): each group gets its own numbers. The
# learning rates are small because Adam turns a small gradient's rounding error into lr * error / eps: larger
# ones would put a float32 engine's parameters further from these than the tolerance allows. The weight
# decays of the trained groups are large enough to show.
GROUP_HYPER = [
    dict(lr=1e-4, beta1=0.9, beta2=0.99, weightDecay=0.01),
    dict(lr=2e-4, beta1=0.8, beta2=0.98, weightDecay=0.1),
    dict(lr=2e-4, beta1=0.7, beta2=0.99, weightDecay=0.3),
    dict(lr=3e-4, beta1=0.75, beta2=0.95, weightDecay=0.1),
    dict(lr=4e-4, beta1=0.85, beta2=0.97, weightDecay=0.2),
]
EPS = 1e-5
FROZEN_BEFORE = 2  # groups 0 and 1 (embedding, rnn0) do not train in the optimizer case
OPT_BATCHES = [2, 3]
FLOAT32_LIMIT = 1.0  # in tolerances of test/helpers/close.ts; see main


def layer_sizes(l):
    c = CONFIG
    inp = c["embSize"] if l == 0 else c["hiddenSize"]
    out = c["embSize"] if l == c["numLayers"] - 1 else c["hiddenSize"]
    return inp, out


def head_dims():
    c = CONFIG
    return [3 * c["embSize"]] + c["headHidden"] + [c["nClasses"]]


def is_buffer(name):
    return name.endswith(("running_mean", "running_var", "num_batches_tracked"))


def is_bn_param(name):
    return name.startswith("1.layers.") and name.split(".")[3] == "0" and name.endswith(("weight", "bias"))


def group_of(name):
    if name.startswith("0.module.encoder."):
        return 0
    if name.startswith("0.module.rnns."):
        return int(name.split(".")[3]) + 1
    return CONFIG["numLayers"] + 1


def make_weights(gen):
    """Parameters and BatchNorm buffers (float32), drawn in this order: each LSTM layer (weight_hh,
    weight_ih, bias_ih, bias_hh), the embedding, then each head block (BN weight, BN bias, running mean,
    running var, Linear weight)."""
    c = CONFIG
    w = {}
    for l in range(c["numLayers"]):
        inp, out = layer_sizes(l)
        p = f"0.module.rnns.{l}."
        w[p + "weight_hh_l0_raw"] = torch.rand(4 * out, out, generator=gen) - 0.5
        w[p + "module.weight_ih_l0"] = torch.rand(4 * out, inp, generator=gen) - 0.5
        w[p + "module.bias_ih_l0"] = (torch.rand(4 * out, generator=gen) - 0.5) * 0.2
        w[p + "module.bias_hh_l0"] = (torch.rand(4 * out, generator=gen) - 0.5) * 0.2
    w["0.module.encoder.weight"] = (torch.rand(c["vocabSize"], c["embSize"], generator=gen) - 0.5) * 0.2
    dims = head_dims()
    for k in range(len(dims) - 1):
        p = f"1.layers.{k}."
        w[p + "0.weight"] = 0.5 + torch.rand(dims[k], generator=gen)
        w[p + "0.bias"] = (torch.rand(dims[k], generator=gen) - 0.5) * 0.2
        w[p + "0.running_mean"] = (torch.rand(dims[k], generator=gen) - 0.5) * 0.2
        w[p + "0.running_var"] = 0.5 + torch.rand(dims[k], generator=gen)
        w[p + "0.num_batches_tracked"] = torch.tensor(0.0)
        w[p + "2.weight"] = (torch.rand(dims[k + 1], dims[k], generator=gen) - 0.5) * 0.6
    return w


def front_padding(lengths, total):
    s = CONFIG["seqLen"]
    return [((total - n) // s) * s for n in lengths]


def make_batch(gen, lengths):
    """Rows sorted by length (descending), each front-padded by whole chunks, then its tokens, then pads."""
    c = CONFIG
    total = max(lengths)
    tokens = torch.full((len(lengths), total), c["padId"], dtype=torch.long)
    for r, (n, f) in enumerate(zip(lengths, front_padding(lengths, total))):
        tokens[r, f:f + n] = torch.randint(2, c["vocabSize"], (n,), generator=gen)
    labels = torch.randint(0, c["nClasses"], (len(lengths),), generator=gen)
    return dict(tokens=tokens, lengths=list(lengths), labels=labels)


def make_masks(gen, bs):
    """Fixed dropout masks with the shapes the classifier uses, scaled by 1/(1-p)."""
    c = CONFIG

    def mask(shape, p):
        return (torch.rand(*shape, generator=gen) >= p).float() / (1 - p)

    dims = head_dims()
    head_p = [0.2, 0.1]
    return dict(
        embed=mask((c["vocabSize"], 1), 0.2),
        input=mask((bs, 1, c["embSize"]), 0.25),
        weight=[mask((4 * layer_sizes(l)[1], layer_sizes(l)[1]), 0.3) for l in range(c["numLayers"])],
        hidden=[mask((bs, 1, layer_sizes(l)[1]), 0.15) for l in range(c["numLayers"] - 1)],
        head=[mask((bs, dims[k]), head_p[k]) for k in range(len(dims) - 1)],
    )


def encode(w, tokens, lengths, masks=None, max_len=CONFIG["maxLen"], regularisers=False):
    """BPT3C encoder with concat pooling: returns [bs, 3E] features (last, max, mean over each window), and with
    `regularisers` also AR's and TAR's means: of the last layer's outputs squared over every window position,
    and of the squared difference over every pair of consecutive positions inside a window."""
    c = CONFIG
    bs, total = tokens.shape
    s, n_layers = c["seqLen"], c["numLayers"]
    starts = front_padding(lengths, total)
    ends = [f + n for f, n in zip(starts, lengths)]
    windows = [f if max_len is None else max(f, e - max_len) for f, e in zip(starts, ends)]

    # Per layer (h, c) for the active rows, [1, k, out]; joining rows get zeros appended at the end.
    zeros = w["0.module.encoder.weight"].new_zeros
    state = [(zeros(1, 0, layer_sizes(l)[1]), zeros(1, 0, layer_sizes(l)[1])) for l in range(n_layers)]
    outputs = []  # per chunk, [bs, chunk, E] (zeros for rows that have not joined)
    for i in range(0, total, s):
        stop = min(i + s, total)
        k = sum(1 for f in starts if f <= i)
        for l, (h0, c0) in enumerate(state):
            extra = h0.new_zeros(1, k - h0.shape[1], h0.shape[2])
            state[l] = (torch.cat([h0, extra], dim=1), torch.cat([c0, extra], dim=1))
        needs_grad = any(e > i and wr < stop for wr, e in zip(windows[:k], ends[:k]))
        with torch.set_grad_enabled(needs_grad and torch.is_grad_enabled()):
            chunk = tokens[:k, i:stop]
            x = F.embedding(chunk, w["0.module.encoder.weight"], padding_idx=c["padId"])
            if masks:
                x = x * masks["embed"][chunk]
                x = x * masks["input"][:k]
            for l in range(n_layers):
                p = f"0.module.rnns.{l}."
                w_hh = w[p + "weight_hh_l0_raw"]
                if masks:
                    w_hh = w_hh * masks["weight"][l]
                out, h, cc = torch._VF.lstm(
                    x, state[l],
                    [w[p + "module.weight_ih_l0"], w_hh, w[p + "module.bias_ih_l0"], w[p + "module.bias_hh_l0"]],
                    True, 1, 0.0, True, False, True)
                state[l] = (h.detach(), cc.detach())
                x = out * masks["hidden"][l][:k] if masks and l < n_layers - 1 else out
            outputs.append(torch.cat([x, x.new_zeros(bs - k, stop - i, x.shape[2])], dim=0))
    out = torch.cat(outputs, dim=1)  # [bs, total, E]

    pos = torch.arange(total)
    start_t, end_t = torch.tensor(windows), torch.tensor(ends)
    in_window = ((pos[None, :] >= start_t[:, None]) & (pos[None, :] < end_t[:, None]))[:, :, None]
    last = out[torch.arange(bs), end_t - 1]
    biggest = out.masked_fill(~in_window, float("-inf")).max(dim=1).values
    mean = out.masked_fill(~in_window, 0.0).sum(dim=1) / (end_t - start_t)[:, None].to(out.dtype)
    features = torch.cat([last, biggest, mean], dim=1)
    if not regularisers:
        return features
    width = out.shape[2]
    activation = (out * out * in_window).sum() / (in_window.sum() * width)
    pairs = in_window[:, 1:] & in_window[:, :-1]
    change = out[:, 1:] - out[:, :-1]
    temporal = (change * change * pairs).sum() / (pairs.sum() * width)
    return features, activation, temporal


def head(w, features, train, masks=None):
    """BatchNorm -> dropout -> Linear (no bias) per block, ReLU between blocks. Train mode updates the BN
    running buffers in place."""
    c = CONFIG
    x = features
    blocks = len(head_dims()) - 1
    for k in range(blocks):
        p = f"1.layers.{k}."
        x = F.batch_norm(x, w[p + "0.running_mean"], w[p + "0.running_var"], w[p + "0.weight"], w[p + "0.bias"],
                         training=train, momentum=c["bnMomentum"], eps=c["bnEps"])
        if train:
            w[p + "0.num_batches_tracked"] += 1
        if masks:
            x = x * masks["head"][k]
        x = F.linear(x, w[p + "2.weight"])
        if k < blocks - 1:
            x = F.relu(x)
    return x


def forward(w, batch, train, masks=None, max_len=CONFIG["maxLen"]):
    return head(w, encode(w, batch["tokens"], batch["lengths"], masks, max_len), train, masks)


def forward_regularised(w, batch):
    """Training mode without dropout; returns the logits, AR's mean and TAR's mean."""
    features, activation, temporal = encode(w, batch["tokens"], batch["lengths"], regularisers=True)
    return head(w, features, True), activation, temporal


def flat(t):
    return [float(f"{v:.7g}") for v in t.detach().reshape(-1).tolist()]


def num(t):
    return float(f"{float(t.detach()):.7g}")


def exact(t):
    """t as the engine reads it back from the file: 7 significant digits, then float32."""
    return torch.tensor(flat(t), dtype=torch.float32).reshape(t.shape)


def tensor_json(t):
    return dict(shape=list(t.shape), data=flat(t))


def to_json(o, depth=0):
    """json.dumps(o, indent=1, sort_keys=True), except that a list holding only numbers stays on one line
    (one number a line would make the file a third bigger)."""
    pad = " " * (depth + 1)
    if isinstance(o, dict) and o:
        items = [f"{pad}{json.dumps(k)}: {to_json(o[k], depth + 1)}" for k in sorted(o)]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    if isinstance(o, list) and any(isinstance(v, (dict, list)) for v in o):
        return "[\n" + ",\n".join(pad + to_json(v, depth + 1) for v in o) + "\n" + " " * depth + "]"
    return json.dumps(o)


def make_inputs():
    """Weights, batches and masks, drawn from one generator in that order; weights and masks rounded to what
    the file holds, so the engine and this script start from the very same float32 values."""
    gen = torch.Generator().manual_seed(SEED)
    weights = {k: exact(v) for k, v in make_weights(gen).items()}
    batches = [make_batch(gen, lengths) for lengths in BATCH_LENGTHS]
    masks = {k: [exact(m) for m in v] if isinstance(v, list) else exact(v)
             for k, v in make_masks(gen, len(BATCH_LENGTHS[0])).items()}
    return weights, batches, masks


def compute(weights, batches, masks, dtype):
    """Every case of the file, computed in `dtype`; returns the cases as they are written."""

    def fresh():
        w = {k: v.to(dtype).clone() for k, v in weights.items()}
        return {k: v if is_buffer(k) else v.requires_grad_(True) for k, v in w.items()}

    def params_of(w):
        return {k: v for k, v in w.items() if not is_buffer(k)}

    def training_step(batch, masks=None, class_weights=None):
        w = fresh()
        logits = forward(w, batch, True, masks)
        weight = None if class_weights is None else torch.tensor(class_weights, dtype=dtype)
        loss = F.cross_entropy(logits, batch["labels"], weight=weight)
        loss.backward()
        return w, logits, loss

    masks = {k: [m.to(dtype) for m in v] if isinstance(v, list) else v.to(dtype) for k, v in masks.items()}
    b0 = batches[0]

    # Plain: one training-mode forward and backward on batch 0, no dropout, BN on batch statistics.
    w_plain, logits, loss = training_step(b0)
    plain = dict(logits=flat(logits), loss=num(loss),
                 grads={k: flat(v.grad) for k, v in params_of(w_plain).items()},
                 buffers={k: flat(v) for k, v in w_plain.items() if is_buffer(k)})

    # Masked: the same with fixed dropout masks (training-mode maths).
    w_m, logits_m, loss_m = training_step(b0, masks)
    masked = dict(logits=flat(logits_m), loss=num(loss_m), grads={k: flat(v.grad) for k, v in params_of(w_m).items()})

    # Weighted: the plain case with class weights in the cross-entropy.
    w_w, _, loss_w = training_step(b0, class_weights=CLASS_WEIGHTS)
    weighted = dict(classWeights=CLASS_WEIGHTS, loss=num(loss_w),
                    grads={k: flat(v.grad) for k, v in params_of(w_w).items()})

    # Regularised: the plain case with AR and TAR added to the cross-entropy.
    w_r = fresh()
    logits_r, activation, temporal = forward_regularised(w_r, b0)
    cross_entropy = F.cross_entropy(logits_r, b0["labels"])
    loss_r = cross_entropy + ALPHA * activation + BETA * temporal
    loss_r.backward()
    regularised = dict(alpha=ALPHA, beta=BETA, crossEntropy=num(cross_entropy), loss=num(loss_r),
                       grads={k: flat(v.grad) for k, v in params_of(w_r).items()})

    # Eval: no dropout, BN on the initial running statistics, no gradient.
    evals = []
    with torch.no_grad():
        for index in (0, 1):
            batch = batches[index]
            w_e = fresh()
            features_e = encode(w_e, batch["tokens"], batch["lengths"])
            logits_e = head(w_e, features_e, False)
            evals.append(dict(
                batch=index, features=flat(features_e), logits=flat(logits_e), probabilities=flat(F.softmax(logits_e, dim=1)),
                lossSum=num(F.cross_entropy(logits_e, batch["labels"], reduction="sum")),
                correct=int((logits_e.argmax(dim=1) == batch["labels"]).sum())))
        infinite = dict(logits=flat(forward(fresh(), b0, False, max_len=None)))

    # Optimizer: two AdamW steps on batches 2 and 3, groups 0 and 1 frozen, clipping on, no decay on BN.
    w2 = fresh()
    params = params_of(w2)
    for k, v in params.items():
        v.requires_grad_(group_of(k) >= FROZEN_BEFORE)
    param_groups = []
    for g, h in enumerate(GROUP_HYPER):
        if g < FROZEN_BEFORE:
            continue
        for decay in (True, False):
            ps = [v for k, v in params.items() if group_of(k) == g and (not is_bn_param(k)) == decay]
            if ps:
                param_groups.append(dict(params=ps, lr=h["lr"], betas=(h["beta1"], h["beta2"]),
                                         weight_decay=h["weightDecay"] if decay else 0.0, eps=EPS))
    opt = torch.optim.AdamW(param_groups, foreach=False, fused=False)
    trainable = [v for v in params.values() if v.requires_grad]
    steps = []
    for index in OPT_BATCHES:
        batch = batches[index]
        opt.zero_grad(set_to_none=True)
        loss2 = F.cross_entropy(forward(w2, batch, True), batch["labels"])
        loss2.backward()
        norm = torch.nn.utils.clip_grad_norm_(trainable, CLIP)
        opt.step()
        steps.append(dict(loss=num(loss2), gradNorm=num(norm)))
    optimizer = dict(groups=GROUP_HYPER, eps=EPS, clip=CLIP, frozenBefore=FROZEN_BEFORE, batches=OPT_BATCHES,
                     steps=steps, after={k: flat(v) for k, v in w2.items()})
    return dict(plain=plain, masked=masked, weighted=weighted, regularised=regularised, eval=evals, infinite=infinite,
                optimizer=optimizer)


def worst_error(ours, golden):
    """The largest |ours - golden| / (1e-5 |golden| + 1e-6 max|golden|) over each list of numbers (the
    tolerance of test/helpers/close.ts): above 1, `ours` would fail the parity tests."""
    if isinstance(golden, dict):
        return max(worst_error(ours[k], golden[k]) for k in golden)
    if isinstance(golden, list) and any(isinstance(v, (dict, list)) for v in golden):
        return max(worst_error(a, b) for a, b in zip(ours, golden))
    if isinstance(golden, (int, float)):
        ours, golden = [ours], [golden]
    if not all(isinstance(v, (int, float)) for v in golden):
        return 0.0
    scale = max((abs(v) for v in golden), default=0.0)
    return max((abs(a - b) / (1e-5 * abs(b) + 1e-6 * scale) if a != b else 0.0 for a, b in zip(ours, golden)),
               default=0.0)


def main(out_path):
    torch.set_num_threads(1)
    weights, batches, masks = make_inputs()
    cases = compute(weights, batches, masks, torch.float64)
    # The golden values are computed in float64, the exact answer for the float32 inputs; the same cases in
    # float32 must land inside the tolerance, or the fixture is too ill-conditioned for a float32 engine.
    error = worst_error(compute(weights, batches, masks, torch.float32), cases)
    if error > FLOAT32_LIMIT:
        sys.exit(f"clas_golden: float32 lands {error:.3g} tolerances from float64 (limit {FLOAT32_LIMIT}): "
                 "the fixture is ill-conditioned")
    cases["masked"]["masks"] = dict(
        embed=tensor_json(masks["embed"]), input=tensor_json(masks["input"]),
        weight=[tensor_json(m) for m in masks["weight"]], hidden=[tensor_json(m) for m in masks["hidden"]],
        head=[tensor_json(m) for m in masks["head"]])
    golden = dict(
        torch=torch.__version__,
        config=CONFIG,
        weights={k: flat(v) for k, v in weights.items()},
        shapes={k: list(v.shape) for k, v in weights.items()},
        batches=[dict(tokens=b["tokens"].reshape(-1).tolist(), rows=b["tokens"].shape[0], length=b["tokens"].shape[1],
                      lengths=b["lengths"], labels=b["labels"].tolist()) for b in batches],
        **cases,
    )
    with open(out_path, "w") as f:
        f.write(to_json(golden) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/golden/clas.json")
