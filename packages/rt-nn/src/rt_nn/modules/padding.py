"""Padding layers (``torch.nn.ZeroPad2d`` and friends): state is the padding, math is
``F.pad``."""
from rt_nn._functional.padding import pad
from rt_nn.modules.module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
           "CircularPad2d"]


def _expand(padding, n):
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(padding)
    if len(padding) != 2 * n:
        raise ValueError(f"padding must be an int or a {2 * n}-tuple, got {padding}")
    return padding


class _PadNd(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = _expand(padding, self.dims)
        self.value = value

    def forward(self, input):
        if self.mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        # PyTorch: "padding=(1, 2), value=3.5" for ConstantPad, "(1, 1, 1, 1)" otherwise
        if self.mode == "constant" and not isinstance(self, (ZeroPad1d, ZeroPad2d)):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    """Pad the last dim with ``value`` (``padding``: int or (left, right))."""

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    """Pad the last two dims with ``value`` ((left, right, top, bottom))."""
    dims = 2


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad1d(_PadNd):
    mode = "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad2d(ReflectionPad1d):
    dims = 2


class ReplicationPad1d(ReflectionPad1d):
    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    dims = 2


class CircularPad1d(ReflectionPad1d):
    mode = "circular"


class CircularPad2d(CircularPad1d):
    dims = 2
