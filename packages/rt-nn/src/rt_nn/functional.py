"""``torch.nn.functional`` for rt: the math of every layer, as functions. The functions live
in ``rt_nn/_functional/<family>.py``; each family has an ``__all__``, and adding a family is
one line in ``_FAMILIES``."""
import importlib

_FAMILIES = ["linear", "conv", "pooling", "padding", "vision", "dropout", "sparse", "activation",
             "softmax", "normalization", "distance", "loss", "attention"]

__all__ = []
for _name in _FAMILIES:
    _family = importlib.import_module(f"rt_nn._functional.{_name}")
    globals().update({_n: getattr(_family, _n) for _n in _family.__all__})
    __all__ += list(_family.__all__)
