"""What run_all.py, the bench scripts and _plots.py share without importing numpy, rt or torch
(so a bad option is refused in a fraction of a second): the benchmark families in report
order with their titles, the one-line usage error, and the commands that reproduce a figure.

    >>> parser = OneLineErrorParser(prog="bench_matmul.py")
    >>> parser.parse_args(["--nosuch"])       # stderr: one line, exit status 2
    Traceback (most recent call last):
    SystemExit: 2
"""
import argparse
import os
import sys

# Report order and section titles. A bench_*.py not listed here still runs, after these,
# under its own name.
FAMILIES = {
    "overhead": "Per-op overhead",
    "elementwise": "Elementwise throughput",
    "reduce": "Reductions",
    "matmul": "Matmul",
    "import": "Import time",
    "contention": "Threads under contention",
    "autograd": "Autograd: recording, backward, memory (rt-autograd)",
    "nn_mlp": "MLP training step (rt-nn)",
    "nn_cnn": "Small CNN training step (rt-nn)",
    "nn_conv": "Conv2d forward and backward (rt-nn)",
    "nn_lstm": "LSTM (rt-nn)",
    "optim": "Optimizer steps (rt-optim)",
    "formats": "ONNX inference and checkpoint loading (rt-import)",
    "distributed": "all_reduce between 2 processes (rt-distributed)",
    "distributed_ddp": "DistributedDataParallel training step on 2 processes (rt-distributed)",
    "blas_choice": "Matmul threading: rt's pool vs OpenBLAS's (rt-tensor design)",
}

# How a figure is redrawn in the environment `make bench` creates (tox env `bench`).
BENCH_PYTHON = ".tox/bench/bin/python"


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are ONE line on stderr, naming the problem and the
    short usage, with exit status 2 (argparse's own error prints the usage on lines of its
    own first)."""

    def error(self, message):
        usage = " ".join(self.format_usage().split())          # "usage: prog [-h] ..."
        self.exit(2, f"{self.prog}: error: {message} ({usage})\n")


def positive_int(text):
    """argparse type: an integer >= 1 ("0" and "-5" are usage errors, not silent clamps)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def script_parser(doc, prog=None):
    """The options every bench_*.py takes: --quick, --json PATH, --plot PATH."""
    parser = OneLineErrorParser(prog=prog or os.path.basename(sys.argv[0]), description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="few repetitions and small sizes: checks that the script runs, "
                             "the numbers mean little")
    parser.add_argument("--json", metavar="PATH",
                        help="also write every measured case as a JSON list of {family, case, "
                             "size, threads, rt_s, torch_s, numpy_s, ort_s, ...} to PATH")
    parser.add_argument("--plot", metavar="PATH",
                        help="draw rt's speed relative to PyTorch across sizes into the PNG "
                             "PATH (needs matplotlib; families without a size sweep draw "
                             "nothing)")
    return parser


def figure_command(family, png_path, quick=False, python="python"):
    """The command line that redraws the figure of ``family`` into ``png_path``:

    >>> figure_command("matmul", "docs/img/perf-matmul.png")
    'python benchmarks/bench_matmul.py --plot docs/img/perf-matmul.png'
    """
    parts = [python, f"benchmarks/bench_{family}.py"] + (["--quick"] if quick else [])
    return " ".join(parts + ["--plot", str(png_path)])
