"""Figures of the benchmark report: rt's speed relative to PyTorch across sizes.

The input is the JSON list the bench scripts write with ``--json`` (one record per case,
size and thread count; times in seconds, null where a library could not run the case):

    {"family": "matmul", "case": "matmul f32", "size": 1024, "size_name": "n (n x n)",
     "threads": 1, "rt_s": 0.0201, "torch_s": 0.0215, "numpy_s": 0.0199, "ort_s": null, ...}

``plot_family(records, "matmul", "perf-matmul.png", command)`` draws, for every case
measured at two sizes or more, the ratio torch_s / rt_s (above 1: rt is faster) against the
size on a log axis, one line per thread count, one panel per case. A case timed against
onnxruntime and not PyTorch (ONNX inference) is drawn as ort_s / rt_s. The command that
redraws the figure is printed under it and stored in the PNG's "Description" text chunk.

matplotlib is imported only when a figure is drawn (Agg backend, no display needed); without
it ``plot_family`` raises ``PlotUnavailable`` and the report says the plot was skipped.
"""
import math
import os
import textwrap

BASELINES = {"torch": "PyTorch", "ort": "onnxruntime"}
THREAD_STYLES = {1: ("-", "o"), 2: ("--", "s")}


class PlotUnavailable(ImportError):
    """matplotlib cannot be imported: the tables are still written, the figure is not."""


def _baseline(case_records):
    """"torch" when any record of the case has a PyTorch time, else "ort" when any has an
    onnxruntime time, else None."""
    for key in ("torch", "ort"):
        if any(isinstance(r.get(f"{key}_s"), (int, float)) for r in case_records):
            return key
    return None


def speed_ratios(records, family):
    """rt's speed relative to the baseline library, per case and thread count, for the cases
    of ``family`` that were measured at two sizes or more:

        {case: {"baseline": "torch", "size_name": "n (n x n)",
                "lines": {threads: [(size, baseline_s / rt_s), ...]}}}

    sizes ascending; a size where either time is missing (n/a, an error) is left out.

    >>> recs = [{"family": "f", "case": "add", "size": n, "threads": 1, "rt_s": 1.0,
    ...          "torch_s": t} for n, t in ((10, 2.0), (100, 0.5))]
    >>> speed_ratios(recs, "f")["add"]["lines"]
    {1: [(10, 2.0), (100, 0.5)]}
    """
    by_case = {}
    for r in records:
        if r.get("family") == family and r.get("size") is not None:
            by_case.setdefault(r["case"], []).append(r)
    out = {}
    for case, recs in by_case.items():
        base = _baseline(recs)
        if base is None:
            continue
        lines = {}
        for r in recs:
            rt_s, base_s = r.get("rt_s"), r.get(f"{base}_s")
            if isinstance(rt_s, (int, float)) and isinstance(base_s, (int, float)) and rt_s > 0:
                lines.setdefault(r.get("threads"), []).append((r["size"], base_s / rt_s))
        lines = {t: sorted(pts) for t, pts in lines.items() if len({s for s, _ in pts}) >= 2}
        if lines:
            out[case] = {"baseline": base, "size_name": recs[0].get("size_name") or "size",
                         "lines": dict(sorted(lines.items(), key=lambda kv: (kv[0] is None,
                                                                             kv[0] or 0)))}
    return out


def _ratio_ticks(low, high):
    """Tick values for a log ratio axis spanning [low, high]: 0.5, 0.75, 1, 1.5, 2 ... for a
    narrow range, powers of two (at most 8 of them) for a wide one.

    >>> _ratio_ticks(0.7, 1.6)
    [0.75, 1.0, 1.25, 1.5]
    """
    fine = [0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0]
    ticks = [t for t in fine if low <= t <= high]
    if high / low <= 16 and len(ticks) >= 2:
        return ticks
    ticks = [2.0 ** k for k in range(-20, 21) if low <= 2.0 ** k <= high]
    step = max(1, math.ceil(len(ticks) / 8))
    return ticks[ticks.index(1.0) % step::step] if 1.0 in ticks else ticks[::step]


