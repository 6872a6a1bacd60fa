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

Every script runs through ``main_guard(main)``, which parses the options all bench scripts
share (``_common.script_parser``: ``--quick``, ``--json PATH``, ``--plot PATH``; a bad one is a
one-line usage error, exit status 2). Each ``timing_table`` row, and each ``record(...)``,
becomes machine-readable records (``RECORDS``): one per thread count,

    {"family": "matmul", "table": "...", "case": "matmul f32", "label": "matmul 64x64 f32",
     "size": 64, "size_name": "n (n x n)", "threads": 1, "rt_s": 4.9e-06, "torch_s": 5.1e-06,
     "numpy_s": 5.7e-06, "ort_s": null, "target": "torch/rt >= 1", "errors": {}}

(seconds; null for n/a or an error, whose text is in "errors"; numpy_s is numpy's one
timing at its default thread count, repeated in each record). A row that belongs to a size
sweep carries ``point(case, size)`` as its fourth element, which is what the figures plot:

    H.timing_table("Matmul", [(f"matmul {n}x{n} f32", res, "", H.point("matmul f32", n))],
                   size_name="n (n x n)")
"""
import collections
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

import _common

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

# Set by main_guard from the command line.
QUICK = False                 # --quick: few repetitions (measure) and small sizes (sizes)
FAMILY = None                 # "matmul" for bench_matmul.py
RECORDS = []                  # what --json writes and --plot draws
Point = collections.namedtuple("Point", "case size")


def point(case, size):
    """Marks a timing_table row as the measurement of ``case`` at ``size`` (a number), one
    point of the size sweep that the family's figure draws."""
    return Point(case, size)


def sizes(full, quick):
    """The sizes a sweep runs: ``quick`` under --quick, else ``full``."""
    return tuple(quick if QUICK else full)


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
    """Median seconds per call of fn() (under --quick: 1 warm-up call, 3 batches of ~2 ms,
    whatever the arguments say)."""
    if QUICK:
        warmup, repeat, batch_s = 1, 3, 0.002
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


def timing_table(title, rows, unit="us", notes=(), size_name=None, record_as=None):
    """Prints the markdown table of rows [(label, results from bench(), target text)] or
    [(label, results, target, point(case, size))] and records every row (see the module
    docstring). ``size_name`` names the sweep's size in the figure ("n (n x n)");
    ``record_as`` renames libraries in the records only ({"torch": "ort"} where the
    "torch" columns hold onnxruntime)."""
    unit_name = {"us": "µs", "ms": "ms", "s": "s"}[unit]
    heading = f"{title} ({unit_name} per call; torch/rt > 1: rt faster)"
    for row in rows:
        label, res, target = row[:3]
        at = row[3] if len(row) > 3 else None
        record(at.case if at else label, res, size=at.size if at else None,
               size_name=size_name, table=heading, label=label, target=target,
               record_as=record_as)
    return table(heading, TIMING_HEADERS,
                 [timing_row(row[0], row[1], row[2], unit) for row in rows], notes)


def _seconds(value):
    return float(value) if is_num(value) else None


def record(case, res, size=None, size_name=None, table=None, label=None, target="",
           record_as=None):
    """Appends the records of one measured case to RECORDS: one per thread count found in
    ``res`` (bench()'s {(lib, threads): seconds | "n/a" | "error: ..."}), or one with
    threads null when ``res`` has no per-thread entry. Returns the new records."""
    rename = record_as or {}
    threads = sorted({n for (_, n) in res if n is not None}) or [None]
    new = []
    for n in threads:
        rec = {"family": FAMILY, "table": table, "case": case, "label": label or case,
               "size": size, "size_name": size_name, "threads": n, "rt_s": None,
               "torch_s": None, "numpy_s": None, "ort_s": None, "target": target,
               "errors": {}}
        for (lib, m), value in res.items():
            if m not in (n, None):
                continue
            key = rename.get(lib, lib)
            rec[f"{key}_s"] = _seconds(value)
            if isinstance(value, str) and value.startswith("error"):
                rec["errors"][key] = value
        new.append(rec)
    RECORDS.extend(new)
    return new


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


def main_guard(fn, argv=None):
    """Parses the script's options (a bad one: one-line usage error, exit status 2), runs
    fn(), then writes --json and draws --plot. An exception in fn() prints its traceback as
    a note instead of dying with no output (and what was measured before it is still
    written); exit status 1.

        if __name__ == "__main__":
            H.main_guard(main)        # python benchmarks/bench_x.py [--quick] [--json P] [--plot P]
    """
    global QUICK, FAMILY
    main_module = sys.modules["__main__"]
    script = os.path.basename(getattr(main_module, "__file__", None) or sys.argv[0])
    args = _common.script_parser(getattr(main_module, "__doc__", None), prog=script) \
        .parse_args(sys.argv[1:] if argv is None else argv)
    QUICK = args.quick
    FAMILY = os.path.splitext(script)[0].removeprefix("bench_")
    status = 0
    try:
        fn()
    except Exception:
        import traceback
        print("```\n" + traceback.format_exc() + "```")
        status = 1
    finally:
        if args.json:
            with open(args.json, "w") as f:
                json.dump(RECORDS, f, indent=1)
    if args.plot:
        status = max(status, _plot(args))
    if status:
        sys.exit(status)


def _plot(args):
    """Draws the family's figure for --plot; a message (and status 1) when it cannot."""
    import _plots
    command = _common.figure_command(FAMILY, args.plot, quick=args.quick)
    try:
        drawn = _plots.plot_family(RECORDS, FAMILY, args.plot, command,
                                   title=_common.FAMILIES.get(FAMILY, FAMILY))
    except _plots.PlotUnavailable as exc:
        print(f"plot skipped: {exc}", file=sys.stderr)
        return 1
    if drawn is None:
        print(f"plot skipped: bench_{FAMILY}.py measures no case at two sizes or more",
              file=sys.stderr)
        return 1
    print(f"wrote {args.plot}", file=sys.stderr)
    return 0
