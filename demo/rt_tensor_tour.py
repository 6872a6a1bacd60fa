"""A tour of rt-tensor (what `make demo` runs until training demos replace it).

Shows creation, views that share memory (with their strides), broadcasting, a reduction,
matmul, numpy zero-copy, the memory pool's statistics, and a table of rt vs numpy timings
(with PyTorch's where it is installed). Each step is independent: one that fails prints
why and the tour goes on.
"""
import statistics
import sys
import textwrap
import time

import numpy as np

import rt_tensor as rtt

try:
    import torch
except Exception:
    torch = None

FAILED = []


def step(title):
    def deco(fn):
        print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))
        try:
            fn()
        except Exception as exc:
            FAILED.append(title)
            print(f"  (not available: {type(exc).__name__}: {exc})")
        return fn
    return deco


def show(label, value):
    text = repr(value)
    if "\n" in text:
        print(f"  {label} =")
        print(textwrap.indent(text, "      "))
    else:
        print(f"  {label} = {text}")


def layout(name, t):
    print(f"  {name:<24} shape={tuple(t.shape)!s:<10} stride={t.stride()!s:<9} "
          f"offset={t.storage_offset():<3} contiguous={t.is_contiguous()!s:<5} "
          f"data_ptr={t.data_ptr():#x}")


print(f"rt_tensor {rtt.__version__}  (numpy {np.__version__}, "
      f"torch {torch.__version__ if torch is not None else 'not installed'}, "
      f"{rtt.get_num_threads()} threads)")


@step("Creation and dtypes (PyTorch's inference and promotion)")
def _():
    show("rtt.tensor([[1, 2], [3, 4]])", rtt.tensor([[1, 2], [3, 4]]))
    show("rtt.tensor([1.5, 2]).dtype", rtt.tensor([1.5, 2]).dtype)
    show("rtt.tensor([True, False]).dtype", rtt.tensor([True, False]).dtype)
    show("rtt.promote_types(rtt.uint8, rtt.int8)", rtt.promote_types(rtt.uint8, rtt.int8))
    show("rtt.zeros(2, 3, dtype=rtt.float16)", rtt.zeros(2, 3, dtype=rtt.float16))
    show("rtt.arange(6).reshape(2, 3)", rtt.arange(6).reshape(2, 3))


@step("Views share memory: only shape, strides and offset change")
def _():
    t = rtt.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    layout("t", t)
    layout("t.t()", t.t())
    layout("t[1:, ::2]", t[1:, ::2])
    layout("t[:, 1]", t[:, 1])
    layout("t.view(2, 6)", t.view(2, 6))
    layout("t[None].expand(2, 3, 4)", t[None].expand(2, 3, 4))
    v = t.t()
    v[0, 2] = -1.0
    print("  after t.t()[0, 2] = -1:  t[2, 0] =", t[2, 0].item(), "(same storage)")
    c = v.contiguous()
    layout("t.t().contiguous()", c)


@step("Broadcasting (by stride 0, never by copying)")
def _():
    col = rtt.tensor([[0.0], [10.0], [20.0]])
    row = rtt.tensor([1.0, 2.0, 3.0, 4.0])
    show("col (3x1) + row (4,)", col + row)
    try:
        rtt.tensor([1.0, 2.0, 3.0]) + rtt.tensor([1.0, 2.0])
    except RuntimeError as exc:
        print(f"  (3,) + (2,) -> RuntimeError: {exc}")


@step("Reductions")
def _():
    t = rtt.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    show("t.sum()", t.sum())
    show("t.sum(dim=0)", t.sum(dim=0))
    show("t.mean(dim=1, keepdim=True)", t.mean(dim=1, keepdim=True))
    show("rtt.tensor([1, 2, 3], dtype=rtt.int8).sum().dtype",
         rtt.tensor([1, 2, 3], dtype=rtt.int8).sum().dtype)


@step("Matmul (BLAS from Cython)")
def _():
    a = rtt.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = rtt.tensor([[0.0, 1.0], [1.0, 0.0]])
    show("a @ b", a @ b)
    x = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((32, 16)).astype(np.float32)
    err = np.abs(rtt.matmul(rtt.from_numpy(x), rtt.from_numpy(y)).numpy() - x @ y).max()
    print(f"  64x32 @ 32x16 vs numpy: max abs difference {err:.2e}")


