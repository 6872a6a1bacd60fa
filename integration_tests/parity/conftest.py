"""The parity suite needs PyTorch (tox env `parity` installs torch==2.13.0, CPU). Without
torch every test here is skipped with the reason below; in the parity env
(RT_PARITY_REQUIRE_TORCH=1) a torch that does not import is an error, not a skip."""
import importlib.util
import os
import pathlib
import sys

import pytest

try:
    import torch
    TORCH_ERROR = None
except Exception as exc:          # ImportError, or a broken install
    torch = None
    TORCH_ERROR = exc
    if os.environ.get("RT_PARITY_REQUIRE_TORCH") == "1":
        raise

SKIP_REASON = (f"PyTorch cannot be imported ({TORCH_ERROR!r}); the parity suite runs in "
               f"`tox -e parity`, which installs torch==2.13.0")


def pytest_collection_modifyitems(config, items):
    if torch is None:
        mark = pytest.mark.skip(reason=SKIP_REASON)
        for item in items:
            item.add_marker(mark)


def pytest_report_header(config):
    return f"torch: {torch.__version__ if torch is not None else 'not importable'}"


def _register_models_module():
    """models.py (the model code shared by the parity tests) as the module
    ``rt_parity_models``: the suite runs in pytest's importlib mode, where sibling modules are
    not importable by name, so it is loaded once here, before the test modules, which then
    ``import rt_parity_models``. It imports torch only when asked for torch's namespace."""
    name = "rt_parity_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, pathlib.Path(__file__).with_name("models.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


_register_models_module()
