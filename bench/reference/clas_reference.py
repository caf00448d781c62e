"""Plain PyTorch (eager) reference for the classifier benchmark: the same AWD-LSTM text classifier and the
same step as ulmfit's classifier (BPT3C: chunks of seqLen positions, only the rows whose front padding is
over, the state detached between chunks, no autograd for chunks outside every document's window of the last
maxLen tokens; concat pooling [last, max, mean]; BatchNorm/Dropout/Linear head), with fastai's classifier
dropouts times 0.5 and PyTorch's own strongest settings: AdamW(fused=True), the same thread count, autocast
for bf16, on the cell's device ("cpu" or "cuda").

  train: dropout on, forward, cross-entropy, backward, global-norm clipping, AdamW over 5 layer groups.
  infer: eval mode under torch.inference_mode, softmax probabilities, copied out as float.

    python3 bench/reference/clas_reference.py '{"mode": "train", "docLen": 250, "bs": 32, "precision": "fp32", ...}'

Prints one JSON line: {"docsPerSecond": ..., "stepSeconds": [...], "peakRssMB": ...}.
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F

PAD = 1


def locked_mask(x, p):
    return x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p) / (1 - p)


class Encoder(torch.nn.Module):
    """AWD-LSTM encoder run over a batch in chunks (BPT3C), returning the concat-pooled features."""

    def __init__(self, vocab, emb, hidden, layers, drops, seq_len, max_len):
        super().__init__()
        self.embed_p, self.input_p, self.weight_p, self.hidden_p = drops
        self.seq_len, self.max_len = seq_len, max_len
        self.encoder = torch.nn.Embedding(vocab, emb, padding_idx=PAD)
        self.encoder.weight.data.uniform_(-0.1, 0.1)
        self.rnns = torch.nn.ModuleList(
            torch.nn.LSTM(emb if l == 0 else hidden, emb if l == layers - 1 else hidden, batch_first=True)
            for l in range(layers))

    def chunk(self, tokens, state):
        w = self.encoder.weight
        if self.training:
            w = w * w.new_empty(w.size(0), 1).bernoulli_(1 - self.embed_p) / (1 - self.embed_p)
        x = F.embedding(tokens, w, padding_idx=PAD)
        if self.training:
            x = x * locked_mask(x, self.input_p)
        new_state = []
        for l, lstm in enumerate(self.rnns):
            w_hh = F.dropout(lstm.weight_hh_l0, self.weight_p, training=self.training)
            out, h, c = torch._VF.lstm(x, state[l], [lstm.weight_ih_l0, w_hh, lstm.bias_ih_l0, lstm.bias_hh_l0],
                                       True, 1, 0.0, self.training, False, True)
            new_state.append((h.detach(), c.detach()))
            x = out * locked_mask(out, self.hidden_p) if self.training and l < len(self.rnns) - 1 else out
        return x, new_state

    def forward(self, tokens, lengths):
        bs, total = tokens.shape
        s = self.seq_len
        starts = [((total - n) // s) * s for n in lengths]
        ends = [f + n for f, n in zip(starts, lengths)]
        windows = [max(f, e - self.max_len) for f, e in zip(starts, ends)]
        state = [(tokens.new_zeros(1, 0, r.hidden_size, dtype=torch.float), tokens.new_zeros(1, 0, r.hidden_size, dtype=torch.float))
                 for r in self.rnns]
        outputs, first = [], None
        for i in range(0, total, s):
            stop = min(i + s, total)
            k = sum(1 for f in starts if f <= i)
            state = [(torch.cat([h, h.new_zeros(1, k - h.size(1), h.size(2))], 1),
                      torch.cat([c, c.new_zeros(1, k - c.size(1), c.size(2))], 1)) for h, c in state]
            needed = any(e > i and w < stop for w, e in zip(windows[:k], ends[:k]))
            with torch.set_grad_enabled(needed and torch.is_grad_enabled()):
                out, state = self.chunk(tokens[:k, i:stop], state)
            if needed and first is None:
                first = i
            if first is not None:  # from the first chunk any window needs on, padded to every row
                outputs.append(F.pad(out, (0, 0, 0, 0, 0, bs - k)))
        out = torch.cat(outputs, dim=1)
        dev = tokens.device
        pos = torch.arange(first, total, device=dev)
        w_t, e_t = torch.tensor(windows, device=dev), torch.tensor(ends, device=dev)
        keep = ((pos[None] >= w_t[:, None]) & (pos[None] < e_t[:, None])).unsqueeze(2)
        last = out[torch.arange(bs, device=dev), e_t - 1 - first]
        biggest = out.masked_fill(~keep, float("-inf")).max(dim=1).values
        mean = (out.masked_fill(~keep, 0.0).sum(dim=1) / (e_t - w_t).unsqueeze(1).float()).to(out.dtype)
        return torch.cat([last, biggest, mean], dim=1)


class Classifier(torch.nn.Module):
    def __init__(self, vocab, emb, hidden, layers, drops, seq_len, max_len, head_hidden, head_ps, n_classes):
        super().__init__()
        self.encoder = Encoder(vocab, emb, hidden, layers, drops, seq_len, max_len)
        dims = [3 * emb] + head_hidden + [n_classes]
        blocks = []
        for k in range(len(dims) - 1):
            blocks += [torch.nn.BatchNorm1d(dims[k]), torch.nn.Dropout(head_ps[k]),
                       torch.nn.Linear(dims[k], dims[k + 1], bias=False)]
            if k < len(dims) - 2:
                blocks.append(torch.nn.ReLU(inplace=True))
        self.head = torch.nn.Sequential(*blocks)

    def forward(self, tokens, lengths):
        return self.head(self.encoder(tokens, lengths))


def make_batch(gen, cell):
    bs, doc, vocab, s = cell["bs"], cell["docLen"], cell["vocab"], cell["seqLen"]
    lengths = sorted(torch.randint(int(0.9 * doc), int(1.1 * doc) + 1, (bs,), generator=gen).tolist(), reverse=True)
    total = lengths[0]
    tokens = torch.full((bs, total), PAD, dtype=torch.long)
    for r, n in enumerate(lengths):
        f = ((total - n) // s) * s
        tokens[r, f:f + n] = torch.randint(2, vocab, (n,), generator=gen)
    labels = torch.randint(0, 2, (bs,), generator=gen)
    return tokens, lengths, labels


def main(cell):
    torch.set_num_threads(cell["threads"])
    torch.manual_seed(0)
    device = torch.device(cell.get("device", "cpu"))
    model = Classifier(cell["vocab"], cell["emb"], cell["hidden"], cell["layers"], (0.025, 0.2, 0.25, 0.15),
                       cell["seqLen"], cell["maxLen"], [50], [0.2, 0.1], 2).to(device)
    bf16 = cell["precision"] == "bf16"
    gen = torch.Generator().manual_seed(1)
    batches = [make_batch(gen, cell) for _ in range(cell["warmup"] + cell["steps"])]
    # Batches arrive on the device as ulmfit's do: copied from host memory inside the timed step.
    train = cell["mode"] == "train"
    if train:
        model.train()
        groups = [[model.encoder.encoder.weight]] + [list(r.parameters()) for r in model.encoder.rnns]
        bn = [p for m in model.head if isinstance(m, torch.nn.BatchNorm1d) for p in m.parameters()]
        linear = [m.weight for m in model.head if isinstance(m, torch.nn.Linear)]
        lr = lambda g: 1e-3 / 2.6 ** (4 - g)
        param_groups = [dict(params=p, lr=lr(g), weight_decay=0.01) for g, p in enumerate(groups)]
        param_groups += [dict(params=linear, lr=lr(4), weight_decay=0.01), dict(params=bn, lr=lr(4), weight_decay=0.0)]
        opt = torch.optim.AdamW(param_groups, betas=(0.7, 0.99), eps=1e-5, fused=True)
    else:
        model.eval()
    times = []
    for step, (host_tokens, lengths, host_labels) in enumerate(batches):
        start = time.perf_counter()
        tokens, labels = host_tokens.to(device), host_labels.to(device)
        if train:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(tokens, lengths)
                loss = F.cross_entropy(logits.float(), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
            loss.item()
        else:
            with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                probs = F.softmax(model(tokens, lengths).float(), dim=1).float()
                probs.sum().item()
        if step >= cell["warmup"]:
            times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps(dict(docsPerSecond=cell["bs"] / median, stepSeconds=times,
                          peakRssMB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          peakDeviceMB=torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None)))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
