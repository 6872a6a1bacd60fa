"""DistributedDataParallel training steps on 2 processes (rt-distributed over MPI) against the
single-process step, and how much of the gradient all-reduce backward hides.

The script launches itself under ``mpiexec -n 2`` (``python -m rt_distributed.run``); each
process uses 1 rt thread (2 processes on the machine's cores). Models: the seed MLP
784-128-ReLU-10 (101,770 parameters, 0.4 MB of float32 gradients) and a deeper MLP
784-1024-1024-1024-10 (2.9 M parameters, 11.6 MB), batch 32 per process, MSE loss, SGD
(``zero_grad``, forward, backward, ``step``). Cases, per model:

- single process: the same step without DDP, run by both processes at once (no
  communication: the machine is loaded as in the DDP runs);
- DDP, buckets all-reduced during backward: DDP's default (buckets of 25 MB after a 1 MB
  first bucket; each complete bucket's non-blocking all-reduce starts while backward
  computes the earlier layers), and with smaller buckets;
- DDP, all-reduce after backward: the same buckets, reduced only once every gradient is
  ready (no overlap);
- the all-reduce alone: the gradients' bytes all-reduced with nothing else running.

Overhead = DDP step - single-process step. Hidden = (all-reduce after backward) - (during
backward): the communication time that overlapping saved, also as a share of the
all-reduce alone. Times are the median over repetitions of the slower rank's mean step.

    python benchmarks/bench_distributed_ddp.py [--quick] [--json PATH]
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import _common

SEED_MLP = (784, 128, 10)
DEEP_MLP = (784, 1024, 1024, 1024, 10)
BATCH = 32
LR = 0.01


def parse_args(argv=None):
    parser = _common.script_parser(__doc__, prog="bench_distributed_ddp.py")
    parser.add_argument("--timeout", type=_common.positive_int, default=None,
                        help="end the 2-process run after this many seconds (default 900, "
                             "--quick 180)")
    # internal: the 2-process run writes its measurements to this JSON file
    parser.add_argument("--worker", metavar="OUT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------- the MPI worker

def _worker(out_path, quick):
    import numpy as np
    import rt_autograd as rt
    import rt_nn as nn
    import rt_nn.functional as F
    import rt_optim as optim
    import rt_tensor

    import rt_distributed as dist
    from rt_distributed import DistributedDataParallel as DDP

    rt_tensor.set_num_threads(1)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    repeats, steps = (3, 5) if quick else (9, 20)

    def mlp(sizes):
        rt.manual_seed(0)
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    rng = np.random.default_rng(rank)

    def batch(sizes):
        return (rt.from_numpy(rng.standard_normal((BATCH, sizes[0])).astype(np.float32)),
                rt.from_numpy(rng.standard_normal((BATCH, sizes[-1])).astype(np.float32)))

    def slowest(seconds):
        t = rt.tensor([seconds], dtype=rt.float64)
        dist.all_reduce(t, dist.ReduceOp.MAX)
        return t.item()

    def timed(cases):
        """{name: median over repetitions of the slower rank's mean step time (s)} for
        {name: step function}; the cases take turns within each repetition, so that a
        change in the machine's load affects them alike."""
        for step in cases.values():
            for _ in range(3):
                step()
        times = {name: [] for name in cases}
        for _ in range(repeats):
            for name, step in cases.items():
                dist.barrier()
                t0 = time.perf_counter()
                for _ in range(steps):
                    step()
                times[name].append(slowest((time.perf_counter() - t0) / steps))
        return {name: statistics.median(ts) for name, ts in times.items()}

    def training_step(model, x, y):
        opt = optim.SGD(model.parameters(), lr=LR)

        def step():
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()
        return step

    def ddp_step(reducer, step, mode):
        def run():
            reducer.all_reduce_mode = mode
            step()
        return run

    results = []
    for name, sizes, bucket_caps in (("seed MLP 784-128-ReLU-10", SEED_MLP, (None, 0.005)),
                                     ("MLP 784-1024x3-10", DEEP_MLP, (None, 1))):
        if quick and sizes is DEEP_MLP:
            bucket_caps = (None,)
        x, y = batch(sizes)
        plain = mlp(sizes)
        nparams = sum(p.numel() for p in plain.parameters())
        flat = rt.zeros(nparams)
        cases = {"single": training_step(plain, x, y),
                 "allreduce_alone": lambda: dist.all_reduce(flat)}
        ddps = []
        for cap in bucket_caps:
            ddp = DDP(mlp(sizes), bucket_cap_mb=cap)
            step = training_step(ddp, x, y)
            for mode in ("overlap", "after"):
                cases[(cap, mode)] = ddp_step(ddp.reducer, step, mode)
            ddps.append((cap, ddp))
        t = timed(cases)
        row = {"model": name, "params": nparams, "grad_bytes": 4 * nparams,
               "single": t["single"], "allreduce_alone": t["allreduce_alone"], "ddp": []}
        for cap, ddp in ddps:
            row["ddp"].append({
                "buckets": "default buckets" if cap is None else f"bucket_cap_mb={cap:g}",
                "n_buckets": len(ddp.reducer.buckets),
                "bucket_mb": [round(b.flat.numel() * 4 / 2**20, 3)
                              for b in ddp.reducer.buckets],
                "during": t[(cap, "overlap")], "after": t[(cap, "after")]})
        del ddps
        results.append(row)
    if rank == 0:
        with open(out_path, "w") as f:
            json.dump({"world": world, "threads": 1, "quick": quick, "rows": results}, f)
    dist.barrier()
    dist.destroy_process_group()


# ----------------------------------------------------------------------- the report

def _report(data, args):
    import _harness as H
    H.FAMILY = "distributed_ddp"
    ms = lambda s: f"{s * 1e3:.3f}"                         # noqa: E731
    rows = []
    for r in data["rows"]:
        for d in r["ddp"]:
            hidden = d["after"] - d["during"]
            rows.append([r["model"], d["buckets"] + f" ({d['n_buckets']}: "
                         + ", ".join(f"{mb:g}" for mb in d["bucket_mb"]) + " MB)",
                         ms(r["single"]), ms(d["during"]), ms(d["after"]),
                         ms(d["during"] - r["single"]),
                         f"{(d['during'] / r['single'] - 1) * 100:+.0f}%",
                         ms(r["allreduce_alone"]), ms(hidden),
                         f"{hidden / r['allreduce_alone'] * 100:.0f}%"])
            for case, value in (("single process", r["single"]),
                                (f"DDP during backward, {d['buckets']}", d["during"]),
                                (f"DDP after backward, {d['buckets']}", d["after"]),
                                ("all_reduce of the gradients alone", r["allreduce_alone"])):
                H.RECORDS.append({"family": H.FAMILY, "table": "DDP step", "case":
                                  f"{r['model']}: {case}", "label": case, "size": r["params"],
                                  "size_name": "parameters", "threads": 1, "rt_s": value,
                                  "torch_s": None, "numpy_s": None, "ort_s": None,
                                  "target": "", "errors": {}})
    H.table(f"DDP training step, {data['world']} processes x 1 thread, batch {BATCH} per "
            f"process, SGD (ms per step)",
            ["model", "DDP buckets (count: sizes)", "single process",
             "DDP, all-reduce during backward", "DDP, all-reduce after backward", "overhead", "overhead %", "all-reduce alone",
             "hidden by overlap", "hidden / all-reduce"],
            rows,
            notes=["single process: the same step without DDP, both processes running it at "
                   "once. DDP during backward: DDP's default (each complete bucket's "
                   "non-blocking all-reduce starts during backward; MPI progresses it when "
                   "the later hooks test it, and the last bucket's is blocking). After "
                   "backward: every bucket all-reduced once all gradients are ready. "
                   "overhead: DDP during "
                   "backward - single process. hidden by overlap: (after) - (during), also "
                   "as a share of the all-reduce of all gradient bytes alone. Medians over "
                   "repetitions of the slower rank's mean step; the cases take turns.",
                   "`python benchmarks/bench_distributed_ddp.py`"
                   + (" --quick (numbers mean little)" if data["quick"] else "")])


def main():
    args = parse_args()
    if args.worker:
        _worker(args.worker, args.quick)
        return
    missing = [m for m in ("rt_distributed", "mpi4py") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"### DDP training step\n\nn/a: {', '.join(missing)} not installed "
              f"(pip install -e packages/rt-distributed)\n")
        return
    timeout = args.timeout or (180 if args.quick else 900)
    fd, out = tempfile.mkstemp(suffix=".json", prefix="bench_ddp_")
    os.close(fd)
    try:
        cmd = [sys.executable, "-m", "rt_distributed.run", "-n", "2", "--timeout",
               str(timeout), os.path.abspath(__file__), "--worker", out]
        if args.quick:
            cmd.append("--quick")
        env = dict(os.environ, OMP_NUM_THREADS="1")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              timeout=timeout + 60)
        if proc.returncode != 0:
            print(f"### DDP training step\n\nerror: the 2-process run failed (exit "
                  f"{proc.returncode}):\n\n```\n{proc.stderr[-3000:]}\n```\n")
            sys.exit(1)
        with open(out) as f:
            data = json.load(f)
    finally:
        os.unlink(out)
    _report(data, args)
    import _harness as H
    if args.json:
        with open(args.json, "w") as f:
            json.dump(H.RECORDS, f, indent=1)
    if args.plot:
        sys.exit(H._plot(args))


if __name__ == "__main__":
    main()
