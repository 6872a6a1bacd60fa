"""The documentation: the Sphinx site builds with no warnings, the examples of the README and
of the pages run and print what the pages say, and the PyTorch mapping of "Migrating from
PyTorch" names every public name of every package.

The site is built once per session by the command `make docs` runs (see conftest.py); the
tests that read the built HTML skip only where Sphinx itself is not installed, and say so.
"""
import builtins
import doctest
import importlib
import importlib.util
import math
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import rt_autograd as rt
import rt_optim
from rt_optim import lr_scheduler

# The pages the issue asks for, each of which must come out of the build.
REQUIRED_PAGES = [
    "index", "getting-started", "migrating-from-pytorch", "differences-from-pytorch",
    "architecture", "adding-a-kernel", "adding-an-op", "adding-a-module",
    "adding-an-optimizer", "adding-a-scheduler", "adding-an-onnx-op", "formats",
    "performance", "optimizer-factory", "api/index",
    "packages/rt-tensor", "packages/rt-autograd", "packages/rt-nn", "packages/rt-optim",
    "packages/rt-import",
]
# API reference page -> the modules it documents
API_PAGES = {
    "rt_tensor": ["rt_tensor", "rt_tensor.memory", "rt_tensor.return_types"],
    "rt_autograd": ["rt_autograd", "rt_autograd.autograd", "rt_autograd.autograd.function",
                    "rt_autograd.autograd.graph", "rt_autograd.testing"],
    "rt_nn": ["rt_nn", "rt_nn.functional", "rt_nn.init", "rt_nn.utils", "rt_nn.utils.rnn",
              "rt_nn.data"],
    "rt_optim": ["rt_optim", "rt_optim.lr_scheduler"],
    "rt_import": ["rt_import", "rt_import.onnx", "rt_import.onnx.registry"],
    "rt_distributed": ["rt_distributed"],
}
PACKAGES = ["rt_tensor", "rt_autograd", "rt_nn", "rt_optim", "rt_import", "rt_distributed"]


def _load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_python(code, cwd, timeout=600):
    """Run ``code`` in a fresh interpreter (warnings are errors, as in every suite)."""
    proc = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"the example failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _public_modules():
    """Every package and every module reachable through an ``__all__``, found here
    independently of docs/_gen_api_mapping.py."""
    found, todo = {}, list(PACKAGES)
    while todo:
        module = importlib.import_module(todo.pop(0))
        if module.__name__ in found:
            continue
        found[module.__name__] = module
        todo += [value.__name__ for value in (getattr(module, n) for n in module.__all__)
                 if isinstance(value, types.ModuleType) and value.__name__.startswith("rt_")]
    return found


# --- the site -----------------------------------------------------------------------------
def test_the_site_builds_with_no_warnings(built_site):
    returncode, output, _ = built_site
    assert returncode == 0, f"sphinx -W failed:\n{output}"
    assert output.strip() == "", f"sphinx printed warnings or errors:\n{output}"


@pytest.mark.parametrize("page", REQUIRED_PAGES)
def test_every_page_of_the_issue_is_built(built_site, page):
    _, output, html = built_site
    assert (html / f"{page}.html").is_file(), f"{page}.html missing; sphinx said:\n{output}"


