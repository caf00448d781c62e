"""Where the time of one LM training step goes on a GPU, and what cuDNN's LSTM costs in each dtype.

1. The reference step of bench/reference/lm_reference.py (the same model and step as ulmfit's): its wall
   time, then under torch.profiler the device time of its kernels, largest first.
2. One paper-size LSTM layer stack (400 -> 1152 -> 1152 -> 400, bs x seq), forward and backward, in fp32
   (TF32 off and on), fp16 and bf16, each through the path LibTorch picks for it (cuDNN or not), timed
   with CUDA events.

    python3 bench/reference/profile_lm.py '{"vocab": 60000, "bs": 64, "seq": 70, "precision": "bf16", "device": "cuda"}'

Prints the tables, then one JSON line with the figures.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

from lm_reference import AwdLstm


def profile_step(cell, steps=5):
    device = torch.device(cell["device"])
    vocab, bs, seq = cell["vocab"], cell["bs"], cell["seq"]
    torch.manual_seed(0)
    model = AwdLstm(vocab, 400, 1152, 3, 1, (0.02, 0.25, 0.2, 0.15, 0.1)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.7, 0.99), eps=1e-5, fused=True)
    state = [(torch.zeros(1, bs, r.hidden_size, device=device), torch.zeros(1, bs, r.hidden_size, device=device)) for r in model.rnns]
    x = torch.randint(0, vocab, (bs, seq), device=device)
    y = torch.randint(0, vocab, (bs, seq), device=device)

    def step():
        nonlocal state
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cell["precision"] == "bf16"):
            logits, raw, dropped, state = model(x, state)
            ce = F.cross_entropy(logits.float().reshape(-1, vocab), y.reshape(-1))
            loss = ce + 2.0 * dropped.float().pow(2).mean() + 1.0 * (raw[:, 1:] - raw[:, :-1]).float().pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        loss.item()

    for _ in range(3):
        step()
    # Wall time per step without the profiler: against the device time below, how much of the step the GPU
    # is busy (the rest is the host launching work).
    start = time.perf_counter()
    for _ in range(steps):
        step()
    wall_ms = (time.perf_counter() - start) / steps * 1000.0
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
    averages = prof.key_averages()
    for key in ("self_device_time_total", "self_cuda_time_total", "self_cpu_time_total"):
        try:
            print(averages.table(sort_by=key if device.type == "cuda" else "self_cpu_time_total", row_limit=25))
            break
        except (AttributeError, KeyError, ValueError):
            continue
    # Kernels only: an operator's row repeats the time of the kernels it launched, so summing every row
    # would count it twice. On the CPU, operators' own time.
    kernels = []
    for e in averages:
        on_device = device.type == "cuda" and e.device_type == DeviceType.CUDA
        if device.type == "cuda" and not on_device:
            continue
        us = (getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0)) if on_device else e.self_cpu_time_total
        if us > 0:
            kernels.append((e.key, us / steps / 1000.0, e.count // steps))
    kernels.sort(key=lambda k: -k[1])
    return dict(wallMsPerStep=wall_ms, deviceMsPerStep=sum(k[1] for k in kernels), top=[dict(name=n[:120], ms=ms, calls=c) for n, ms, c in kernels[:20]])


def time_lstm(dtype, tf32, bs, seq, device, repeats=10):
    torch.backends.cudnn.allow_tf32 = tf32
    sizes = [(400, 1152), (1152, 1152), (1152, 400)]
    layers = [torch.nn.LSTM(i, o, batch_first=True).to(device=device, dtype=dtype) for i, o in sizes]
    x0 = torch.randn(bs, seq, 400, device=device, dtype=dtype, requires_grad=True)

    def run():
        x = x0
        for lstm in layers:
            x, _ = lstm(x)
        x.float().sum().backward()

    for _ in range(3):
        run()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        run()
    end.record()
    torch.cuda.synchronize()
    torch.backends.cudnn.allow_tf32 = True
    return start.elapsed_time(end) / repeats


def main(cell):
    device = torch.device(cell["device"])
    result = dict(cell=cell, torch=torch.__version__, cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                  gpu=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu")
    result["step"] = profile_step(cell)
    if device.type != "cuda":
        print(json.dumps(result))
        return
    probe = torch.zeros(1, device=device, dtype=torch.bfloat16)
    result["cudnnTakesBf16"] = bool(torch.cudnn_is_acceptable(probe))
    lstm = {}
    for name, dtype, tf32 in [("fp32", torch.float32, False), ("fp32-tf32", torch.float32, True),
                              ("fp16", torch.float16, True), ("bf16", torch.bfloat16, True)]:
        lstm[name] = time_lstm(dtype, tf32, cell["bs"], cell["seq"], device)
    result["lstmForwardBackwardMs"] = lstm
    print("3-layer LSTM forward+backward, ms: " + ", ".join(f"{k} {v:.2f}" for k, v in lstm.items()))
    print(json.dumps(result))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
