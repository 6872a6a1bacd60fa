"""Elementwise throughput: add, mul, exp on float32 vectors of 1e3 to 1e7 values (target at
1e6 and 1e7: at least PyTorch's throughput, torch/rt >= 1; the smaller sizes show where the
per-call overhead ends and for the figure).

    python benchmarks/bench_elementwise.py [--quick] [--json PATH] [--plot PATH]
"""
import numpy as np

import _harness as H


def main():
    print(f"_{H.header()}_\n")
    rows = []
    for n in H.sizes((10**3, 10**4, 10**5, 10**6, 10**7), quick=(10**3, 10**4, 10**5)):
        rng = np.random.default_rng(0)
        a = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        for name in ("add", "mul", "exp"):
            def make_rt(name=name):
                x, y = H.rt_tensor_from(a), H.rt_tensor_from(b)
                return {"add": lambda: H.rtt.add(x, y), "mul": lambda: H.rtt.mul(x, y),
                        "exp": lambda: H.rtt.exp(x)}[name]

            def make_torch(name=name):
                x, y = H.torch_from(a), H.torch_from(b)
                return {"add": lambda: H.torch.add(x, y), "mul": lambda: H.torch.mul(x, y),
                        "exp": lambda: H.torch.exp(x)}[name]

            def make_np(name=name):
                return {"add": lambda: np.add(a, b), "mul": lambda: np.multiply(a, b),
                        "exp": lambda: np.exp(a)}[name]

            res = H.bench({"rt": make_rt, "torch": make_torch, "numpy": make_np},
                          measure_kw={"batch_s": 0.05, "repeat": 5})
            rows.append((f"{name} 1e{len(str(n)) - 1} f32", res,
                         "torch/rt >= 1" if n >= 10**6 else "", H.point(f"{name} f32", n)))
    H.timing_table("Elementwise, float32, result allocated per call", rows, unit="us",
                   notes=["Each call allocates its result (from rt's pool; torch's allocator; "
                          "numpy's malloc)."], size_name="values (float32)")


if __name__ == "__main__":
    H.main_guard(main)
