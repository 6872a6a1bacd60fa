"""Why rt_tensor multiplies matrices the way it does: measured, not assumed.

Square float32 products (64, 256, 1024, 2048), 1 and 2 threads, three ways:
  rt        rt_tensor.matmul: scipy-openblas32 single-threaded, large products split into
            row/column blocks on rt's own thread pool (the design in _linalg.pyx)
  openblas  the same library called directly (ctypes) with OpenBLAS's own thread pool
  numpy     numpy.matmul (numpy's bundled OpenBLAS and its own pool)
first on an idle machine, then with another process spinning on one core ("busy"), where a
pool that waits for a descheduled thread stalls.

Each library runs in its own process (two pools in one process would disturb each other),
twice, alternating; inside it 1 and 2 threads alternate round by round (each library's own
set_num_threads), and every configuration keeps its best round, so load bursts on a shared
machine hit all configurations alike.

    python benchmarks/bench_blas_choice.py            # full table (a few minutes)
    python benchmarks/bench_blas_choice.py --quick    # 64 and 256 only, 2 rounds
    python benchmarks/bench_blas_choice.py --json PATH   # also the times as JSON records
"""
import argparse
import ctypes
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

import _common

SIZES = (64, 256, 1024, 2048)
ROUNDS = 7


def _numpy_blas():
    """numpy's bundled OpenBLAS and its set_num_threads (None if not found)."""
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "libscipy_openblas*.so")):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            if hasattr(lib, name):
                return getattr(lib, name)
    return None


def worker(kind, sizes, rounds):
    """One library in its own process: 1 and 2 threads interleaved round by round."""
    import rt_tensor as rtt
    import scipy_openblas32 as so
    rng = np.random.default_rng(0)
    a32 = {n: rng.random((n, n), dtype=np.float32) for n in sizes}
    b32 = {n: rng.random((n, n), dtype=np.float32) for n in sizes}
    c32 = {n: np.empty((n, n), np.float32) for n in sizes}
    if kind == "rt":
        ta = {n: rtt.from_numpy(a32[n]) for n in sizes}
        tb = {n: rtt.from_numpy(b32[n]) for n in sizes}
        set_threads = rtt.set_num_threads
        call = lambda n: (lambda: rtt.matmul(ta[n], tb[n]))
    elif kind == "numpy":
        set_threads = _numpy_blas()
        call = lambda n: (lambda: np.matmul(a32[n], b32[n], out=c32[n]))
    else:
        ob = ctypes.CDLL(os.path.join(so.get_lib_dir(), so.get_library(True)))
        set_threads = ob.scipy_openblas_set_num_threads
        sgemm = ob.scipy_cblas_sgemm

        def call(n):
            args = (101, 111, 111, n, n, n, ctypes.c_float(1.0), ctypes.c_void_p(a32[n].ctypes.data),
                    n, ctypes.c_void_p(b32[n].ctypes.data), n, ctypes.c_float(0.0),
                    ctypes.c_void_p(c32[n].ctypes.data), n)
            return lambda: sgemm(*args)
    best = {}
    for n in sizes:
        reps = min(5000, max(1, int(0.05 / (2.0 * n ** 3 / 80e9))))
        for _ in range(rounds):
            for nt in (1, 2):
                set_threads(nt)
                fn = call(n)
                fn()
                t = time.perf_counter()
                for _ in range(reps):
                    fn()
                dt = (time.perf_counter() - t) / reps
                key = f"{nt},{n}"
                best[key] = min(best.get(key, float("inf")), dt)
    print(json.dumps(best))


def parse_args(argv=None):
    parser = _common.OneLineErrorParser(prog="bench_blas_choice.py", description=__doc__,
                                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="64 and 256 only, 2 rounds")
    parser.add_argument("--json", metavar="PATH",
                        help="also write the best times as a JSON list of records (family, "
                             "case, size, threads, rt_s, numpy_s, openblas_s)")
    # internal: one library measured in a child process
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "SIZES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker and args.worker[0] not in ("rt", "openblas", "numpy"):
        parser.error(f"--worker: unknown library {args.worker[0]!r}")
    return args


def main():
    args = parse_args()
    rounds = 2 if args.quick else ROUNDS
    if args.worker:
        worker(args.worker[0], [int(x) for x in args.worker[1].split(",")], rounds)
        return
    sizes = (64, 256) if args.quick else SIZES
    kinds = ("rt", "openblas", "numpy")
    table = {}
    for busy in (False, True):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for _ in range(2):          # two passes over the libraries; best of both
                for kind in kinds:
                    out = subprocess.run([sys.executable, __file__, "--worker", kind,
                                          ",".join(map(str, sizes))]
                                         + (["--quick"] if args.quick else []),
                                         capture_output=True, text=True, check=True).stdout
                    for key, v in json.loads(out.strip().splitlines()[-1]).items():
                        nt, n = map(int, key.split(","))
                        k = (busy, nt, kind, n)
                        table[k] = min(table.get(k, float("inf")), v)
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
    print("```text")                 # run_all.py puts stdout into markdown: keep the columns
    print(f"float32 n x n @ n x n, best of {rounds} rounds x 2 passes "
          f"({os.cpu_count()} cpus); us per call and GFLOP/s")
    print(f"{'load':<6}{'thr':>4} {'impl':<9}" + "".join(f"{n:>22}" for n in sizes))
    for busy in (False, True):
        for nt in (1, 2):
            for kind in kinds:
                cells = []
                for n in sizes:
                    t = table[(busy, nt, kind, n)]
                    cells.append(f"{t * 1e6:>10.1f}us {2 * n ** 3 / t / 1e9:>6.1f}GF")
                print(f"{'busy' if busy else 'idle':<6}{nt:>4} {kind:<9}" + "".join(f"{c:>22}" for c in cells))
    print("```")
    if args.json:
        records = [{"family": "blas_choice", "case": f"matmul f32, {'busy' if busy else 'idle'}",
                    "size": n, "size_name": "n (n x n @ n x n, float32)", "threads": nt,
                    "rt_s": table[(busy, nt, "rt", n)], "torch_s": None,
                    "numpy_s": table[(busy, nt, "numpy", n)], "ort_s": None,
                    "openblas_s": table[(busy, nt, "openblas", n)]}
                   for busy in (False, True) for nt in (1, 2) for n in sizes]
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1)


if __name__ == "__main__":
    main()
