"""Sum of a 4096x4096 float32 tensor: all, dim=0, dim=1 (target: at least 0.9x PyTorch,
torch/rt >= 0.9)."""
import numpy as np

import _harness as H


def main():
    print(f"_{H.header()}_\n")
    a = np.random.default_rng(0).standard_normal((4096, 4096)).astype(np.float32)
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
        rows.append((f"{label} 4096x4096 f32", res, "torch/rt >= 0.9"))
    H.timing_table("Reductions", rows, unit="us")


if __name__ == "__main__":
    H.main_guard(main)
