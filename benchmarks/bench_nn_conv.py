"""Convolution layers, rt_nn vs torch.nn: forward+backward (gradients of the input, the weight
and the bias; the output gradient is a fixed tensor) and forward alone, 1 and 2 threads.
Targets: Conv2d forward+backward for batch 32, 3->64, 32x32, k3 p1 and for batch 32,
64->64, 16x16, k3 p1: at least 0.8x PyTorch's speed (torch/rt >= 0.8). The other rows are
for information (float32 unless marked); the 64->64 forward+backward also runs at 8x8 and
32x32 for the figure (rt's speed relative to PyTorch across image sizes).

    python benchmarks/bench_nn_conv.py [--quick] [--json PATH] [--plot PATH]
"""
import numpy as np

import _harness as H

try:
    import rt_autograd as rt
    import rt_nn as nn
except Exception:        # the harness prints n/a for rt
    rt = nn = None

# (label, module constructor args (kind, args, kwargs), input shape, target, forward+backward)
CASES = [
    ("Conv2d 3->64 k3 p1, 32x32, batch 32, fwd+bwd", ("Conv2d", (3, 64, 3), {"padding": 1}),
     (32, 3, 32, 32), "torch/rt >= 0.8", True),
    ("Conv2d 64->64 k3 p1, 16x16, batch 32, fwd+bwd", ("Conv2d", (64, 64, 3), {"padding": 1}),
     (32, 64, 16, 16), "torch/rt >= 0.8", True),
    # more of the 64->64 sweep (SWEEP) is added by cases()
    ("Conv2d 3->64 k3 p1, 32x32, batch 32, fwd", ("Conv2d", (3, 64, 3), {"padding": 1}),
     (32, 3, 32, 32), "", False),
    ("Conv2d 64->64 k3 p1, 16x16, batch 32, fwd", ("Conv2d", (64, 64, 3), {"padding": 1}),
     (32, 64, 16, 16), "", False),
    ("Conv2d 64->128 k3 s2 p1, 16x16, batch 32, fwd+bwd",
     ("Conv2d", (64, 128, 3), {"stride": 2, "padding": 1}), (32, 64, 16, 16), "", True),
    ("Conv2d 64->64 k1, 16x16, batch 32, fwd+bwd", ("Conv2d", (64, 64, 1), {}),
     (32, 64, 16, 16), "", True),
    ("Conv2d 32->32 k3 p1 groups=32 (depthwise), 32x32, batch 16, fwd+bwd",
     ("Conv2d", (32, 32, 3), {"padding": 1, "groups": 32}), (16, 32, 32, 32), "", True),
    ("Conv2d 3->16 k3 p1, 64x64, batch 1, fwd", ("Conv2d", (3, 16, 3), {"padding": 1}),
     (1, 3, 64, 64), "", False),
    ("Conv1d 32->64 k5 p2, length 256, batch 16, fwd+bwd", ("Conv1d", (32, 64, 5), {"padding": 2}),
     (16, 32, 256), "", True),
    ("Conv3d 8->16 k3 p1, 8x16x16, batch 4, fwd+bwd", ("Conv3d", (8, 16, 3), {"padding": 1}),
     (4, 8, 8, 16, 16), "", True),
    ("ConvTranspose2d 64->32 k4 s2 p1, 8x8, batch 32, fwd+bwd",
     ("ConvTranspose2d", (64, 32, 4), {"stride": 2, "padding": 1}), (32, 64, 8, 8), "", True),
    ("Conv2d 64->64 k3 p1, 16x16, batch 32, fwd+bwd, float64",
     ("Conv2d", (64, 64, 3), {"padding": 1}), (32, 64, 16, 16), "", True),
]


# The figure's sweep: Conv2d 64->64 k3 p1, batch 32, forward+backward at H = W = size.
SWEEP_CASE = "Conv2d 64->64 k3 p1, batch 32, fwd+bwd"
SWEEP_SIZES, SWEEP_QUICK_SIZES = (8, 16, 32), (8, 16)


def cases():
    """CASES plus the sweep's other sizes right after its 16x16 row, each with its
    point(case, size) (None for rows outside the sweep)."""
    out = []
    for case in CASES:
        label, spec, shape, target, backward = case
        if label != "Conv2d 64->64 k3 p1, 16x16, batch 32, fwd+bwd":
            out.append((*case, None))
            continue
        for size in H.sizes(SWEEP_SIZES, SWEEP_QUICK_SIZES):
            out.append((f"Conv2d 64->64 k3 p1, {size}x{size}, batch 32, fwd+bwd", spec,
                        (32, 64, size, size), target if size == 16 else "", backward,
                        H.point(SWEEP_CASE, size)))
    return out


def _copy_params(tm, rm):
    with rt.no_grad():
        for (_, p), (_, q) in zip(tm.named_parameters(), rm.named_parameters()):
            q.copy_(rt.from_numpy(p.detach().numpy().copy()))


def _makers(spec, shape, backward, dtype):
    kind, args, kwargs = spec
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape).astype(dtype)

    def build_torch():
        torch = H.torch
        torch.manual_seed(0)
        m = getattr(torch.nn, kind)(*args, **kwargs)
        return m.double() if dtype == np.float64 else m

    def make(lib, m):
        x = lib.from_numpy(x_np.copy())
        params = list(m.parameters())
        if not backward:
            def fwd():
                with lib.no_grad():
                    return m(x)
            return fwd
        x.requires_grad_(True)
        with lib.no_grad():
            g = lib.ones_like(m(x)) * 0.01

        def step():
            x.grad = None
            for p in params:
                p.grad = None
            m(x).backward(g)
        return step

    def make_torch():
        return make(H.torch, build_torch())

    def make_rt():
        m = getattr(nn, kind)(*args, **kwargs)
        if dtype == np.float64:
            m = m.double()
        if H.torch is not None:
            _copy_params(build_torch(), m)
        return make(rt, m)

    return {"rt": make_rt if rt is not None else None, "torch": make_torch}


def main():
    print(f"_{H.header()}_\n")
    rows = []
    for label, spec, shape, target, backward, at in cases():
        dtype = np.float64 if "float64" in label else np.float32
        res = H.bench(_makers(spec, shape, backward, dtype),
                      measure_kw={"batch_s": 0.1, "repeat": 7})
        rows.append((label, res, target, at) if at else (label, res, target))
    H.timing_table("Convolution layers", rows, unit="ms", size_name="image height = width",
                   notes=["fwd+bwd: forward, then backward of a fixed output gradient into the "
                          "input (which requires grad), the weight and the bias; fwd: forward "
                          "under no_grad. Weights copied from the torch module."])


if __name__ == "__main__":
    H.main_guard(main)
