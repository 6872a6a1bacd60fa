"""Per-op overhead: add of two 2x2 float32 tensors (target: rt at most 0.5x PyTorch's time,
i.e. torch/rt >= 2).

    python benchmarks/bench_overhead.py [--quick] [--json PATH]
"""
import numpy as np

import _harness as H


def main():
    print(f"_{H.header()}_\n")
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    b = np.array([[0.5, 0.25], [2.0, 1.0]], dtype=np.float32)

    def rt_op(op):
        def make():
            x, y = H.rt_tensor_from(a), H.rt_tensor_from(b)
            return op(x, y)
        return make

    def torch_op(op):
        def make():
            x, y = H.torch_from(a), H.torch_from(b)
            return op(x, y)
        return make

    def np_op(op):
        def make():
            x, y = a.copy(), b.copy()
            return op(x, y)
        return make

    rows = []
    cases = [
        ("a + b (2x2 f32)", lambda x, y: (lambda: x + y), "torch/rt >= 2"),
        ("add(a, b) (2x2 f32)", None, "torch/rt >= 2"),
        ("a * b (2x2 f32)", lambda x, y: (lambda: x * y), ""),
        ("a.sum() (2x2 f32)", lambda x, y: (lambda: x.sum()), ""),
        ("a.t() (view)", lambda x, y: (lambda: x.T) if isinstance(x, np.ndarray) else (lambda: x.t()), ""),
        ("a[0] (view)", lambda x, y: (lambda: x[0]), ""),
    ]
    for label, op, target in cases:
        if op is None:   # the function form: each library's own name
            res = H.bench({"rt": lambda: (lambda x, y: (lambda: H.rtt.add(x, y)))(H.rt_tensor_from(a), H.rt_tensor_from(b)),
                           "torch": lambda: (lambda x, y: (lambda: H.torch.add(x, y)))(H.torch_from(a), H.torch_from(b)),
                           "numpy": lambda: (lambda x, y: (lambda: np.add(x, y)))(a.copy(), b.copy())})
        else:
            res = H.bench({"rt": rt_op(op), "torch": torch_op(op), "numpy": np_op(op)})
        rows.append((label, res, target))
    H.timing_table("Per-op overhead", rows,
                   notes=["Thread count does not matter at this size (no op is split); "
                          "numpy's `a.t()` is `a.T`."])


if __name__ == "__main__":
    H.main_guard(main)
