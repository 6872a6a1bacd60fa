"""Differentiable ops, one module per family. Importing this package fills the tables of
_registry: ``FUNCTIONS`` (the ``rt_autograd.<name>`` functions) and ``METHODS`` (installed
on ``rt_autograd.Tensor``)."""
from rt_autograd._ops import _registry
from rt_autograd._ops import (arith, creation, index, linalg, reduce, shape,  # noqa: F401
                              unary)

FUNCTIONS = _registry.FUNCTIONS
METHODS = _registry.METHODS