def _ids(html_file):
    return set(re.findall(r'id="([^"]+)"', html_file.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", sorted(API_PAGES))
def test_the_api_reference_documents_every_public_name(built_site, page):
    """Each documented module's ``__all__`` (submodules aside) has an entry with its own
    anchor; values named like a Python builtin (``rt_tensor.bool``) are described without
    one, so that a type annotation ``bool`` never links to them."""
    _, output, html = built_site
    text = (html / "api" / f"{page}.html").read_text(encoding="utf-8")
    ids = _ids(html / "api" / f"{page}.html")
    for module_name in API_PAGES[page]:
        module = importlib.import_module(module_name)
        missing = []
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, types.ModuleType):
                continue
            if f"{module_name}.{name}" in ids:
                continue
            builtin_named_value = (hasattr(builtins, name) and not callable(value)
                                   and f'<span class="pre">{name}</span>' in text)
            if not builtin_named_value:
                missing.append(name)
        assert not missing, f"{module_name}: not in api/{page}.html: {missing}"


def test_cython_functions_are_in_the_api_reference(built_site):
    """autodoc imports the compiled modules: Cython functions are documented with the
    signature Cython embeds and their docstring."""
    import rt_tensor
    _, _, html = built_site
    page = html / "api" / "rt_tensor.html"
    compiled = [n for n in rt_tensor.__all__
                if type(getattr(rt_tensor, n)).__name__ == "cython_function_or_method"]
    assert len(compiled) > 100          # most of rt_tensor's functions are Cython
    ids = _ids(page)
    assert [n for n in compiled if f"rt_tensor.{n}" not in ids] == []
    text = page.read_text(encoding="utf-8")
    assert "rt_tensor.Tensor.add" in ids
    # add(input, other, *, alpha=1, out=None): the signature from the docstring's first line
    entry = text[text.index('id="rt_tensor.add"'):]
    entry = entry[:entry.index("</dt>")]
    assert [p for p in ("input", "other", "alpha", "out")
            if f'<span class="pre">{p}</span>' not in entry] == []


def test_the_mapping_page_names_every_public_name(built_site):
    _, _, html = built_site
    text = (html / "migrating-from-pytorch.html").read_text(encoding="utf-8")
    missing = [f"{m}.{n}" for m, module in _public_modules().items() for n in module.__all__
               if f'<span class="pre">{m}.{n}</span>' not in text]
    assert missing == []


# --- docstrings that are not reStructuredText (docs/conf.py) ------------------------------
@pytest.fixture(scope="module")
def conf(docs_dir):
    pytest.importorskip("sphinx", reason="Sphinx is not installed: docs/conf.py needs it "
                                          "(tox env `docs`, requirements/docs.txt)")
    return _load_module("rt_docs_conf", docs_dir / "conf.py")


class _App:
    env = None      # no Sphinx roles in these docstrings: docutils alone can parse them


def _present(conf, text):
    lines = text.split("\n")
    conf._present_docstring(_App(), "function", "f", None, {}, lines)
    return lines


def test_valid_rst_docstrings_are_kept(conf):
    text = "Add ``a`` and ``b``.\n\n>>> 1 + 1\n2"
    assert _present(conf, text) == text.split("\n")


@pytest.mark.parametrize("text", [
    "Takes *args and **kwargs.",                 # emphasis that never closes
    "The distance |x - y|, at most d.",          # an undefined substitution
    "Initialised as kaiming_uniform_ does.",     # a reference to an unknown target
    "A formula:\n\n    v = a · v\n  avg = v",     # unexpected indentation
])
def test_docstrings_that_are_not_rst_are_shown_verbatim(conf, text):
    lines = _present(conf, text)
    assert lines[0] == ".. code-block:: text"
    assert [line[4:] if line else "" for line in lines[2:-1]] == text.split("\n")


def test_an_aliases_signature_line_becomes_code(conf):
    lines = _present(conf, "clamp(input, min=None, max=None, *, out=None)\n\nLimit input.")
    assert lines == ["``clamp(input, min=None, max=None, *, out=None)``", "", "Limit input."]


# --- README --------------------------------------------------------------------------------
def test_the_readme_training_example_runs_and_its_loss_decreases(root_dir, code_blocks, tmp_path):
    blocks = code_blocks(root_dir / "README.md", "python")
    assert len(blocks) == 1, "the README has one Python example (the training loop)"
    _, code = blocks[0]
    assert 15 <= len([line for line in code.splitlines() if line.strip()]) <= 25
    assert "import rt_nn" in code and "import rt_optim" in code
    out = _run_python(code, tmp_path)
    losses = [float(m.group(2)) for m in re.finditer(r"^epoch (\d+)\s+loss ([0-9.]+)$", out, re.M)]
    assert len(losses) == 10, out
    # a 4-class problem: chance level is ln 4 = 1.39; the README says "from about 1.0 to
    # about 0.1"
    assert 0.6 < losses[0] < math.log(4), losses
    assert losses[-1] < 0.2, losses
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses


def test_the_readme_commands_come_first(root_dir):
    text = (root_dir / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"^```\n(.*?)^```", text, re.S | re.M).group(1)
    assert [line.split()[:2] for line in first_block.splitlines() if line.startswith("make")] == \
        [["make", "demo"], ["make", "test"]]
    assert text.index("make demo") < text.index("## The packages")


def _declared(root_dir):
    """package -> the distribution names its pyproject.toml declares as dependencies."""
    import tomllib
    out = {}
    for package in PACKAGES:
        dist = package.replace("_", "-")
        data = tomllib.loads((root_dir / "packages" / dist / "pyproject.toml").read_text())
        out[dist] = {re.match(r"[A-Za-z0-9._-]+", req).group(0).lower()
                     for req in data["project"]["dependencies"]}
    return out


def _table(markdown, header):
    """The rows of the Markdown table whose header row starts with ``header``, as lists of
    cells."""
    lines = markdown[markdown.index(header):].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _names(cell):
    """The package names in a table cell, parenthesised remarks and backticks left out."""
    return {n for n in re.split(r"[,\s]+", re.sub(r"\(.*?\)", "", cell).replace("`", "")) if n}


def test_the_readme_package_table_matches_the_pyprojects(root_dir):
    rows = _table((root_dir / "README.md").read_text(encoding="utf-8"), "| package | import |")
    declared = _declared(root_dir)
    assert [row[0].strip("`") for row in rows] == list(declared)
    for dist, import_cell, _, depends in rows:
        dist = dist.strip("`")
        assert _names(depends) == declared[dist], dist
        module = re.match(r"`import (\w+)", import_cell).group(1)
        assert module == dist.replace("-", "_") and importlib.import_module(module)


def test_getting_started_install_table_matches_the_pyprojects(root_dir, docs_dir):
    rows = _table((docs_dir / "getting-started.md").read_text(encoding="utf-8"),
                  "| package | the rt packages it brings |")
    declared = _declared(root_dir)

    def closure(dist):
        rt_deps, external, todo = set(), set(), [dist]
        while todo:
            for dep in declared[todo.pop()]:
                if dep.startswith("rt-"):
                    if dep not in rt_deps:
                        rt_deps.add(dep)
                        todo.append(dep)
                else:
                    external.add(dep)
        return rt_deps, external

    assert [row[0] for row in rows] == list(declared)
    for dist, brings, external in rows:
        assert (_names(brings), _names(external)) == closure(dist), dist


# --- Getting started -----------------------------------------------------------------------
def _printed_claims(code):
    """The comment after each ``print(...)`` line: what the page says it prints."""
    return [line.split("#", 1)[1].strip() if "#" in line else None
            for line in code.splitlines() if line.lstrip().startswith("print(")]


def test_getting_started_examples_print_what_the_page_says(docs_dir, code_blocks, tmp_path):
    blocks = code_blocks(docs_dir / "getting-started.md", "python")
    assert len(blocks) == 3
    outputs = []
    for line, code in blocks:
        out = _run_python(code, tmp_path).splitlines()
        claims = _printed_claims(code)
        assert len(out) == len(claims), f"block at line {line}: {out}"
        for claim, printed in zip(claims, out):
            if claim is None or claim.startswith("about"):
                continue
            assert printed == claim, \
                f"block at line {line}: printed {printed!r}, the page says {claim!r}"
        outputs.append(out)
    # the numbers, against numpy
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    z = (x + 1) @ x.T
    assert outputs[0][1] == "tensor([" + ", ".join(f"{v:g}." for v in z.sum(axis=0)) + "])"
    xm, w = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -2.0])
    grad = 2 * xm.T @ (xm @ w)
    assert outputs[1][0] == f"{float(((xm @ w) ** 2).sum())} tensor([{grad[0]:g}., {grad[1]:g}.])"
    accuracy = float(re.search(r"accuracy ([0-9.]+)%", outputs[2][0]).group(1))
    assert accuracy > 95


