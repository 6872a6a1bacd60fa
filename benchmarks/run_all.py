"""Runs every benchmarks/bench_*.py in its own subprocess and writes docs/performance.md, the
figures of rt's speed relative to PyTorch across sizes (docs/img/perf-<family>.png, one per
family that sweeps a size) and every measurement as JSON (docs/performance.json).

    make bench                               (tox env `bench`: torch==2.13.0, onnxruntime,
                                              safetensors, matplotlib + the rt wheels)
    python benchmarks/run_all.py [--only matmul,optim] [--out docs/performance.md]
    python benchmarks/run_all.py --quick --out /tmp/perf-quick.md    (smoke check, seconds)

A script that fails leaves its traceback in its section; the others still run. Without
matplotlib the tables are still written and each section says its plot was skipped.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import _common  # noqa: E402  (next to this file, not installed)
import _plots  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "performance.md"
QUICK_OUT = Path(tempfile.gettempdir()) / "rt-bench-quick" / "performance.md"


def families():
    """Every family with a bench_<family>.py here: the report's order (_common.FAMILIES),
    then any other script by name."""
    present = {p.stem[len("bench_"):] for p in HERE.glob("bench_*.py")}
    return [n for n in _common.FAMILIES if n in present] + \
        sorted(present - set(_common.FAMILIES))


def parse_args(argv=None):
    """The options; a bad one is a one-line usage error on stderr and exit status 2."""
    known = families()
    parser = _common.OneLineErrorParser(prog="run_all.py", description=__doc__,
                                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", metavar="FAMILIES",
                        help="comma-separated subset of: " + ",".join(known))
    parser.add_argument("--out", metavar="PATH",
                        help=f"the markdown report (default {DEFAULT_OUT.relative_to(ROOT)}; "
                             f"with --quick {QUICK_OUT}); figures go to img/ next to it, the "
                             "JSON to the same name with .json")
    parser.add_argument("--timeout", type=_common.positive_int, default=900, metavar="SECONDS",
                        help="seconds per script (default 900)")
    parser.add_argument("--quick", action="store_true",
                        help="few repetitions and small sizes: checks the whole pipeline in a "
                             "minute or two; the numbers mean little")
    args = parser.parse_args(argv)
    if args.only is None:
        args.names = known
    else:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in known]
        if not wanted:
            parser.error(f"--only: no family named (choose from {','.join(known)})")
        if unknown:
            parser.error(f"--only: unknown {'family' if len(unknown) == 1 else 'families'} "
                         f"{','.join(unknown)} (choose from {','.join(known)})")
        args.names = [n for n in known if n in wanted]
    args.out = Path(args.out) if args.out else (QUICK_OUT if args.quick else DEFAULT_OUT)
    if args.quick and args.out.resolve() == DEFAULT_OUT.resolve():
        parser.error(f"--quick numbers do not belong in {DEFAULT_OUT.relative_to(ROOT)}: "
                     "give another --out")
    return args


def machine_info():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    info = [f"- CPU: {cpu}, {len(os.sched_getaffinity(0))} cores available; load average at "
            f"the start {load} (other work on the machine distorts the 2-thread columns)",
            f"- OS: {platform.platform()}",
            f"- Python {platform.python_version()} ({sys.executable})"]
    out = subprocess.run([sys.executable, "-c",
                          "import numpy, importlib.metadata as m\n"
                          "v = lambda n: (m.version(n) if n in {d.metadata['Name'] for d in m.distributions()} else 'n/a')\n"
                          "print(f'- numpy {numpy.__version__}, rt-tensor {v(\"rt-tensor\")}, "
                          "torch {v(\"torch\")}, onnxruntime {v(\"onnxruntime\")}, "
                          "safetensors {v(\"safetensors\")}, matplotlib {v(\"matplotlib\")}, "
                          "scipy-openblas32 {v(\"scipy-openblas32\")}')"],
                         capture_output=True, text=True)
    info.append(out.stdout.strip() or f"- versions: {out.stderr.strip()[-200:]}")
    return "\n".join(info)


def run_family(name, timeout, quick, json_path):
    """Runs bench_<name>.py; returns (markdown text, exit status, its JSON records)."""
    script = HERE / f"bench_{name}.py"
    cmd = [sys.executable, str(script), "--json", str(json_path)] + (["--quick"] if quick else [])
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        text, rc = out.stdout, out.returncode
        if rc != 0:
            text += "\n```\n" + out.stderr[-3000:] + "\n```\n"
    except subprocess.TimeoutExpired:
        text, rc = f"(timed out after {timeout} s)\n", -1
    try:
        records = json.loads(Path(json_path).read_text())
    except (OSError, ValueError):
        records = []
    return text, rc, records


def _shown_path(path):
    """path relative to the repository when inside it (as a command run from there sees it)."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def figure_markdown(records, family, out_dir, quick=False, python="python"):
    """Draws the family's figure into out_dir/img/perf-<family>.png and returns
    (heading of the table it belongs after, markdown embedding it with the command that
    redraws it), or (None, a line saying the plot was skipped) without matplotlib, or
    (None, "") for a family that sweeps no size."""
    png = Path(out_dir) / "img" / f"perf-{family}.png"
    command = _common.figure_command(family, _shown_path(png), quick=quick, python=python)
    title = _common.FAMILIES.get(family, family)
    try:
        drawn = _plots.plot_family(records, family, png, command, title=title)
    except _plots.PlotUnavailable as exc:
        return None, (f"_Plot of rt's speed relative to PyTorch across sizes skipped: {exc}; "
                      f"install matplotlib and run `{command}`._")
    if drawn is None:
        return None, ""
    baselines = {info["baseline"] for info in drawn.values()}
    versus = " and ".join(_plots.BASELINES[b] for b in sorted(baselines, reverse=True))
    tables = [r.get("table") for r in records if r.get("case") in drawn and r.get("table")]
    block = (f"![{title}: rt's speed relative to {versus} across sizes]"
             f"(img/{png.name})\n\n"
             f"_Figure: {versus} time / rt time (above 1: rt is faster) against "
             f"{', '.join(sorted({info['size_name'] for info in drawn.values()}))}, "
             f"one line per thread count. Reproduce: `{command}`"
             + (f" (in the environment `make bench` builds; `make bench` redraws every "
                f"figure)" if python == _common.BENCH_PYTHON else "") + "._")
    return (tables[-1] if tables else None), block


