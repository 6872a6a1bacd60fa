"""The benchmark report's command lines and figures, without running a benchmark.

- ``benchmarks/run_all.py`` and every ``benchmarks/bench_*.py`` refuse a bad option (an
  unknown ``--only`` family, a non-positive ``--timeout``, an unknown argument) with ONE line
  on stderr and exit status 2, before measuring anything.
- The JSON records the harness writes, and the figure ``_plots.plot_family`` draws from them
  (rt's speed relative to PyTorch across sizes), checked on synthetic numbers: the plotted
  ratios against hand-computed ones, the PNG's size and the reproducing command stored in
  it. Without matplotlib the report says the plot was skipped.
"""
import importlib.util
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCH.glob("bench_*.py"))


def _load(name):
    """benchmarks/<name>.py as a module (its siblings importable, as when run as a script)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"rt_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(script, *args):
    return subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _assert_usage_error(out, prog, *needles):
    assert out.returncode == 2, (out.returncode, out.stdout[-500:], out.stderr[-500:])
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    assert "usage: " in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# ---------------------------------------------------------------- command lines

@pytest.mark.parametrize("args, needles", [
    (["--only", "nosuch"], ["unknown family nosuch", "matmul"]),
    (["--only", "matmul,nosuch,other"], ["unknown families nosuch,other"]),
    (["--only", ","], ["no family named"]),
    (["--timeout", "0"], ["--timeout", "positive integer", "0"]),
    (["--timeout", "-5"], ["--timeout", "-5"]),
    (["--timeout", "soon"], ["--timeout", "'soon'"]),
    (["--frobnicate"], ["unrecognized arguments: --frobnicate"]),
    (["stray"], ["unrecognized arguments: stray"]),
    (["--quick", "--out", "docs/performance.md"], ["--quick", "docs/performance.md"]),
])
def test_run_all_rejects_bad_options_in_one_line(args, needles):
    report = ROOT / "docs" / "performance.md"
    before = report.read_bytes() if report.exists() else None
    _assert_usage_error(_run("run_all.py", *args), "run_all.py", *needles)
    assert (report.read_bytes() if report.exists() else None) == before


def test_run_all_help_lists_the_families_and_options():
    out = _run("run_all.py", "--help")
    assert out.returncode == 0, out.stderr
    for word in ("--only", "--timeout", "--quick", "--out", "matmul", "optim", "formats"):
        assert word in out.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_bench_script_rejects_unknown_option_in_one_line(script):
    _assert_usage_error(_run(script, "--nosuch"), script, "unrecognized arguments: --nosuch")


@pytest.mark.parametrize("script", ["bench_matmul.py", "bench_blas_choice.py"])
def test_bench_script_rejects_json_without_a_path(script):
    _assert_usage_error(_run(script, "--json"), script, "--json", "expected one argument")


def test_blas_choice_rejects_an_unknown_worker_library():
    _assert_usage_error(_run("bench_blas_choice.py", "--worker", "mkl", "64"),
                        "bench_blas_choice.py", "unknown library 'mkl'")


def test_every_family_of_the_issue_has_a_script():
    families = _load("run_all").families()
    # tensor ops, autograd overhead, conv, training steps, optimizers, ONNX inference and
    # checkpoint loading (bench_formats)
    for name in ("overhead", "elementwise", "reduce", "matmul", "autograd", "nn_conv",
                 "nn_mlp", "nn_cnn", "nn_lstm", "optim", "formats"):
        assert name in families


# ---------------------------------------------------------------- records

def test_timing_table_records_one_entry_per_thread_count(monkeypatch, capsys):
    H = _load("_harness")
    monkeypatch.setattr(H, "RECORDS", [])
    monkeypatch.setattr(H, "FAMILY", "matmul")
    res = {("rt", 1): 2.0e-3, ("rt", 2): 1.0e-3, ("torch", 1): 3.0e-3,
           ("torch", 2): "error: RuntimeError: boom", ("numpy", None): 2.5e-3}
    H.timing_table("Matmul", [("matmul 64x64 f32", res, "torch/rt >= 1",
                               H.point("matmul f32", 64))], size_name="n")
    text = capsys.readouterr().out
    assert "| matmul 64x64 f32 | 2,000 | 1,000 | 3,000 | error: RuntimeError: boom | 2,500 | " \
           "1.50x | n/a | torch/rt >= 1 |" in text
    one, two = H.RECORDS
    assert one == {"family": "matmul", "table": "Matmul (µs per call; torch/rt > 1: rt faster)",
                   "case": "matmul f32", "label": "matmul 64x64 f32", "size": 64,
                   "size_name": "n", "threads": 1, "rt_s": 2.0e-3, "torch_s": 3.0e-3,
                   "numpy_s": 2.5e-3, "ort_s": None, "target": "torch/rt >= 1", "errors": {}}
    assert two["threads"] == 2 and two["rt_s"] == 1.0e-3 and two["torch_s"] is None
    assert two["numpy_s"] == 2.5e-3            # numpy's one timing, in every record
    assert two["errors"] == {"torch": "error: RuntimeError: boom"}
    json.dumps(H.RECORDS)                      # what --json writes


def test_record_renames_libraries_and_keeps_unswept_rows_without_size(monkeypatch, capsys):
    H = _load("_harness")
    monkeypatch.setattr(H, "RECORDS", [])
    monkeypatch.setattr(H, "FAMILY", "formats")
    H.timing_table("ONNX", [("MLP, batch 1", {("rt", 1): 1e-5, ("torch", 1): 2e-5}, "")],
                   record_as={"torch": "ort"})
    capsys.readouterr()
    (rec,) = H.RECORDS
    assert rec["ort_s"] == 2e-5 and rec["torch_s"] is None and rec["rt_s"] == 1e-5
    assert rec["size"] is None and rec["case"] == "MLP, batch 1"


# ---------------------------------------------------------------- figures

def _records():
    """Synthetic records of a family "demo": case "add" at 3 sizes and 2 thread counts
    (torch_s / rt_s chosen to give round ratios), a case "mul" where rt errored at one size,
    and a case measured at one size only (no line)."""
    rows = []

    def rec(case, size, threads, rt_s, torch_s, **kw):
        rows.append({"family": "demo", "table": "Demo (µs per call)", "case": case,
                     "size": size, "size_name": "values", "threads": threads, "rt_s": rt_s,
                     "torch_s": torch_s, "numpy_s": None, "ort_s": None, **kw})
    for size, r1, r2 in ((1000, 2.0, 4.0), (10**5, 1.0, 1.5), (10**7, 0.5, 1.25)):
        rec("add", size, 1, 1e-6 * size, r1 * 1e-6 * size)
        rec("add", size, 2, 1e-6 * size, r2 * 1e-6 * size)
    rec("mul", 1000, 1, 1e-3, 3e-3)
    rec("mul", 10**5, 1, None, 1e-1)                # rt errored: left out
    rec("mul", 10**7, 1, 1e-1, 5e-2)
    rec("exp", 1000, 1, 1e-3, 1e-3)                 # one size: no line
    rec("sum", None, 1, 1e-3, 2e-3)                 # not a sweep
    rows.append({**rows[0], "family": "other", "torch_s": 1.0})    # another family
    return rows


def _png_info(path):
    """(width, height, {keyword: text}) of a PNG file, from its IHDR and tEXt chunks."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, texts, size = 8, {}, None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + length:
                                                                  pos + 12 + length])[0]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            texts[key.decode("latin-1")] = value.decode("latin-1")
        pos += 12 + length
    return size[0], size[1], texts


