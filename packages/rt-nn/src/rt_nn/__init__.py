"""rt_nn: ``torch.nn`` for rt. ``import rt_nn as nn``; ``rt_nn.functional as F``,
``rt_nn.init``, ``rt_nn.utils``, ``rt_nn.data`` (``torch.utils.data``)."""
from rt_nn import functional, init, modules, utils  # noqa: F401
from rt_nn.modules import *  # noqa: F401,F403
from rt_nn.modules import __all__ as _modules_all
from rt_nn.parameter import Buffer, Parameter

__version__ = "0.1.0"

__all__ = sorted(set(_modules_all) | {"Parameter", "Buffer", "functional", "init", "utils",
                                      "data", "modules"})


def __getattr__(name):
    # rt_nn.data is imported on first use (DataLoader and friends are not needed by layers)
    if name == "data":
        import importlib
        return importlib.import_module("rt_nn.data")
    raise AttributeError(f"module 'rt_nn' has no attribute '{name}'")
