"""Autograd overhead and memory: (a) add of two 2x2 float32 tensors that require grad
(forward plus graph recording; target: rt at most 0.5x PyTorch's time, torch/rt >= 2);
(b) backward through a chain of 100 tiny ops (backward alone, with retain_graph; and
forward+backward; target torch/rt >= 2); (c) an MLP-ish step on 64x64 float32
(matmul + relu + sum, forward+backward); (d) memory: rt's pool peak and in-use bytes over
1,000 iterations of (b) and (c) (flat in-use bytes means the graph is freed; 50 under
--quick).

    python benchmarks/bench_autograd.py [--quick] [--json PATH]
"""
import numpy as np

import _harness as H

try:
    import rt_autograd as rt
    from rt_tensor import memory
except Exception as exc:            # the script still prints its tables, with errors in cells
    rt = None
    RT_AG_ERROR = exc

CHAIN = 100


def _rt_leaf(a, requires_grad=True):
    t = rt.from_numpy(np.ascontiguousarray(a).copy())
    return t.requires_grad_(requires_grad)


def _torch_leaf(a, requires_grad=True):
    return H.torch.from_numpy(np.ascontiguousarray(a).copy()).requires_grad_(requires_grad)


def _chain(x, w, b):
    """CHAIN tiny ops: alternately `* w` and `+ b` (w, b constants), then sum."""
    y = x
    for i in range(CHAIN // 2):
        y = y * w
        y = y + b
    return y.sum()


def _mlp(x, w):
    return (x @ w).relu().sum()


def _makers(build):
    """{"rt": ..., "torch": ...} makers from build(leaf_fn) -> callable."""
    def make_rt():
        if rt is None:
            raise RT_AG_ERROR
        return build(_rt_leaf)

    def make_torch():
        return build(_torch_leaf)
    return {"rt": make_rt, "torch": make_torch}


def main():
    print(f"_{H.header()}_\n")
    rng = np.random.default_rng(0)
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    b = np.array([[0.5, 0.25], [2.0, 1.0]], dtype=np.float32)
    w2 = np.array([[1.0, 0.999], [1.001, 1.0]], dtype=np.float32)
    b2 = np.array([[1e-3, -1e-3], [2e-3, 0.0]], dtype=np.float32)
    x64 = rng.standard_normal((64, 64)).astype(np.float32)
    w64 = rng.standard_normal((64, 64)).astype(np.float32) / 8

    def add_grad(leaf):
        x, y = leaf(a), leaf(b)
        return lambda: x + y

    def add_nograd(leaf):
        x, y = leaf(a, False), leaf(b, False)
        return lambda: x + y

    def chain_backward(leaf):
        x = leaf(a)
        out = _chain(x, leaf(w2, False), leaf(b2, False))
        out.backward(retain_graph=True)
        return lambda: out.backward(retain_graph=True)

    def chain_forward(leaf):
        x, w, c = leaf(a), leaf(w2, False), leaf(b2, False)
        return lambda: _chain(x, w, c)

    def chain_step(leaf):
        x, w, c = leaf(a), leaf(w2, False), leaf(b2, False)

        def step():
            x.grad = None
            _chain(x, w, c).backward()
        return step

    def mlp_step(leaf):
        x, w = leaf(x64, False), leaf(w64)

        def step():
            w.grad = None
            _mlp(x, w).backward()
        return step

    cases = [
        ("a + b, 2x2 f32, requires_grad (forward + graph)", add_grad, "torch/rt >= 2"),
        ("a + b, 2x2 f32, no grad (reference)", add_nograd, ""),
        (f"chain of {CHAIN} tiny ops: backward only (retain_graph)", chain_backward,
         "torch/rt >= 2"),
        (f"chain of {CHAIN} tiny ops: forward only", chain_forward, ""),
        (f"chain of {CHAIN} tiny ops: forward + backward", chain_step, "torch/rt >= 2"),
        ("MLP step 64x64 f32: (x @ w).relu().sum() + backward", mlp_step, ""),
    ]
    rows = []
    for label, build, target in cases:
        res = H.bench(_makers(build), threads=(1, 2))
        res[("numpy", None)] = H.NA
        rows.append((label, res, target))
    H.timing_table("Autograd overhead", rows, unit="us",
                   notes=["numpy has no autograd (n/a). The chain alternates `y * w` and "
                          "`y + b` on 2x2 float32 (w, b constants), then `sum()`; `backward "
                          "only` re-runs backward over a retained graph (gradients "
                          "accumulate into x.grad, as in PyTorch)."])
    memory_table(a, w2, b2, x64, w64)


def memory_table(a, w2, b2, x64, w64):
    rows = []
    iters = 50 if H.QUICK else 1000
    if rt is None:
        rows.append(["-", f"error: {RT_AG_ERROR!r}", "", "", ""])
    else:
        def chain_case():
            x, w, c = _rt_leaf(a), _rt_leaf(w2, False), _rt_leaf(b2, False)

            def step():
                x.grad = None
                _chain(x, w, c).backward()
            return step, 4 * 4 * 3

        def mlp_case():
            x, w = _rt_leaf(x64, False), _rt_leaf(w64)

            def step():
                w.grad = None
                _mlp(x, w).backward()
            return step, 64 * 64 * 4 * 2

        for label, case in ((f"chain of {CHAIN} ops, 2x2 f32", chain_case),
                            ("MLP step 64x64 f32", mlp_case)):
            step, held = case()
            step()                                   # warm the pool's size classes
            before = memory.stats()["in_use_bytes"]
            memory.reset_peak_stats()
            for _ in range(iters):
                step()
            stats = memory.stats()
            rows.append([label, f"{held:,}", f"{stats['peak_bytes'] - before:,}",
                         f"{stats['in_use_bytes'] - before:,}",
                         f"{stats['hits'] / max(1, stats['hits'] + stats['misses']):.4f}"])
    H.table(f"Autograd memory over {iters:,} iterations (rt's pool, bytes)",
            ["case", "leaves' data", "peak above start", "in use growth", "pool hit rate"],
            rows, notes=["`peak above start`: the most the pool held at once beyond what "
                         "was in use before the loop (one step's temporaries, saved tensors "
                         "and gradients); `in use growth` 0 means every graph was freed. "
                         "PyTorch has no CPU allocator statistics to compare with."])


if __name__ == "__main__":
    H.main_guard(main)