def _assert_line(points, expected):
    """points [(size, ratio)] equal to expected: sizes exactly, ratios to rounding."""
    assert [size for size, _ in points] == [size for size, _ in expected]
    assert [r for _, r in points] == pytest.approx([r for _, r in expected], rel=1e-12)


def test_speed_ratios_are_torch_time_over_rt_time_per_case_and_thread_count():
    plots = _load("_plots")
    ratios = plots.speed_ratios(_records(), "demo")
    assert set(ratios) == {"add", "mul"}
    add = ratios["add"]
    assert add["baseline"] == "torch" and add["size_name"] == "values"
    assert list(add["lines"]) == [1, 2]
    _assert_line(add["lines"][1], [(1000, 2.0), (10**5, 1.0), (10**7, 0.5)])
    _assert_line(add["lines"][2], [(1000, 4.0), (10**5, 1.5), (10**7, 1.25)])
    assert list(ratios["mul"]["lines"]) == [1]
    _assert_line(ratios["mul"]["lines"][1], [(1000, 3.0), (10**7, 0.5)])


def test_onnx_cases_are_drawn_against_onnxruntime():
    plots = _load("_plots")
    recs = [{"family": "formats", "case": "MLP", "size": b, "threads": 1, "rt_s": 1e-5,
             "torch_s": None, "ort_s": t} for b, t in ((1, 8e-6), (64, 1.2e-5))]
    ratios = plots.speed_ratios(recs, "formats")
    assert ratios["MLP"]["baseline"] == "ort"
    _assert_line(ratios["MLP"]["lines"][1], [(1, 0.8), (64, 1.2)])


