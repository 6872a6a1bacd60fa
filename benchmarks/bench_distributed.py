"""all_reduce (SUM) of 1 MB, 16 MB and 64 MB float32 between 2 local processes:
rt_distributed.all_reduce on an rt tensor against raw mpi4py ``comm.Allreduce(MPI.IN_PLACE,
array)`` on a numpy array of the same size (target: rt within 10%, raw/rt >= 0.9), and
against mpi4py on the rt tensor's own memory (the cost of rt_distributed alone).

    python benchmarks/bench_distributed.py [--quick] [--json PATH] [--plot PATH]

Started plainly it runs itself under ``python -m rt_distributed.run -n 2`` (mpiexec) and
rank 0 prints the table. The two are timed in alternating rounds (rt, raw, rt, raw, ...) so
that load from elsewhere on the machine hits both alike; each round is a batch of calls
between barriers, its time the slowest rank's; the figure is the median round per call.
It imports neither PyTorch nor benchmarks/_harness.py (which does).
"""
import os
import statistics
import subprocess
import sys
import time

import _common

SIZES_MB = (1, 16, 64)
QUICK_SIZES_MB = (1, 4)


def _under_mpi():
    return "OMPI_COMM_WORLD_SIZE" in os.environ or "PMIX_RANK" in os.environ


def _relaunch(argv):
    cmd = [sys.executable, "-m", "rt_distributed.run", "-n", "2", "--timeout", "900",
           os.path.abspath(__file__), *argv]
    return subprocess.call(cmd)


def _rounds(comm, fns, number, rounds):
    """{name: [seconds per call of each round]}, the rounds of the fns interleaved; a
    round's time is the slowest rank's."""
    from mpi4py import MPI
    out = {name: [] for name in fns}
    for name, fn in fns.items():          # warm-up
        for _ in range(2):
            fn()
    items = list(fns.items())
    for r in range(rounds):
        # each case leads in turn: the first collective after a barrier can pay for the
        # ranks' skew, and a fixed order would give that cost to one column
        for name, fn in items[r % len(items):] + items[:r % len(items)]:
            comm.Barrier()
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            dt = (time.perf_counter() - t0) / number
            out[name].append(comm.allreduce(dt, op=MPI.MAX))
    return out


def _table(rows, notes):
    headers = ["case", "rt_distributed (ms)", "mpi4py, numpy array (ms)", "mpi4py/rt",
               "mpi4py, the rt tensor's memory (ms)", "same memory: mpi4py/rt",
               "target"]
    # cells: median of the rounds, then the best round in parentheses
    lines = ["### all_reduce between 2 processes (ms per call, median (best); "
             "mpi4py/rt > 1: rt faster)", "",
             "| " + " | ".join(headers) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(row) + " |")
    lines += [""] + list(notes) + [""]
    print("\n".join(lines), flush=True)


def bench(quick):
    import numpy as np
    from mpi4py import MPI

    import rt_autograd as rt
    import rt_distributed as dist

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    rank = dist.get_rank()
    rows, records = [], []
    for mb in (QUICK_SIZES_MB if quick else SIZES_MB):
        n = mb * (1 << 20) // 4
        t = rt.zeros(n)                       # zeros: sums stay 0, no inf/denormal effects
        a = np.zeros(n, np.float32)
        # about 50 ms of calls per round (less under --quick)
        probe = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, a)
        once = comm.allreduce(time.perf_counter() - probe, op=MPI.MAX)
        number = max(1, int((0.005 if quick else 0.05) / max(once, 1e-6)))
        view = t.numpy()
        res = _rounds(comm, {"rt": lambda: dist.all_reduce(t),
                             "raw": lambda: comm.Allreduce(MPI.IN_PLACE, a),
                             "same": lambda: comm.Allreduce(MPI.IN_PLACE, view)},
                      number, 3 if quick else 15)
        rt_s, raw_s, same_s = (statistics.median(res[k]) for k in ("rt", "raw", "same"))
        rt_b, raw_b, same_b = (min(res[k]) for k in ("rt", "raw", "same"))
        rows.append([f"all_reduce {mb} MB float32", f"{rt_s * 1e3:.3f} ({rt_b * 1e3:.3f})",
                     f"{raw_s * 1e3:.3f} ({raw_b * 1e3:.3f})",
                     f"{raw_s / rt_s:.2f}x ({raw_b / rt_b:.2f}x)",
                     f"{same_s * 1e3:.3f} ({same_b * 1e3:.3f})",
                     f"{same_s / rt_s:.2f}x ({same_b / rt_b:.2f}x)", "mpi4py/rt >= 0.9"])
        records.append({"family": "distributed", "table": "all_reduce between 2 processes",
                        "case": "all_reduce float32", "label": f"all_reduce {mb} MB float32",
                        "size": mb, "size_name": "MB (float32)", "threads": None,
                        "rt_s": rt_s, "rt_best_s": rt_b, "torch_s": None, "numpy_s": None,
                        "ort_s": None,
                        "mpi4py_s": raw_s, "mpi4py_best_s": raw_b,
                        "mpi4py_same_memory_s": same_s, "mpi4py_same_memory_best_s": same_b,
                        "target": "mpi4py/rt >= 0.9", "errors": {}})
    if rank == 0:
        import platform

        import mpi4py
        print(f"_python {platform.python_version()}, numpy {np.__version__}, mpi4py "
              f"{mpi4py.__version__}, {MPI.Get_library_version().replace(chr(0), '').splitlines()[0].strip()}, "
              f"{os.cpu_count()} cores, 2 processes on one machine, load average "
              f"{os.getloadavg()[0]:.1f} at the end_\n")
        _table(rows, ["Each cell: the median of the rounds, the best round in parentheses "
                      "(on a machine busy with other work the best round is the closer "
                      "estimate of the cost itself).", "",
                      "Every column reduces the same number of float32 zeros in place with "
                      "MPI_SUM. rt_distributed hands mpi4py the zero-copy numpy view of the "
                      "rt tensor, so against mpi4py on that same memory the difference is "
                      "its Python-side checks (a few µs). Against a numpy array the memory "
                      "may differ too: numpy and rt-tensor's memory pool both ask for "
                      "transparent huge pages (madvise(MADV_HUGEPAGE)) for blocks of 4 MiB "
                      "and more, which make large shared-memory copies about twice as fast "
                      "(before the pool did, 16 MB took 11.5 ms on its 4 KiB pages against "
                      "6.1 ms on numpy's huge pages)."])
    dist.destroy_process_group()
    return records


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = _common.script_parser(__doc__, prog="bench_distributed.py").parse_args(argv)
    if not _under_mpi():
        return _relaunch(argv)
    records = bench(args.quick)
    from mpi4py import MPI
    if MPI.COMM_WORLD.Get_rank() == 0:
        if args.json:
            import json
            with open(args.json, "w") as f:
                json.dump(records, f, indent=1)
        if args.plot:
            print("plot skipped: bench_distributed.py compares rt with mpi4py, not PyTorch "
                  "across sizes: no figure", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
