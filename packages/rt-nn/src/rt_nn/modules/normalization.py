"""Normalization layers over trailing dims, channel groups or channel windows
(``torch.nn.modules.normalization``): ``LayerNorm``, ``GroupNorm``, ``RMSNorm``,
``LocalResponseNorm``."""
import numbers

import rt_autograd as rt

from rt_nn import init
from rt_nn._functional.normalization import (group_norm, layer_norm, local_response_norm,
                                             rms_norm)
from rt_nn.modules.module import Module
from rt_nn.parameter import Parameter

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm"]


def _shape_arg(cls, normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    shape = tuple(normalized_shape)
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{cls}: normalized_shape must contain ints, got "
                            f"{type(s).__name__}")
        if s < 0:
            raise ValueError(f"{cls}: normalized_shape must be non-negative, got "
                             f"normalized_shape={shape}")
    return tuple(int(s) for s in shape)


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dims, with an elementwise
    affine (``weight`` ones, ``bias`` zeros, both of shape ``normalized_shape``).

    >>> LayerNorm(4)(rt.randn(2, 3, 4)).shape
    rt_tensor.Size([2, 3, 4])
    """

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_arg("LayerNorm", normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if self.elementwise_affine:
            self.weight = Parameter(rt.empty(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(rt.empty(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalization: ``num_channels`` split into ``num_groups`` groups, each
    (sample, group) normalised, then a per-channel affine (``weight`` ones, ``bias`` zeros).

    >>> GroupNorm(2, 4)(rt.randn(3, 4, 5)).shape
    rt_tensor.Size([3, 4, 5])
    """

    __constants__ = ["num_groups", "num_channels", "eps", "affine"]

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        for name, v in (("num_groups", num_groups), ("num_channels", num_channels)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"GroupNorm: {name} must be an int, got {type(v).__name__}")
        if num_groups <= 0:
            raise ValueError(f"GroupNorm: num_groups must be positive, got "
                             f"num_groups={num_groups}")
        if num_channels < 0:
            raise ValueError(f"GroupNorm: num_channels must be non-negative, got "
                             f"num_channels={num_channels}")
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if self.affine:
            self.weight = Parameter(rt.empty(num_channels, dtype=dtype))
            if bias:
                self.bias = Parameter(rt.empty(num_channels, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dims:
    ``x / sqrt(mean(x^2) + eps) * weight`` (``weight`` ones); ``eps=None`` is the input
    dtype's machine epsilon.

    >>> RMSNorm([2, 3])(rt.randn(4, 2, 3)).shape
    rt_tensor.Size([4, 2, 3])
    """

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _shape_arg("RMSNorm", normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if self.elementwise_affine:
            self.weight = Parameter(rt.empty(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Local response normalization over windows of ``size`` neighbouring channels.

    >>> LocalResponseNorm(2)(rt.randn(2, 4, 3, 3)).shape
    rt_tensor.Size([2, 4, 3, 3])
    """

    __constants__ = ["size", "alpha", "beta", "k"]

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
