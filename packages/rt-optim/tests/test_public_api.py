"""The public API is explicit and locked: rt_optim.__all__ and rt_optim.lr_scheduler.__all__
equal the lists next to this file, and every name the issue asks for exists."""
import pathlib
import re

import rt_optim
from rt_optim import lr_scheduler

HERE = pathlib.Path(__file__).parent

OPTIMIZERS = """SGD Adam AdamW Adamax NAdam RAdam RMSprop Adagrad Adadelta Rprop ASGD LBFGS Lion
LAMB""".split()
SCHEDULERS = """LambdaLR MultiplicativeLR StepLR MultiStepLR ConstantLR LinearLR ExponentialLR
PolynomialLR CosineAnnealingLR CosineAnnealingWarmRestarts CyclicLR OneCycleLR
ReduceLROnPlateau SequentialLR ChainedScheduler""".split()


def _locked(name):
    return (HERE / name).read_text().split()


def test_all_lists_match_the_locked_files():
    assert len(rt_optim.__all__) == len(set(rt_optim.__all__))
    assert sorted(rt_optim.__all__) == sorted(_locked("public_api.txt"))
    assert sorted(lr_scheduler.__all__) == sorted(_locked("lr_scheduler_api.txt"))


def test_every_public_name_exists_and_the_issue_names_are_there():
    assert not [n for n in rt_optim.__all__ if not hasattr(rt_optim, n)]
    assert not [n for n in lr_scheduler.__all__ if not hasattr(lr_scheduler, n)]
    assert not [n for n in OPTIMIZERS + ["Optimizer", "OptimizerFactory"]
                if n not in rt_optim.__all__]
    assert not [n for n in SCHEDULERS if n not in lr_scheduler.__all__]
    for name in OPTIMIZERS:
        assert issubclass(getattr(rt_optim, name), rt_optim.Optimizer), name
    for name in SCHEDULERS:
        cls = getattr(lr_scheduler, name)
        assert name == "ReduceLROnPlateau" or issubclass(cls, lr_scheduler.LRScheduler), name


def test_rt_optim_does_not_import_rt_nn():
    """The layering of DESIGN.md: rt-optim depends on rt-autograd only."""
    src = pathlib.Path(rt_optim.__file__).parent
    imports = re.compile(r"^\s*(import|from|cimport)\s+rt_nn\b", re.M)
    offenders = [p.name for ext in ("*.py", "*.pyx", "*.pxi") for p in src.rglob(ext)
                 if imports.search(p.read_text())]
    assert not offenders
