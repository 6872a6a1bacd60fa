"""Kernels behind rt_tensor's factories (fills, arange, linspace, eye, out= resize).
Internal: use the functions of rt_tensor (zeros, ones, full, arange, ...)."""
from typing import Any, Tuple

from rt_tensor._tensor import Tensor


def fill_contiguous(t: Tensor, value: Any) -> Tensor:
    """Fill a contiguous tensor with value (RuntimeError when value overflows the dtype)."""
def full_new(dt: int, shape: Tuple[int, ...], value: Any, zero_fast: bool = True) -> Tensor:
    """A new contiguous tensor of dtype code dt filled with value."""
def empty_new(dt: int, shape: Tuple[int, ...]) -> Tensor: ...
def empty_for_strides(dt: int, shape: Tuple[int, ...], strides: Tuple[int, ...]) -> Tensor: ...
def resize_out(out: Tensor, shape: Tuple[int, ...]) -> Tensor:
    """PyTorch's out= resize (warns when a non-empty tensor changes shape)."""
def arange_fill(out: Tensor, start: Any, step: Any, integer: bool) -> Tensor: ...
def linspace_fill(out: Tensor, start: float, end: float, base: float, log: bool) -> Tensor: ...
def eye_fill(out: Tensor) -> Tensor: ...
