"""Timing harness shared by the benchmark scripts: rt, PyTorch and numpy side by side in
ONE process, with 1 and 2 threads (``rt_tensor.set_num_threads`` / ``torch.set_num_threads``).

- ``measure(fn)``: warm-up calls, then calls in batches sized to ~20 ms; the median of the
  batches' per-call times (seconds).
- ``bench({"rt": make_rt, "torch": make_torch, "numpy": make_np})``: each ``make_*`` builds
  its inputs once and returns the zero-argument callable to time. A library that is not
  importable gives "n/a"; an op that is missing or raises gives "error: ..." in its cell,
  never a crashed run.
- ``timing_table(...)`` prints a markdown table (stdout is what ``run_all.py`` puts into
  docs/performance.md) with "torch/rt" ratios: PyTorch's time over rt's, so > 1 means rt is
  faster.

numpy's thread count cannot be changed at run time without threadpoolctl: its column is
numpy's default (its BLAS uses every core for matmul; its elementwise ops are single-threaded).
"""
import os
import platform
import statistics
import sys
import time

import numpy as np

try:
    import rt_tensor as rtt
except Exception as exc:   # the harness must still print something useful
    rtt = None
    RT_ERROR = exc
try:
    import torch
except Exception:
    torch = None

LIBS = {"rt": rtt, "torch": torch, "numpy": np}
THREADS = (1, 2)
NA = "n/a"


def _default_threads():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def set_threads(n):
    """Sets rt's and torch's thread count (n=None: back to the machine's cores)."""
    n = n or _default_threads()
    if rtt is not None and hasattr(rtt, "set_num_threads"):
        rtt.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


def measure(fn, warmup=3, repeat=7, batch_s=0.02, max_number=1_000_000):
    """Median seconds per call of fn()."""
    for _ in range(warmup):
        fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= batch_s or number >= max_number:
            break
        number = min(max_number, max(number * 2, int(number * batch_s / max(dt, 1e-9) * 1.2)))
    times = [dt / number]
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def _err(exc):
    msg = f"{type(exc).__name__}: {exc}".replace("|", "/").replace("\n", " ")
    return "error: " + (msg[:60] + "..." if len(msg) > 60 else msg)


def bench(makers, threads=THREADS, measure_kw=None):
    """{(lib, nthreads): seconds | "n/a" | "error: ..."}; numpy is timed once (nthreads None)."""
    measure_kw = measure_kw or {}
    results = {}
    for lib, make in makers.items():
        counts = (None,) if lib == "numpy" else threads
        if make is None or LIBS.get(lib) is None:
            for n in counts:
                results[(lib, n)] = NA
            continue
        try:
            fn = make()
        except Exception as exc:
            for n in counts:
                results[(lib, n)] = _err(exc)
            continue
        for n in counts:
            try:
                set_threads(n)
                results[(lib, n)] = measure(fn, **measure_kw)
            except Exception as exc:
                results[(lib, n)] = _err(exc)
    set_threads(None)
    return results


def is_num(x):
    return isinstance(x, float)


def fmt_time(s, unit="us"):
    if not is_num(s):
        return s
    if unit == "us":
        v = s * 1e6
        return f"{v:.3g}" if v < 100 else f"{v:,.0f}"
    if unit == "ms":
        v = s * 1e3
        return f"{v:.3g}" if v < 100 else f"{v:,.0f}"
    return f"{s:.3g}"


def ratio(num, den):
    """num/den formatted, or n/a."""
    if is_num(num) and is_num(den) and den > 0:
        return f"{num / den:.2f}x"
    return NA


def table(title, headers, rows, notes=()):
    """Prints a markdown table (with a heading and notes) and returns its text."""
    lines = [f"### {title}", ""]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|")
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    lines.append("")
    for note in notes:
        lines.append(note)
    if notes:
        lines.append("")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


TIMING_HEADERS = ["case", "rt 1T", "rt 2T", "torch 1T", "torch 2T", "numpy",
                  "torch/rt 1T", "torch/rt 2T", "target"]


def timing_row(label, res, target="", unit="us"):
    return [label,
            fmt_time(res.get(("rt", 1), NA), unit), fmt_time(res.get(("rt", 2), NA), unit),
            fmt_time(res.get(("torch", 1), NA), unit), fmt_time(res.get(("torch", 2), NA), unit),
            fmt_time(res.get(("numpy", None), NA), unit),
            ratio(res.get(("torch", 1)), res.get(("rt", 1))),
            ratio(res.get(("torch", 2)), res.get(("rt", 2))),
            target]


def timing_table(title, rows, unit="us", notes=()):
    """rows: [(label, results from bench(), target text)]."""
    unit_name = {"us": "µs", "ms": "ms", "s": "s"}[unit]
    return table(f"{title} ({unit_name} per call; torch/rt > 1: rt faster)", TIMING_HEADERS,
                 [timing_row(label, res, target, unit) for label, res, target in rows], notes)


def header():
    """One line naming the versions, printed by every script."""
    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    parts.append(f"rt_tensor {getattr(rtt, '__version__', '?')}" if rtt is not None
                 else f"rt_tensor NOT IMPORTABLE ({RT_ERROR!r})")
    parts.append(f"torch {torch.__version__}" if torch is not None else "torch n/a")
    parts.append(f"{_default_threads()} cores")
    return ", ".join(parts)


def rt_tensor_from(a):
    """An rt tensor holding numpy array a (from_numpy, zero-copy)."""
    return rtt.from_numpy(np.ascontiguousarray(a))


def torch_from(a):
    return torch.from_numpy(np.ascontiguousarray(a).copy())


def main_guard(fn):
    """Run fn(); print a traceback as a note instead of dying with no output."""
    try:
        fn()
    except Exception:
        import traceback
        print("```\n" + traceback.format_exc() + "```")
        sys.exit(1)
