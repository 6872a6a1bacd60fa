"""OptimizerFactory: creation by name (every exported optimizer, case-insensitive), the
suggestion table (coverage, values, reasons, that every suggestion builds), errors, and
docs/optimizer-factory.md agreeing with the code's table row for row."""
import ast
import pathlib
import re

import pytest
import rt_autograd as rt

import rt_optim
from rt_optim import OptimizerFactory
from rt_optim.factory import SUGGESTIONS, TASK_ALIASES, TASKS
from rt_optim.optimizer import Optimizer

DOC = pathlib.Path(__file__).resolve().parents[3] / "docs" / "optimizer-factory.md"


def _exported_optimizers():
    return sorted((name for name in rt_optim.__all__
                   if isinstance(getattr(rt_optim, name), type)
                   and issubclass(getattr(rt_optim, name), Optimizer)
                   and getattr(rt_optim, name) is not Optimizer), key=str.lower)


# --- available / create -------------------------------------------------------------------------
def test_available_lists_every_exported_optimizer_sorted():
    names = OptimizerFactory.available()
    assert names == _exported_optimizers()
    assert names == sorted(names, key=str.lower)
    for expected in ("SGD", "Adam", "AdamW", "LBFGS"):
        assert expected in names
    assert "Optimizer" not in names


@pytest.mark.parametrize("name", _exported_optimizers())
def test_create_builds_every_available_optimizer_in_any_case(name):
    for spelling in (name, name.lower(), name.upper(), f"  {name}  "):
        w = rt.zeros(3, requires_grad=True)
        opt = OptimizerFactory.create(spelling, [w])
        assert type(opt) is getattr(rt_optim, name)
        assert opt.param_groups[0]["params"] == [w]


def test_create_passes_the_overrides():
    w = rt.zeros(3, requires_grad=True)
    opt = OptimizerFactory.create("sgd", [w], lr=0.5, momentum=0.9, nesterov=True)
    group = opt.param_groups[0]
    assert (group["lr"], group["momentum"], group["nesterov"]) == (0.5, 0.9, True)
    opt = OptimizerFactory.create("AdamW", [{"params": [w], "lr": 0.2}], weight_decay=0.3)
    assert opt.param_groups[0]["lr"] == 0.2 and opt.param_groups[0]["weight_decay"] == 0.3


def test_create_sees_an_optimizer_exported_later(monkeypatch):
    class Frobnicate(rt_optim.SGD):
        pass

    monkeypatch.setattr(rt_optim, "Frobnicate", Frobnicate, raising=False)
    monkeypatch.setattr(rt_optim, "__all__", rt_optim.__all__ + ["Frobnicate"])
    assert "Frobnicate" in OptimizerFactory.available()
    w = rt.zeros(2, requires_grad=True)
    assert type(OptimizerFactory.create("frobnicate", [w], lr=0.1)) is Frobnicate


def test_unknown_name_lists_the_valid_names():
    w = rt.zeros(2, requires_grad=True)
    with pytest.raises(ValueError) as info:
        OptimizerFactory.create("adamx", [w])
    message = str(info.value)
    assert "'adamx'" in message
    for name in OptimizerFactory.available():
        assert name in message


def test_create_errors_from_the_name_and_the_optimizer():
    w = rt.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="must be a string"):
        OptimizerFactory.create(rt_optim.Adam, [w])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        OptimizerFactory.create("adam", [w], lr=-1)
    with pytest.raises(TypeError):
        OptimizerFactory.create("adam", [w], momentum=0.9)       # not an Adam argument
    with pytest.raises(ValueError, match="empty parameter list"):
        OptimizerFactory.create("sgd", [])


# --- suggest ------------------------------------------------------------------------------------
def test_tasks_and_aliases():
    assert set(TASKS) == {"classification", "regression", "language_model", "fine_tuning",
                          "small_model"}
    assert TASK_ALIASES == {"transformer": "language_model", "convex": "small_model"}
    for alias, task in TASK_ALIASES.items():
        for n in (100, 50_000, 5_000_000, 300_000_000, 20_000_000_000):
            assert OptimizerFactory.suggest(alias, n) == OptimizerFactory.suggest(task, n)
    assert OptimizerFactory.suggest("Fine-Tuning", 10**8) == \
        OptimizerFactory.suggest("fine_tuning", 10**8)
    assert OptimizerFactory.suggest("LANGUAGE MODEL", 10**8) == \
        OptimizerFactory.suggest("language_model", 10**8)


@pytest.mark.parametrize("task", TASKS)
def test_each_task_covers_every_size_once(task):
    rows = sorted((r for r in SUGGESTIONS if r.task == task), key=lambda r: r.min_parameters)
    assert rows[0].min_parameters == 0
    assert rows[-1].max_parameters is None
    for before, after in zip(rows, rows[1:]):
        assert before.max_parameters == after.min_parameters      # no gap, no overlap
        assert before.min_parameters < before.max_parameters
    assert len(rows) >= 2                                           # a size threshold


@pytest.mark.parametrize("row", SUGGESTIONS,
                         ids=[f"{r.task}-{r.min_parameters}" for r in SUGGESTIONS])
