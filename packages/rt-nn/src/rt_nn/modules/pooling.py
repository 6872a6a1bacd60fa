"""Pooling layers (``torch.nn.modules.pooling``): ``MaxPool1d/2d``, ``AvgPool1d/2d``,
``AdaptiveAvgPool1d/2d``, ``AdaptiveMaxPool1d/2d``, ``LPPool1d/2d``. State (the window
arguments) lives here; the math is rt_nn.functional's.

Constructor arguments are kept as given (as PyTorch does, so ``extra_repr`` prints them the
same way); values that can never work (kernel_size or stride < 1, padding < 0, dilation < 1, a
negative output size) raise ValueError naming the argument (PyTorch raises at forward time).
"""
from rt_nn._functional import pooling as F
from rt_nn.modules.module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "LPPool1d", "LPPool2d"]


def _single(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _check(cls, name, value, low, allow_none=False):
    """ValueError unless every int in ``value`` (an int or a tuple) is >= low."""
    for v in _single(value):
        if v is None and allow_none:
            continue
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{cls}: {name} must be an int or a tuple of ints, got {value!r}")
        if v < low:
            raise ValueError(f"{cls}: {name} must be {'positive' if low == 1 else 'non-negative'}"
                             f", got {name}={value!r}")


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        name = type(self).__name__
        _check(name, "kernel_size", kernel_size, 1)
        if stride is not None:
            _check(name, "stride", stride, 1)
        _check(name, "padding", padding, 0)
        _check(name, "dilation", dilation, 1)
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}"
                ", dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__))


class MaxPool1d(_MaxPoolNd):
    """Max over windows of the last dim: (N, C, L) or (C, L) -> (N, C, L_out).

    >>> import rt_autograd as rt
    >>> MaxPool1d(2)(rt.tensor([[[1., 3., 2., 0.]]])).tolist()
    [[[3.0, 2.0]]]
    """

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Max over (kH, kW) windows: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); with
    ``return_indices`` also the argmax as flat indices into each (H, W) plane."""

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class _AvgPoolNd(Module):
    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of the last dim: (N, C, L) or (C, L) -> (N, C, L_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        _check("AvgPool1d", "kernel_size", kernel_size, 1)
        if stride is not None:
            _check("AvgPool1d", "stride", stride, 1)
        _check("AvgPool1d", "padding", padding, 0)
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over (kH, kW) windows: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        _check("AvgPool2d", "kernel_size", kernel_size, 1)
        if stride is not None:
            _check("AvgPool2d", "stride", stride, 1)
        _check("AvgPool2d", "padding", padding, 0)
        if divisor_override is not None and divisor_override == 0:
            raise ValueError("AvgPool2d: divisor_override must not be zero")
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        _check(type(self).__name__, "output_size", output_size, 0, allow_none=True)
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of the last dim to ``output_size`` (windows
    [floor(i*L/out), ceil((i+1)*L/out)))."""

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling of (H, W) to ``output_size`` (an int, or a pair that may hold None for
    "keep the input size")."""

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        _check(type(self).__name__, "output_size", output_size, 0, allow_none=True)
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of the last dim to ``output_size``."""

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of (H, W) to ``output_size``; ``return_indices`` also gives the argmax."""

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        _check(type(self).__name__, "kernel_size", kernel_size, 1)
        if stride is not None:
            _check(type(self).__name__, "stride", stride, 1)
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return ("norm_type={norm_type}, kernel_size={kernel_size}, stride={stride}, "
                "ceil_mode={ceil_mode}".format(**self.__dict__))


class LPPool1d(_LPPoolNd):
    """Power-average pooling over the last dim: (sum x**p) ** (1/p) per window."""

    def forward(self, input):
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over (kH, kW) windows: (sum x**p) ** (1/p)."""

    def forward(self, input):
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)
