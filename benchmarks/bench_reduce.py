"""Sum of an n x n float32 tensor, n = 256, 1024, 4096: all, dim=0, dim=1 (target at 4096:
at least 0.9x PyTorch, torch/rt >= 0.9; the smaller sizes for the figure).

    python benchmarks/bench_reduce.py [--quick] [--json PATH] [--plot PATH]
"""
import numpy as np

import _harness as H


def main():
    print(f"_{H.header()}_\n")
    rows = []
    for n in H.sizes((256, 1024, 4096), quick=(64, 256)):
        rows += _rows(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32))
    rows.sort(key=lambda row: row[3].case)         # the table grouped by reduction
    H.timing_table("Reductions", rows, unit="us", size_name="n (n x n, float32)")


def _rows(a):
    n = a.shape[0]
    rows = []
    for label, dim in (("sum()", None), ("sum(dim=0)", 0), ("sum(dim=1)", 1)):
        kw = {} if dim is None else {"dim": dim}
        nkw = {} if dim is None else {"axis": dim}

        def make_rt(kw=kw):
            x = H.rt_tensor_from(a)
            return lambda: x.sum(**kw)

        def make_torch(kw=kw):
            x = H.torch_from(a)
            return lambda: x.sum(**kw)

        def make_np(nkw=nkw):
            return lambda: a.sum(**nkw)

        res = H.bench({"rt": make_rt, "torch": make_torch, "numpy": make_np},
                      measure_kw={"batch_s": 0.05, "repeat": 5})
        rows.append((f"{label} {n}x{n} f32", res, "torch/rt >= 0.9" if n >= 4096 else "",
                     H.point(label, n)))
    return rows


if __name__ == "__main__":
    H.main_guard(main)