def test_every_row_is_suggested_at_its_bounds_and_builds_its_optimizer(row):
    sizes = [max(row.min_parameters, 1)]
    if row.max_parameters is not None:
        sizes.append(row.max_parameters - 1)
    for n in sizes:
        s = OptimizerFactory.suggest(row.task, n)
        assert s["optimizer"] == row.optimizer
        assert s["hyperparameters"] == {k: v for k, (v, _) in row.hyperparameters.items()}
        assert s["reasons"] == {k: why for k, (_, why) in row.hyperparameters.items()}
        assert s["optimizer_reason"] == row.optimizer_reason
        assert set(s["reasons"]) == set(s["hyperparameters"])
        assert all(isinstance(why, str) and len(why) > 20 for why in s["reasons"].values())
        w = rt.zeros(4, requires_grad=True)
        opt = OptimizerFactory.create(s["optimizer"], [w], **s["hyperparameters"])
        for key, value in s["hyperparameters"].items():
            assert opt.param_groups[0][key] == value


def test_each_value_cites_a_source():
    sources = ("PyTorch", "Kingma & Ba", "Loshchilov & Hutter", "Brown et al.", "Devlin et al.",
               "He et al.", "Touvron et al.", "Nocedal & Wright", "nanoGPT", "SciPy")
    for row in SUGGESTIONS:
        assert any(src in row.optimizer_reason for src in sources), row
        for key, (_, why) in row.hyperparameters.items():
            assert any(src in why for src in sources), (row.task, key)


def test_suggestions_of_note():
    # the table's intent, spelled out
    assert OptimizerFactory.suggest("convex", 500)["optimizer"] == "LBFGS"
    assert OptimizerFactory.suggest("convex", 500)["hyperparameters"]["line_search_fn"] == \
        "strong_wolfe"
    assert OptimizerFactory.suggest("small_model", 50_000)["hyperparameters"][
        "history_size"] == 10
    assert OptimizerFactory.suggest("classification", 25_000_000)["optimizer"] == "SGD"
    gpt_small = OptimizerFactory.suggest("transformer", 125_000_000)
    assert gpt_small["optimizer"] == "AdamW"
    assert gpt_small["hyperparameters"] == {"lr": 6e-4, "betas": (0.9, 0.95), "eps": 1e-8,
                                            "weight_decay": 0.1}
    lrs = [OptimizerFactory.suggest("language_model", n)["hyperparameters"]["lr"]
           for n in (10**7, 10**8, 5 * 10**8, 5 * 10**9, 10**11)]
    assert lrs == sorted(lrs, reverse=True)      # larger models, smaller steps
    assert OptimizerFactory.suggest("fine_tuning", 110_000_000)["hyperparameters"]["lr"] == 3e-5


def test_suggest_returns_a_copy():
    s = OptimizerFactory.suggest("regression", 10)
    s["hyperparameters"]["lr"] = 99.0
    s["reasons"].clear()
    again = OptimizerFactory.suggest("regression", 10)
    assert again["hyperparameters"]["lr"] == 1e-3 and again["reasons"]


def test_suggest_accepts_integer_like_counts():
    np = pytest.importorskip("numpy")
    assert OptimizerFactory.suggest("regression", np.int64(10)) == \
        OptimizerFactory.suggest("regression", 10)
    w = rt.zeros(30, 4)
    assert OptimizerFactory.suggest("classification", w.numel())["optimizer"] == "Adam"


def test_unknown_task_lists_the_valid_tasks():
    with pytest.raises(ValueError) as info:
        OptimizerFactory.suggest("segmentation", 1000)
    message = str(info.value)
    assert "'segmentation'" in message
    for task in TASKS + tuple(TASK_ALIASES):
        assert task in message
    with pytest.raises(TypeError, match="task must be a string"):
        OptimizerFactory.suggest(None, 1000)


@pytest.mark.parametrize("bad,error", [(0, ValueError), (-5, ValueError), (1.5, TypeError),
                                       (1000.0, TypeError), ("1000", TypeError),
                                       (True, TypeError), (None, TypeError)])
def test_bad_num_parameters(bad, error):
    with pytest.raises(error, match="num_parameters"):
        OptimizerFactory.suggest("classification", bad)


# --- the docs page ------------------------------------------------------------------------------
def _markdown_tables(text):
    """Every table of a markdown text as a list of rows (lists of cell strings), header and
    separator dropped."""
    tables = []
    for block in re.findall(r"(?m)(?:^\|.*\|[ \t]*\n?)+", text):
        lines = [line.strip() for line in block.strip().splitlines()]
        rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
        assert re.fullmatch(r"[-:| ]+", lines[1]), lines[1]
        tables.append((rows[0], rows[2:]))
    return tables


def _count(cell):
    return None if cell == "—" else int(cell.replace(",", ""))


def _literal(cell):
    assert cell.startswith("`") and cell.endswith("`"), cell
    return ast.literal_eval(cell[1:-1])


def test_the_docs_page_has_the_codes_table():
    tables = _markdown_tables(DOC.read_text(encoding="utf-8"))
    (opt_header, opt_rows), (hyper_header, hyper_rows) = tables
    assert opt_header == ["Task", "Parameters from", "Parameters below", "Optimizer",
                          "Why this optimizer"]
    assert hyper_header == ["Task", "Parameters from", "Parameters below", "Hyper-parameter",
                            "Value", "Reason and source"]
    documented = [(task, _count(low), _count(high), optimizer, why)
                  for task, low, high, optimizer, why in opt_rows]
    assert documented == [(r.task, r.min_parameters, r.max_parameters, r.optimizer,
                           r.optimizer_reason) for r in SUGGESTIONS]
    documented = [(task, _count(low), _count(high), name, _literal(value), why)
                  for task, low, high, name, value, why in hyper_rows]
    expected = [(r.task, r.min_parameters, r.max_parameters, name, value, why)
                for r in SUGGESTIONS for name, (value, why) in r.hyperparameters.items()]
    assert documented == expected
    # values compare equal across types (1 == 1.0): check the types too
    assert [type(row[4]) for row in documented] == [type(row[4]) for row in expected]