def test_plot_family_draws_a_png_carrying_its_command(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed: the figure test "
                                             "needs it (tox's integration env has it)")
    plots = _load("_plots")
    png = tmp_path / "img" / "perf-demo.png"
    command = "python benchmarks/bench_demo.py --plot docs/img/perf-demo.png"
    drawn = plots.plot_family(_records(), "demo", png, command, title="Demo family")
    assert drawn == plots.speed_ratios(_records(), "demo")
    width, height, texts = _png_info(png)
    assert (width, height) == (880, 420)           # 2 panels: 8.8 x 4.2 inches at 100 dpi
    assert texts["Description"] == f"Reproduce: {command}"
    assert texts["Title"] == "Demo family: rt vs PyTorch"


def test_plot_family_draws_nothing_for_a_family_without_a_sweep(tmp_path):
    plots = _load("_plots")
    png = tmp_path / "perf-other.png"
    assert plots.plot_family(_records(), "nosweep", png, "cmd") is None
    assert not png.exists()


def test_report_says_the_plot_was_skipped_without_matplotlib(tmp_path, monkeypatch):
    run_all = _load("run_all")
    monkeypatch.setitem(sys.modules, "matplotlib", None)     # import matplotlib fails
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    plots = sys.modules["_plots"]
    with pytest.raises(plots.PlotUnavailable):
        plots.plot_family(_records(), "demo", tmp_path / "x.png", "cmd")
    heading, text = run_all.figure_markdown(_records(), "demo", tmp_path)
    assert heading is None
    assert text.startswith("_Plot of rt's speed relative to PyTorch across sizes skipped: ")
    assert "benchmarks/bench_demo.py --plot" in text
    assert not (tmp_path / "img" / "perf-demo.png").exists()


def test_report_embeds_the_figure_after_its_table(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed: the figure test "
                                             "needs it (tox's integration env has it)")
    run_all = _load("run_all")
    heading, block = run_all.figure_markdown(_records(), "demo", tmp_path)
    assert heading == "Demo (µs per call)"
    assert block.startswith("![demo: rt's speed relative to PyTorch across sizes]"
                            "(img/perf-demo.png)")
    command = f"python benchmarks/bench_demo.py --plot {tmp_path.resolve()}/img/perf-demo.png"
    assert f"Reproduce: `{command}`" in block
    assert _png_info(tmp_path / "img" / "perf-demo.png")[2]["Description"] == \
        f"Reproduce: {command}"
    section = "_header_\n\n### Demo (µs per call)\n\n| a |\n|---|\n\nnote\n\n### Next\n\n| b |\n"
    merged = run_all.insert_after_table(section, heading, block)
    assert merged == ("_header_\n\n### Demo (µs per call)\n\n| a |\n|---|\n\nnote\n\n"
                      + block + "\n\n### Next\n\n| b |\n")
    assert run_all.insert_after_table("x\n", "absent", "B") == "x\n\nB\n"
