"""A small CNN training step (conv3x3 1->8, ReLU, MaxPool2, Linear 8*14*14->10, batch 64,
cross-entropy, SGD update): time per step rt vs PyTorch (target: at least 1.0x; batch 16 and
256 for the figure, no target) and the peak memory of the same script run for 50 steps in a
fresh process (target: rt's peak no higher than PyTorch's).

    python benchmarks/bench_nn_cnn.py [--quick] [--json PATH] [--plot PATH]
"""
import os
import subprocess
import sys

import numpy as np

import _harness as H

try:
    import rt_autograd as rt
    import rt_nn as nn
    import rt_nn.functional as F
except Exception:        # the harness prints n/a for rt
    rt = nn = F = None

BATCH = 64


def build(lib_nn, seed_weights):
    model = lib_nn.Sequential(lib_nn.Conv2d(1, 8, 3, padding=1), lib_nn.ReLU(),
                              lib_nn.MaxPool2d(2), lib_nn.Flatten(),
                              lib_nn.Linear(8 * 14 * 14, 10))
    return model


def copy_weights(src_torch, dst_rt):
    for (name, p), (_, q) in zip(src_torch.named_parameters(), dst_rt.named_parameters()):
        with rt.no_grad():
            q.copy_(rt.from_numpy(p.detach().numpy().copy()))


def make_step(lib, lib_nn, lib_F, model, x, y, lr=0.01):
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        loss = lib_F.cross_entropy(model(x), y)
        loss.backward()
        with lib.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=lr)
        return loss
    return step


def main():
    print(f"_{H.header()}_\n")
    rows = []
    for batch in H.sizes((16, BATCH, 256), quick=(4, 16)):
        res = H.bench(_step_makers(batch), measure_kw={"batch_s": 0.1, "repeat": 5})
        rows.append((f"conv3x3 1->8, ReLU, MaxPool2, Linear, CE, SGD; batch {batch}", res,
                     "torch/rt >= 1" if batch == BATCH else "",
                     H.point("CNN step conv3x3-ReLU-MaxPool-Linear", batch)))
    H.timing_table("Small CNN training step (1x28x28 inputs)", rows, unit="us",
                   size_name="batch size")
    rows = []
    for lib in ("rt", "torch"):
        rows.append([lib, _peak_mib(lib)])
    H.table("Peak memory of 50 training steps in a fresh process (MiB of resident memory above "
            "the process after imports and model creation)", ["library", "peak RSS growth"],
            rows, notes=["Resident set size from /proc/self/statm, sampled after each forward, "
                         "backward and update, in one subprocess per library (1 thread); "
                         "target: rt <= torch."])


def _step_makers(batch):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    ys = rng.integers(0, 10, batch).astype(np.int64)

    def make_torch():
        torch = H.torch
        torch.manual_seed(0)
        model = build(torch.nn, 0)
        return make_step(torch, torch.nn, torch.nn.functional, model,
                         torch.from_numpy(xs), torch.from_numpy(ys))

    def make_rt():
        model = build(nn, 0)
        if H.torch is not None:
            H.torch.manual_seed(0)
            copy_weights(build(H.torch.nn, 0), model)
        return make_step(rt, nn, F, model, rt.from_numpy(xs), rt.from_numpy(ys))

    return {"rt": make_rt if rt is not None else None, "torch": make_torch}


PEAK_SCRIPT = r"""
import os, sys, numpy as np
lib = sys.argv[1]
rng = np.random.default_rng(0)
xs = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
ys = rng.integers(0, 10, 64).astype(np.int64)
if lib == "torch":
    import torch as L, torch.nn as N, torch.nn.functional as FF
    x, y = L.from_numpy(xs), L.from_numpy(ys)
else:
    import rt_autograd as L, rt_nn as N, rt_nn.functional as FF
    x, y = L.from_numpy(xs), L.from_numpy(ys)
L.set_num_threads(1)
model = N.Sequential(N.Conv2d(1, 8, 3, padding=1), N.ReLU(), N.MaxPool2d(2), N.Flatten(),
                     N.Linear(8 * 14 * 14, 10))
params = list(model.parameters())
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
base = peak = rss()
for _ in range(50):
    for p in params:
        p.grad = None
    loss = FF.cross_entropy(model(x), y)
    peak = max(peak, rss())          # after forward: activations and saved tensors alive
    loss.backward()
    peak = max(peak, rss())          # after backward: gradients alive
    with L.no_grad():
        for p in params:
            p.sub_(p.grad, alpha=0.01)
    peak = max(peak, rss())
print((peak - base) / 2 ** 20)
"""


def _peak_mib(lib):
    if lib == "torch" and H.torch is None:
        return H.NA
    if lib == "rt" and rt is None:
        return H.NA
    try:
        out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, lib], capture_output=True,
                             text=True, timeout=600, env=dict(os.environ))
        if out.returncode != 0:
            return "error: " + out.stderr.strip().splitlines()[-1][:60]
        return f"{float(out.stdout.strip()):.2f}"
    except Exception as exc:     # keep the report going
        return f"error: {type(exc).__name__}"


if __name__ == "__main__":
    H.main_guard(main)