def insert_after_table(text, heading, block):
    """text with block inserted after the table headed "### <heading>" (before the next
    "### " heading), or at the end when heading is None or not found."""
    if not block:
        return text
    lines = text.rstrip("\n").split("\n")
    try:
        start = lines.index(f"### {heading}") if heading else len(lines)
    except ValueError:
        start = len(lines)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("### ")),
               len(lines))
    head, rest = lines[:end], lines[end:]
    while len(head) > start + 1 and not head[-1].strip():
        head.pop()
    while rest and not rest[0].strip():
        rest.pop(0)
    return "\n".join(head + ["", block] + ([""] + rest if rest else [])) + "\n"


def main(argv=None):
    args = parse_args(argv)
    out_path = args.out
    out_path.parent.mkdir(parents=True, exist_ok=True)
    in_tox = os.environ.get("TOX_ENV_NAME") == "bench"
    python = _common.BENCH_PYTHON if in_tox else "python"
    started = datetime.datetime.now(datetime.timezone.utc)
    sections, failed, all_records = [], [], []
    with tempfile.TemporaryDirectory(prefix="rt-bench-") as tmp:
        for name in args.names:
            print(f"== bench_{name}.py", flush=True)
            t0 = time.perf_counter()
            text, rc, records = run_family(name, args.timeout, args.quick,
                                           Path(tmp) / f"{name}.json")
            print(text, flush=True)
            if rc != 0:
                failed.append(name)
            all_records.extend(records)
            heading, figure = figure_markdown(records, name, out_path.parent, args.quick,
                                              python)
            body = insert_after_table(text.strip(), heading, figure)
            sections.append(f"## {_common.FAMILIES.get(name, name)} "
                            f"(`benchmarks/bench_{name}.py`, {time.perf_counter() - t0:.0f} s)"
                            f"\n\n{body.strip()}\n")
    cmd = "make bench" if in_tox else \
        "python " + " ".join([os.path.relpath(__file__, ROOT)] + sys.argv[1:])
    json_path = out_path.with_suffix(".json")
    doc = [
        "# Performance",
        "",
        *(["**QUICK RUN (`--quick`): few repetitions and small sizes; the numbers only show "
           "that every benchmark runs.**", ""] if args.quick else []),
        "Generated by `benchmarks/run_all.py`; do not edit by hand. rt, PyTorch, numpy and",
        "onnxruntime run side by side in one process per script; \"1T\"/\"2T\" are 1 and 2",
        "threads (`rt_tensor.set_num_threads`, `torch.set_num_threads`, onnxruntime's",
        "`intra_op_num_threads`). Times are medians of batches after warm-up. \"torch/rt\" is",
        "PyTorch's time over rt's: above 1 rt is faster. Each figure plots that ratio across",
        "sizes and gives the command that redraws it; every measurement is also in",
        f"`{json_path.name}` (seconds; one record per case, size and thread count).",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Command: `{cmd}`",
        machine_info(),
        "",
        *sections,
    ]
    out_path.write_text("\n".join(doc))
    json_path.write_text(json.dumps({"date": f"{started:%Y-%m-%d %H:%M} UTC", "command": cmd,
                                     "quick": args.quick, "records": all_records}, indent=1))
    print(f"wrote {out_path} and {json_path}")
    if failed:
        print("failed:", ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
