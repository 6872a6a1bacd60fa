"""Linear layers (``torch.nn.modules.linear``): ``Identity``, ``Linear``, ``Bilinear``."""
import math

import rt_autograd as rt

from rt_nn import init
from rt_nn._functional.linear import bilinear, linear
from rt_nn.modules.module import Module
from rt_nn.parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear"]


def _check_size(cls, name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{cls}: {name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{cls}: {name} must be non-negative, got {name}={value}")


class Identity(Module):
    """A placeholder that returns its input; every constructor argument is ignored.

    >>> Identity(54, unused="x")(rt.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x A^T + b. Input (*, in_features) -> output (*, out_features). ``weight``
    (out_features, in_features) and ``bias`` (out_features) start as U(-1/sqrt(in_features),
    1/sqrt(in_features)), as in PyTorch (kaiming_uniform_ with a=sqrt(5)).

    >>> Linear(20, 30)(rt.randn(128, 20)).shape
    rt_tensor.Size([128, 30])
    """

    __constants__ = ["in_features", "out_features"]

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_size("Linear", "in_features", in_features)
        _check_size("Linear", "out_features", out_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(rt.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(rt.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # a=sqrt(5) makes the bound 1/sqrt(fan_in), as PyTorch
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        # the parameters straight from their dict (each ``self.weight`` is a __getattr__
        # call, ~0.6 µs); a weight deleted and set again as a plain attribute still works
        params = self._parameters
        weight = params["weight"] if "weight" in params else self.weight
        bias = params["bias"] if "bias" in params else self.bias
        return linear(input, weight, bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y = x1^T A x2 + b. Inputs (*, in1_features) and (*, in2_features) -> (*, out_features).
    ``weight`` (out_features, in1_features, in2_features) and ``bias`` (out_features) start as
    U(-1/sqrt(in1_features), 1/sqrt(in1_features)).

    >>> Bilinear(20, 30, 40)(rt.randn(128, 20), rt.randn(128, 30)).shape
    rt_tensor.Size([128, 40])
    """

    __constants__ = ["in1_features", "in2_features", "out_features"]

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        _check_size("Bilinear", "in1_features", in1_features)
        _check_size("Bilinear", "in2_features", in2_features)
        _check_size("Bilinear", "out_features", out_features)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(rt.empty((out_features, in1_features, in2_features),
                                         dtype=dtype))
        if bias:
            self.bias = Parameter(rt.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features="
                             f"{self.in1_features})")
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