# --- Adding a scheduler --------------------------------------------------------------------
@pytest.fixture(scope="module")
def scheduler_page(docs_dir, code_blocks):
    """(namespace after running the page's class block, the page's Python blocks, its
    doctest block)."""
    page = docs_dir / "adding-a-scheduler.md"
    python = code_blocks(page, "python")
    doctests = code_blocks(page, "pycon")
    assert len(python) == 2 and len(doctests) == 1
    namespace = {"__name__": "adding_a_scheduler"}
    exec(compile(python[0][1], str(page), "exec"), namespace)
    return namespace, python, doctests[0]


def _factor(e, warmup):
    """The page's formula, written again here: the oracle."""
    return (e + 1) / warmup if e < warmup else math.sqrt(warmup / (e + 1))


def _two_groups(lrs=(0.1, 0.025)):
    params = [rt.zeros(3, requires_grad=True), rt.zeros(2, requires_grad=True)]
    return rt_optim.SGD([{"params": [params[0]], "lr": lrs[0]},
                         {"params": [params[1]], "lr": lrs[1]}], lr=lrs[0])


def test_the_scheduler_example_gives_the_sequence_it_shows(docs_dir, scheduler_page):
    namespace, _, (line, text) = scheduler_page
    test = doctest.DocTestParser().get_doctest(text, dict(namespace), "adding-a-scheduler",
                                               str(docs_dir / "adding-a-scheduler.md"), line)
    report = []
    runner = doctest.DocTestRunner(verbose=False)
    runner.run(test, out=report.append)
    assert runner.failures == 0 and runner.tries >= 5, "".join(report)


