"""Plain PyTorch (eager) reference for the LM training-step benchmark: the same AWD-LSTM and the same step
as ulmfit's trainStep (embedding dropout, DropConnect on weight_hh, variational dropout, tied decoder,
cross-entropy + AR/TAR, backward, global-norm clipping, AdamW over 4 layer groups), with PyTorch's own
strongest settings: AdamW(fused=True), the same thread count, autocast for bf16, on the cell's device
("cpu" or "cuda"; `loss.item()` ends each timed step, as ulmfit's step ends with its numbers on the host).

    python3 bench/reference/lm_reference.py '{"vocab": 10000, "bs": 64, "seq": 70, "precision": "fp32", ...}'

Prints one JSON line: {"tokensPerSecond": ..., "stepSeconds": [...], "peakRssMB": ...}.
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F


def locked_mask(x, p):
    return x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p) / (1 - p)


class AwdLstm(torch.nn.Module):
    def __init__(self, vocab, emb, hidden, layers, pad, drops):
        super().__init__()
        self.pad, self.drops, self.layers = pad, drops, layers
        self.encoder = torch.nn.Parameter(torch.empty(vocab, emb).uniform_(-0.1, 0.1))
        self.decoder_bias = torch.nn.Parameter(torch.zeros(vocab))
        self.rnns = torch.nn.ModuleList()
        for l in range(layers):
            inp = emb if l == 0 else hidden
            out = emb if l == layers - 1 else hidden
            lstm = torch.nn.LSTM(inp, out, batch_first=True)
            self.rnns.append(lstm)

    def forward(self, tokens, state):
        embed_p, input_p, weight_p, hidden_p, output_p = self.drops
        w = self.encoder * self.encoder.new_empty(self.encoder.size(0), 1).bernoulli_(1 - embed_p) / (1 - embed_p)
        x = F.embedding(tokens, w, padding_idx=self.pad)
        x = x * locked_mask(x, input_p)
        new_state = []
        for l, lstm in enumerate(self.rnns):
            w_hh = F.dropout(lstm.weight_hh_l0, weight_p, training=True)
            out, h, c = torch._VF.lstm(x, state[l], [lstm.weight_ih_l0, w_hh, lstm.bias_ih_l0, lstm.bias_hh_l0],
                                       True, 1, 0.0, True, False, True)
            new_state.append((h.detach(), c.detach()))
            raw = out
            x = out * locked_mask(out, hidden_p) if l < self.layers - 1 else out
        dropped = raw * locked_mask(raw, output_p)
        return F.linear(dropped, self.encoder, self.decoder_bias), raw, dropped, new_state


def main(cell):
    torch.set_num_threads(cell["threads"])
    torch.manual_seed(0)
    device = torch.device(cell.get("device", "cpu"))
    vocab, bs, seq = cell["vocab"], cell["bs"], cell["seq"]
    model = AwdLstm(vocab, cell["emb"], cell["hidden"], cell["layers"], 1, (0.02, 0.25, 0.2, 0.15, 0.1)).to(device)
    groups = [list(r.parameters()) for r in model.rnns] + [[model.encoder], [model.decoder_bias]]
    lrs = [1e-3 / 2.6 ** (3 - g) for g in range(4)] + [1e-3]
    opt = torch.optim.AdamW([dict(params=p, lr=lr, weight_decay=0.0 if g == 4 else 0.01) for g, (p, lr) in enumerate(zip(groups, lrs))],
                            betas=(0.7, 0.99), eps=1e-5, fused=True)
    state = [(torch.zeros(1, bs, r.hidden_size, device=device), torch.zeros(1, bs, r.hidden_size, device=device)) for r in model.rnns]
    gen = torch.Generator().manual_seed(1)
    stream = torch.randint(0, vocab, (bs, seq * (cell["warmup"] + cell["steps"]) + 1), generator=gen)
    times = []
    for step in range(cell["warmup"] + cell["steps"]):
        x = stream[:, step * seq:(step + 1) * seq].contiguous()
        y = stream[:, step * seq + 1:(step + 1) * seq + 1].contiguous()
        start = time.perf_counter()
        # Batches arrive on the device as ulmfit's do: copied from host memory inside the timed step.
        x, y = x.to(device), y.to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cell["precision"] == "bf16"):
            logits, raw, dropped, state = model(x, state)
            ce = F.cross_entropy(logits.float().reshape(-1, vocab), y.reshape(-1))
            loss = ce + 2.0 * dropped.float().pow(2).mean() + 1.0 * (raw[:, 1:] - raw[:, :-1]).float().pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        loss.item()
        if step >= cell["warmup"]:
            times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps(dict(tokensPerSecond=bs * seq / median, stepSeconds=times,
                          peakRssMB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          peakDeviceMB=torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None)))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
