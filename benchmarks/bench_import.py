"""`import rt_tensor` wall time in a fresh interpreter (target < 0.15 s), with numpy's and
torch's for comparison (median of 7 fresh interpreters; 2 under --quick).

    python benchmarks/bench_import.py [--quick] [--json PATH]
"""
import statistics
import subprocess
import sys

import _harness as H

CODE = ("import time; t0 = time.perf_counter(); import {mod}; "
        "print(time.perf_counter() - t0)")


def import_time(mod, repeat=7):
    repeat = 2 if H.QUICK else repeat
    times = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CODE.format(mod=mod)], capture_output=True,
                             text=True)
        if out.returncode != 0:
            last = (out.stderr.strip().splitlines() or ["?"])[-1]
            return "error: " + last[:60]
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def process_time(code, repeat=5):
    import time
    repeat = 2 if H.QUICK else repeat
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    print(f"_{H.header()}_\n")
    rows = []
    measured = {}
    base = process_time("pass")
    for lib, mod, target in (("rt", "rt_tensor", "< 0.15 s"), ("numpy", "numpy", ""),
                             ("torch", "torch", "")):
        t = import_time(mod) if (mod != "torch" or H.torch is not None) else H.NA
        whole = process_time(f"import {mod}") - base if H.is_num(t) else H.NA
        measured[(lib, None)] = t
        rows.append([f"import {mod}", H.fmt_time(t, "ms"), H.fmt_time(whole, "ms"), target])
    heading = f"Import time (ms, fresh interpreter, median of {2 if H.QUICK else 7})"
    H.record("import statement, fresh interpreter", measured, table=heading,
             target="rt < 0.15 s")
    H.table(heading,
            ["module", "import statement", "whole process minus `python -c pass`", "target"],
            rows, notes=["`import rt_tensor` includes importing numpy (its one dependency)."])


if __name__ == "__main__":
    H.main_guard(main)
