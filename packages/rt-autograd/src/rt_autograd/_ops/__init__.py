"""Differentiable ops, one module per family. Importing this package fills the tables of
_registry: ``FUNCTIONS`` (the ``rt_autograd.<name>`` functions) and ``METHODS`` (installed
on ``rt_autograd.Tensor``)."""
from rt_autograd._ops import _registry
from rt_autograd._ops import (arith, creation, index, linalg, reduce, shape, sort,  # noqa: F401
                              unary)
from rt_autograd._ops import complex_ops  # noqa: F401,E402
from rt_autograd._ops import cast, join, pad  # noqa: F401,E402

FUNCTIONS = _registry.FUNCTIONS
METHODS = _registry.METHODS
