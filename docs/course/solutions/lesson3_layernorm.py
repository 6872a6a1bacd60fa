"""Lesson 3, exercise 1, worked solution: LayerNorm from scratch, state in the module, math
in a function.

The two parameters are assigned as attributes, so ``Module`` registers them under the names
``weight`` and ``bias``, the keys of ``rt_nn.LayerNorm``'s ``state_dict``. ``layer_norm`` is
written in differentiable rt ops, so autograd gives the gradients for free.
"""
import rt_autograd as rt
import rt_nn as nn


def layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    centered = x - mean
    variance = (centered * centered).mean(dim=-1, keepdim=True)    # biased: divided by n
    return centered / (variance + eps).sqrt() * weight + bias


class MyLayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(rt.ones(normalized_shape))
        self.bias = nn.Parameter(rt.zeros(normalized_shape))

    def forward(self, x):
        return layer_norm(x, self.weight, self.bias, self.eps)
