"""float32 n x n matmul, n = 64, 256, 512, 1024, 2048: µs per call and GFLOP/s (targets: at
1024 and 2048 at least 0.9x PyTorch's GFLOP/s; at 64, per call no slower than PyTorch; 256
and 512 for the figure).

    python benchmarks/bench_matmul.py [--quick] [--json PATH] [--plot PATH]
"""
import numpy as np

import _harness as H

SIZES = (64, 256, 512, 1024, 2048)
QUICK_SIZES = (32, 64, 128)
TARGET = {64: "torch/rt >= 1", 1024: "torch/rt >= 0.9", 2048: "torch/rt >= 0.9"}


def gflops(n, s):
    return f"{2 * n ** 3 / s / 1e9:.1f}" if H.is_num(s) else s


def main():
    print(f"_{H.header()}_\n")
    rows, grows = [], []
    for n in H.sizes(SIZES, QUICK_SIZES):
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)

        def make_rt():
            x, y = H.rt_tensor_from(a), H.rt_tensor_from(b)
            return lambda: H.rtt.matmul(x, y)

        def make_torch():
            x, y = H.torch_from(a), H.torch_from(b)
            return lambda: H.torch.matmul(x, y)

        res = H.bench({"rt": make_rt, "torch": make_torch, "numpy": lambda: (lambda: a @ b)},
                      measure_kw={"batch_s": 0.1 if n >= 1024 else 0.02,
                                  "repeat": 5 if n >= 1024 else 7})
        rows.append((f"matmul {n}x{n} f32", res, TARGET.get(n, ""), H.point("matmul f32", n)))
        grows.append([f"{n}x{n}", gflops(n, res[("rt", 1)]), gflops(n, res[("rt", 2)]),
                      gflops(n, res[("torch", 1)]), gflops(n, res[("torch", 2)]),
                      gflops(n, res[("numpy", None)])])
    H.timing_table("Matmul", rows, unit="us", size_name="n (n x n @ n x n, float32)")
    H.table("Matmul GFLOP/s", ["size", "rt 1T", "rt 2T", "torch 1T", "torch 2T", "numpy"], grows,
            notes=["numpy's BLAS uses its default thread count (all cores)."])


if __name__ == "__main__":
    H.main_guard(main)
