"""Lesson 3, exercise 1: LayerNorm from scratch, the way rt-nn splits a layer.

rt-nn (like PyTorch) keeps the *state* in a module class and the *math* in a function
(``docs/adding-a-module.md``). Write both halves of ``torch.nn.LayerNorm`` for an int
``normalized_shape`` (https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html):

- ``layer_norm(x, weight, bias, eps=1e-5)``: normalise ``x`` over its last dimension, then
  scale and shift it::

      y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias

  with the mean and the *biased* variance (divided by n, not n - 1) over the last dimension,
  in differentiable rt ops (autograd then gives the gradients);
- ``MyLayerNorm(normalized_shape, eps=1e-5)``: a module whose parameters ``weight`` (ones)
  and ``bias`` (zeros) have shape ``(normalized_shape,)`` and are registered under those
  names, so that the ``state_dict`` of an ``rt_nn.LayerNorm`` loads into it; its forward
  calls ``layer_norm``.

Check it:  python docs/course/_runner.py check 3
"""
import rt_autograd as rt
import rt_nn as nn


def layer_norm(x, weight, bias, eps=1e-5):
    raise NotImplementedError("exercise: write layer_norm and MyLayerNorm")


class MyLayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        raise NotImplementedError("exercise: write layer_norm and MyLayerNorm")

    def forward(self, x):
        raise NotImplementedError("exercise: write layer_norm and MyLayerNorm")
