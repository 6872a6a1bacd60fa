"""Padding layers against numpy's pad, gradients, repr."""
import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
from rt_autograd.testing import gradcheck

CASES = [
    (nn.ZeroPad2d(1), "constant", ((0, 0), (1, 1), (1, 1))),
    (nn.ConstantPad1d((1, 2), 3.5), "constant", ((0, 0), (0, 0), (1, 2))),
    (nn.ReflectionPad1d(2), "reflect", ((0, 0), (0, 0), (2, 2))),
    (nn.ReflectionPad2d((1, 0, 2, 1)), "reflect", ((0, 0), (2, 1), (1, 0))),
    (nn.ReplicationPad2d(1), "edge", ((0, 0), (1, 1), (1, 1))),
    (nn.CircularPad1d((1, 2)), "wrap", ((0, 0), (0, 0), (1, 2))),
]


@pytest.mark.parametrize("module, np_mode, widths", CASES, ids=lambda c: repr(c))
def test_padding_matches_numpy_and_has_gradients(module, np_mode, widths):
    x = rt.randn(2, 4, 5, dtype=rt.float64, requires_grad=True)
    out = module(x)
    kw = {"constant_values": module.value} if np_mode == "constant" else {}
    want = np.pad(x.detach().numpy(), widths, mode=np_mode, **kw)
    assert np.allclose(out.detach().numpy(), want)
    assert gradcheck(module, (x,))


def test_padding_reprs():
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d((1, 2), 3.5)) == "ConstantPad1d(padding=(1, 2), value=3.5)"
    assert repr(nn.ReflectionPad2d(1)) == "ReflectionPad2d((1, 1, 1, 1))"
    with pytest.raises(ValueError, match="padding must be an int or a 4-tuple"):
        nn.ZeroPad2d((1, 2))
