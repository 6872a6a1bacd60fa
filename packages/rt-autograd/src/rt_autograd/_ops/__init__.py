"""Differentiable ops, one module per family. Importing this package fills the tables of
_registry: ``FUNCTIONS`` (the ``rt_autograd.<name>`` functions) and ``METHODS`` (installed
on ``rt_autograd.Tensor``)."""
from rt_autograd._ops import _registry
from rt_autograd._ops import (arith, cast, complex_ops, creation, fill, index,  # noqa: F401
                              join, linalg, pad, reduce, shape, softmax, sort,
                              unary)

FUNCTIONS = _registry.FUNCTIONS
METHODS = _registry.METHODS
