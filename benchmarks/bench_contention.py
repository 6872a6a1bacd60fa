"""2 threads vs 1 thread while a second process spins on one core (target: rt with 2 threads
never slower than with 1, i.e. 1T/2T >= 1, including an elementwise op right after a matmul,
where PyTorch stalls about 8 ms per parallel region).

    python benchmarks/bench_contention.py [--quick] [--json PATH]
"""
import os
import subprocess
import sys
import time

import numpy as np

import _harness as H

SPIN = ("import os, sys\n"
        "cpus = sorted(os.sched_getaffinity(0))\n"
        "os.sched_setaffinity(0, {cpus[-1]})\n"
        "sys.stdout.write('spinning\\n'); sys.stdout.flush()\n"
        "while True: pass\n")


def start_spinner():
    p = subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    time.sleep(0.2)
    return p


def cases():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(10**6).astype(np.float32)
    y = rng.standard_normal(10**6).astype(np.float32)
    m = rng.standard_normal((256, 256)).astype(np.float32)

    def rt_make(kind):
        def make():
            rtt = H.rtt
            a, b, w = H.rt_tensor_from(x), H.rt_tensor_from(y), H.rt_tensor_from(m)
            if kind == "add":
                return lambda: rtt.add(a, b)
            if kind == "matmul":
                return lambda: rtt.matmul(w, w)
            return lambda: (rtt.matmul(w, w), rtt.add(a, b))
        return make

    def torch_make(kind):
        def make():
            torch = H.torch
            a, b, w = H.torch_from(x), H.torch_from(y), H.torch_from(m)
            if kind == "add":
                return lambda: torch.add(a, b)
            if kind == "matmul":
                return lambda: torch.matmul(w, w)
            return lambda: (torch.matmul(w, w), torch.add(a, b))
        return make

    return [("add 1e6 f32", "add"), ("matmul 256x256 f32", "matmul"),
            ("matmul 256 then add 1e6", "after")], rt_make, torch_make


def run(label_suffix):
    labels, rt_make, torch_make = cases()
    rows = []
    heading = (f"Threads under contention: {label_suffix} (µs per call; 1T/2T >= 1: 2 threads "
               f"not slower)")
    for label, kind in labels:
        res = H.bench({"rt": rt_make(kind), "torch": torch_make(kind)},
                      measure_kw={"batch_s": 0.05, "repeat": 7})
        H.record(f"{label}, {label_suffix}", res, table=heading, target="rt 1T/2T >= 1")
        r1, r2 = res[("rt", 1)], res[("rt", 2)]
        t1, t2 = res[("torch", 1)], res[("torch", 2)]
        rows.append([label, H.fmt_time(r1), H.fmt_time(r2), H.ratio(r1, r2),
                     H.fmt_time(t1), H.fmt_time(t2), H.ratio(t1, t2), "rt 1T/2T >= 1"])
    H.table(heading,
            ["case", "rt 1T", "rt 2T", "rt 1T/2T", "torch 1T", "torch 2T", "torch 1T/2T",
             "target"], rows)


def main():
    print(f"_{H.header()}_\n")
    if len(os.sched_getaffinity(0)) < 2:
        print("Only one core: nothing to contend for.\n")
        return
    run("idle machine (reference)")
    spinner = start_spinner()
    try:
        run("a second process spinning on one core")
    finally:
        spinner.kill()
        spinner.wait()


if __name__ == "__main__":
    H.main_guard(main)