@pytest.mark.parametrize("warmup", [1, 4, 7])
def test_the_scheduler_example_follows_its_formula(scheduler_page, warmup):
    InverseSqrtLR = scheduler_page[0]["InverseSqrtLR"]
    opt = _two_groups()
    sched = InverseSqrtLR(opt, warmup=warmup)
    for e in range(30):
        if e:
            opt.step()
            sched.step()
        want = [base * _factor(e, warmup) for base in (0.1, 0.025)]
        for got in (sched.get_last_lr(), [g["lr"] for g in opt.param_groups]):
            assert got == pytest.approx(want, rel=1e-12, abs=0), f"epoch {e}"


def test_the_scheduler_example_closed_form_serves_step_epoch(scheduler_page):
    InverseSqrtLR = scheduler_page[0]["InverseSqrtLR"]
    opt = _two_groups()
    sched = InverseSqrtLR(opt, warmup=5)
    for epoch in (3, 9, 4, 20):
        opt.step()
        with pytest.warns(UserWarning, match=r"The epoch parameter in `scheduler.step\(\)`"):
            sched.step(epoch)
        want = [base * _factor(epoch, 5) for base in (0.1, 0.025)]
        assert sched.get_last_lr() == pytest.approx(want, rel=1e-12, abs=0)


def test_the_scheduler_example_chains_with_exponential_lr(scheduler_page):
    InverseSqrtLR = scheduler_page[0]["InverseSqrtLR"]
    opt = _two_groups()
    sched = lr_scheduler.ChainedScheduler([InverseSqrtLR(opt, warmup=4),
                                           lr_scheduler.ExponentialLR(opt, gamma=0.9)])
    for e in range(1, 20):
        opt.step()
        sched.step()
        want = [base * _factor(e, 4) * 0.9 ** e for base in (0.1, 0.025)]
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(want, rel=1e-12, abs=0)


def test_the_scheduler_example_resumes(scheduler_page):
    InverseSqrtLR = scheduler_page[0]["InverseSqrtLR"]
    # from a state_dict: continues exactly as an uninterrupted run
    full_opt = _two_groups()
    full = InverseSqrtLR(full_opt, warmup=3)
    expected = []
    for _ in range(12):
        full_opt.step()
        full.step()
        expected.append(full.get_last_lr())
    opt = _two_groups()
    sched = InverseSqrtLR(opt, warmup=3)
    for _ in range(5):
        opt.step()
        sched.step()
    opt2 = _two_groups()
    sched2 = InverseSqrtLR(opt2, warmup=3)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    rest = []
    for _ in range(7):
        opt2.step()
        sched2.step()
        rest.append(sched2.get_last_lr())
    assert rest == expected[5:]
    # with last_epoch >= 0 the constructor keeps the rates it finds, the next step moves on
    opt3 = _two_groups((0.5, 0.2))
    for group, initial in zip(opt3.param_groups, (1.0, 0.4)):
        group["initial_lr"] = initial
    sched3 = InverseSqrtLR(opt3, warmup=3, last_epoch=5)
    assert sched3.get_last_lr() == [0.5, 0.2] and sched3.base_lrs == [1.0, 0.4]
    opt3.step()
    sched3.step()
    assert sched3.get_last_lr() == pytest.approx(
        [lr * _factor(7, 3) / _factor(6, 3) for lr in (0.5, 0.2)], rel=1e-12, abs=0)


@pytest.mark.parametrize("warmup", [0, -2, 2.5, "4"])
def test_the_scheduler_example_rejects_a_bad_warmup(scheduler_page, warmup):
    InverseSqrtLR = scheduler_page[0]["InverseSqrtLR"]
    with pytest.raises(ValueError, match="warmup must be a positive integer"):
        InverseSqrtLR(_two_groups(), warmup=warmup)