@step("numpy interop: zero-copy both ways")
def _():
    a = np.ones((2, 3), dtype=np.float64)
    t = rtt.from_numpy(a)
    a[0, 0] = 42.0
    print("  t = rtt.from_numpy(a); a[0, 0] = 42  ->  t[0, 0] =", t[0, 0].item())
    back = t.numpy()
    print("  np.shares_memory(t.numpy(), a) =", np.shares_memory(back, a))
    print("  t.data_ptr() == a.ctypes.data  =", t.data_ptr() == a.ctypes.data)


@step("Memory pool: freed blocks are cached and reused")
def _():
    rtt.memory.empty_cache()
    before = rtt.memory.stats()
    x = rtt.from_numpy(np.ones((256, 256), dtype=np.float32))
    for _ in range(1000):
        y = x.clone()          # allocate
        del y                  # free: back to the pool's cache
    after = rtt.memory.stats()
    hits = after["hits"] - before["hits"]
    misses = after["misses"] - before["misses"]
    print(f"  1000 x clone() of a 256 KiB tensor: {hits} hits, {misses} misses "
          f"(hit rate {hits / max(1, hits + misses):.1%})")
    for k, v in after.items():
        print(f"    {k:<14} {v:,}")


def measure(fn, batch_s=0.02, repeat=5):
    fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= batch_s or number >= 1 << 20:
            break
        number *= 4
    times = [dt / number]
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


@step("Timings: rt vs numpy" + (" vs PyTorch" if torch is not None else "") + " (µs per call)")
def _():
    rng = np.random.default_rng(0)
    small = [rng.standard_normal((2, 2)).astype(np.float32) for _ in range(2)]
    big = [rng.standard_normal(10**6).astype(np.float32) for _ in range(2)]
    mat = [rng.standard_normal((256, 256)).astype(np.float32) for _ in range(2)]
    cases = [
        ("add 2x2 f32", small, lambda a, b: (lambda: a + b)),
        ("add 1e6 f32", big, lambda a, b: (lambda: a + b)),
        ("mul 1e6 f32", big, lambda a, b: (lambda: a * b)),
        ("exp 1e6 f32", big, None),
        ("sum 1e6 f32", big, lambda a, b: (lambda: a.sum())),
        ("matmul 256 f32", mat, lambda a, b: (lambda: a @ b)),
    ]
    libs = [("rt", rtt.from_numpy), ("numpy", lambda a: a)]
    if torch is not None:
        libs.append(("torch", lambda a: torch.from_numpy(a.copy())))
    exp = {"rt": lambda a, b: (lambda: rtt.exp(a)), "numpy": lambda a, b: (lambda: np.exp(a)),
           "torch": lambda a, b: (lambda: torch.exp(a))}
    names = [n for n, _ in libs]
    print("  " + f"{'case':<16}" + "".join(f"{n:>12}" for n in names) + f"{'numpy/rt':>10}"
          + (f"{'torch/rt':>10}" if torch is not None else ""))
    for label, arrays, make in cases:
        times = {}
        for name, conv in libs:
            try:
                a, b = (conv(x) for x in arrays)
                fn = (make or exp[name])(a, b)
                times[name] = measure(fn)
            except Exception as exc:
                times[name] = f"{type(exc).__name__}"
        cells = "".join(f"{t * 1e6:>12.2f}" if isinstance(t, float) else f"{t[:11]:>12}"
                        for t in times.values())

        def ratio(other):
            r, o = times.get("rt"), times.get(other)
            return f"{o / r:>9.2f}x" if isinstance(r, float) and isinstance(o, float) else f"{'n/a':>10}"
        print(f"  {label:<16}{cells}{ratio('numpy')}" + (ratio("torch") if torch is not None else ""))
    print("  (x/rt > 1: rt is faster; all libraries at their default thread counts)")


print()
if FAILED:
    print(f"Tour finished; {len(FAILED)} step(s) could not run yet: {', '.join(FAILED)}")
else:
    print("Tour finished.")
sys.exit(0)