def _size_label(n):
    """64 -> "64", 1000 -> "1000", 100000 -> "1e5", 10**7 -> "1e7"."""
    if n >= 10**5 and float(n) == 10 ** round(math.log10(n)):
        return f"1e{round(math.log10(n))}"
    return f"{n:g}" if isinstance(n, float) else str(n)


def plot_family(records, family, path, command, title=None):
    """Draws the figure of ``family`` (see the module docstring) into the PNG ``path``.

    Returns what was drawn, ``speed_ratios(records, family)``, or None, writing nothing,
    when the family has no case measured at two sizes or more. Raises PlotUnavailable when
    matplotlib is missing.

    >>> plot_family(records, "matmul", "docs/img/perf-matmul.png",     # doctest: +SKIP
    ...             "python benchmarks/bench_matmul.py --plot docs/img/perf-matmul.png")
    """
    ratios = speed_ratios(records, family)
    if not ratios:
        return None
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
    except ImportError as exc:
        raise PlotUnavailable(f"matplotlib is not importable ({exc})") from exc

    cases = list(ratios)
    ncols = min(3, len(cases))
    nrows = math.ceil(len(cases) / ncols)
    width, height = max(6.0, 4.4 * ncols), 3.3 * nrows + 0.9
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    for ax in axes.flat[len(cases):]:
        ax.set_visible(False)
    for ax, case in zip(axes.flat, cases):
        info = ratios[case]
        sizes = sorted({s for pts in info["lines"].values() for s, _ in pts})
        values = [v for pts in info["lines"].values() for _, v in pts if v > 0] + [1.0]
        for threads, pts in info["lines"].items():
            style, marker = THREAD_STYLES.get(threads, (":", "^"))
            label = f"{threads} thread{'s' if threads != 1 else ''}" if threads else "default"
            ax.plot([s for s, _ in pts], [v for _, v in pts], linestyle=style, marker=marker,
                    label=label)
        ax.axhline(1.0, color="0.5", linewidth=0.8, zorder=0)
        # ratios on a log axis: 2x faster and 2x slower lie the same distance from 1, and a
        # 1000x outlier (a stalled thread pool) does not flatten the other points
        ax.set_yscale("log", base=2)
        low, high = min(values), max(values)
        low, high = low / 1.25, high * 1.25
        ax.set_ylim(low, high)
        yticks = _ratio_ticks(low, high)
        ax.yaxis.set_major_locator(FixedLocator(yticks))
        ax.yaxis.set_major_formatter(FixedFormatter([f"{t:.0f}x" if t >= 10 else f"{t:.3g}x"
                                                     for t in yticks]))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_major_formatter(FixedFormatter([_size_label(s) for s in sizes]))
        ax.xaxis.set_minor_locator(NullLocator())
        vs = BASELINES[info["baseline"]]
        ax.set_title(case if info["baseline"] == "torch" else f"{case} (vs {vs})", fontsize=9)
        ax.set_xlabel(info["size_name"], fontsize=8)
        ax.set_ylabel(f"{vs} time / rt time", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    versus = " and ".join(BASELINES[b] for b in BASELINES
                          if any(info["baseline"] == b for info in ratios.values()))
    fig.suptitle(f"{title or family}: rt's speed relative to {versus} (above 1x: rt faster)",
                 fontsize=10)
    # 7-point monospace: about 17 characters per inch
    footer = textwrap.wrap(f"Reproduce: {command}", width=int(16 * width))
    fig.text(0.01, 0.1 / height, "\n".join(footer), fontsize=7, family="monospace",
             va="bottom")
    fig.tight_layout(rect=(0, (0.2 + 0.15 * len(footer)) / height, 1, 1))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Title": f"{title or family}: rt vs PyTorch",
                                         "Description": f"Reproduce: {command}"})
    plt.close(fig)
    return ratios