def test_the_pages_test_table_lines_pass_rt_optims_scheduler_suite(root_dir, scheduler_page):
    """The CASES lines the page tells a contributor to add, run by rt-optim's own scheduler
    tests (the closed-form oracle over 40 steps, and a state_dict round trip)."""
    namespace, python, _ = scheduler_page
    suite = _load_module("rt_optim_test_lr_scheduler",
                         root_dir / "packages" / "rt-optim" / "tests" / "test_lr_scheduler.py")
    scheduler_module = types.SimpleNamespace(**vars(lr_scheduler),
                                             InverseSqrtLR=namespace["InverseSqrtLR"])
    cases = eval("[" + python[1][1] + "]", dict(vars(suite), L=scheduler_module))
    assert [c[0] for c in cases] == ["InverseSqrtLR", "InverseSqrtLR-epoch"]
    for case in cases:
        assert len(case) == len(suite.CASES[0])
        suite.test_schedule_matches_the_closed_form(case)
        suite.test_state_dict_round_trip_continues_identically(case)


# --- Migrating from PyTorch: the mapping -------------------------------------------------
@pytest.fixture(scope="module")
def mapping(docs_dir):
    return _load_module("rt_docs_gen_api_mapping", docs_dir / "_gen_api_mapping.py")


def test_every_public_name_is_in_the_mapping(mapping):
    markdown = mapping.mapping_markdown()
    rows = set(re.findall(r"^\| [^|]+ \| `([^`]+)` \|", markdown, re.M))
    modules = _public_modules()
    assert set(modules) <= {s.module for s in mapping.SECTIONS}
    missing = [f"{m}.{n}" for m, module in modules.items() for n in module.__all__
               if f"{m}.{n}" not in rows]
    assert missing == []
    # one row per name: nothing else, nothing twice
    assert len(rows) == sum(len(importlib.import_module(s.module).__all__)
                            for s in mapping.SECTIONS)


def test_the_mapping_lists_the_tensor_methods(mapping):
    markdown = mapping.mapping_markdown()
    section = markdown[markdown.index("### `torch.Tensor` -> `rt_autograd.Tensor`"):]
    methods = [n for n in dir(rt.Tensor) if not n.startswith("_")]
    assert [n for n in methods if f"`{n}`" not in section] == []
    assert {"backward", "requires_grad_", "add_", "view", "numpy"} <= set(methods)


def test_a_public_module_without_a_section_stops_the_build(mapping, monkeypatch):
    monkeypatch.setattr(mapping, "SECTIONS", [s for s in mapping.SECTIONS
                                              if s.module != "rt_optim.lr_scheduler"])
    with pytest.raises(LookupError, match="rt_optim.lr_scheduler"):
        mapping.mapping_markdown()


def test_a_name_without_a_pytorch_counterpart_must_be_declared(mapping, monkeypatch):
    monkeypatch.delitem(mapping.SPECIAL, "rt_import.detect_format")
    with pytest.raises(LookupError, match="rt_import.detect_format"):
        mapping.mapping_markdown()


def test_every_pytorch_name_in_the_mapping_exists_in_pytorch(mapping):
    """Where PyTorch is installed (and safetensors, for its rows), every PyTorch name the
    mapping gives resolves to an object."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here: the PyTorch "
                                                "side of the mapping cannot be checked")
    assert torch.__version__.startswith("2.")
    have_safetensors = importlib.util.find_spec("safetensors") is not None
    unresolved = []
    for section in mapping.SECTIONS:
        for row in mapping.rows(section):
            if row.torch is None or (row.torch.startswith("safetensors") and not have_safetensors):
                continue
            try:
                _resolve(row.torch)
            except (ImportError, AttributeError) as exc:
                unresolved.append(f"{row.rt} -> {row.torch}: {exc}")
    assert unresolved == []


def _resolve(dotted):
    """The object a dotted name names: the longest importable module prefix, then
    attributes (``torch.autograd.gradcheck.GradcheckError``: the module, not the function)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def test_the_mapping_generator_prints_the_tables(docs_dir, tmp_path):
    out = _run_python(f"import runpy; runpy.run_path({str(docs_dir / '_gen_api_mapping.py')!r}, "
                      "run_name='__main__')", tmp_path)
    assert out.startswith("### `torch` -> `rt_autograd`")
    assert "| `torch.nn.Linear` | `rt_nn.Linear` |  |" in out
