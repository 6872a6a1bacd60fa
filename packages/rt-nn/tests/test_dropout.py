"""Dropout family: train/eval behaviour, scaling by 1/(1-p), reproducibility under
rt.manual_seed, channel masks, in-place, gradients (grad * mask), p edge cases, errors."""
import math
import warnings

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck


@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_values_and_rate(dtype, p):
    rt.manual_seed(1)
    x = rt.ones(100000, dtype=dtype)
    y = F.dropout(x, p).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(kept.mean() - (1 - p)) < 4 * math.sqrt(p * (1 - p) / 100000) + 1e-3
    assert F.dropout(x, p).dtype == dtype


def test_dropout_is_reproducible_with_manual_seed():
    x = rt.randn(50, 20)
    rt.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    rt.manual_seed(123)
    b = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, F.dropout(x, 0.5).numpy())


def test_eval_and_edge_probabilities():
    x = rt.randn(4, 5)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(rt.zeros(0, 3), 0.5).shape == (0, 3)
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    m = nn.Dropout(0.5)
    m.eval()
    assert m(x) is x
    m.train()
    assert not np.array_equal(m(rt.ones(1000)).numpy(), np.ones(1000))


def test_gradient_is_grad_times_mask():
    rt.manual_seed(5)
    x = rt.randn(200, dtype=rt.float64, requires_grad=True)
    y = F.dropout(x, 0.3)
    y.backward(rt.ones(200, dtype=rt.float64))
    mask = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-12)
    assert set(np.round(np.unique(mask), 10)) <= {0.0, round(1 / 0.7, 10)}


def test_gradcheck_with_fixed_seed():
    x = rt.randn(3, 4, dtype=rt.float64, requires_grad=True)

    def fn(t):
        rt.manual_seed(7)          # the same mask for every evaluation
        return F.dropout(t, 0.4)

    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("fn,shape,plane", [(F.dropout1d, (4, 6, 8), 8), (F.dropout1d, (6, 8), 8),
                                            (F.dropout2d, (4, 6, 5, 5), 25),
                                            (F.dropout3d, (4, 6, 2, 3, 3), 18),
                                            (F.dropout3d, (6, 2, 3, 3), 18)])
def test_feature_dropout_zeroes_whole_channels(fn, shape, plane):
    rt.manual_seed(3)
    y = fn(rt.ones(*shape), 0.5).numpy()
    assert y.shape == shape
    planes = y.reshape(-1, plane)
    for row in planes:
        assert (row == 0).all() or np.allclose(row, 2.0)
    assert (planes == 0).all(axis=1).any() and (planes != 0).all(axis=1).any()


def test_dropout2d_warnings():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(rt.ones(2, 3, 4), 0.5)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        F.dropout2d(rt.ones(2, 3), 0.5, training=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(rt.ones(1, 2, 3, 4), 0.5)


def test_inplace():
    rt.manual_seed(2)
    x = rt.ones(1000)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    leaf = rt.ones(10, requires_grad=True)
    h = leaf * 1.0
    F.dropout(h, 0.5, inplace=True).sum().backward()
    assert set(np.unique(leaf.grad.numpy())) <= {0.0, 2.0}
    x = rt.ones(2, 3, 4, 4)
    assert nn.Dropout2d(0.5, inplace=True)(x) is x


def test_alpha_dropout_keeps_mean_and_variance():
    rt.manual_seed(0)
    x = rt.randn(400000, dtype=rt.float64)
    y = F.alpha_dropout(x, 0.3, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    dropped = np.abs(y - _alpha_value(0.3)) < 1e-12        # dropped units share one value
    assert abs(dropped.mean() - 0.3) < 0.005
    assert F.alpha_dropout(x, 0.3) is x                 # training defaults to False
    f = F.feature_alpha_dropout(rt.ones(8, 16, 3, dtype=rt.float64), 0.5, True).numpy()
    assert all(len(np.unique(c)) == 1 for c in f.reshape(-1, 3))


def _alpha_value(p):
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    return -alpha * a + alpha * a * p


MODULES = [
    (lambda: nn.Dropout(), "Dropout(p=0.5, inplace=False)", (4, 5)),
    (lambda: nn.Dropout(0.2, True), "Dropout(p=0.2, inplace=True)", (4, 5)),
    (lambda: nn.Dropout1d(0.1), "Dropout1d(p=0.1, inplace=False)", (2, 3, 4)),
    (lambda: nn.Dropout2d(), "Dropout2d(p=0.5, inplace=False)", (2, 3, 4, 4)),
    (lambda: nn.Dropout3d(), "Dropout3d(p=0.5, inplace=False)", (2, 3, 2, 4, 4)),
    (lambda: nn.AlphaDropout(0.3), "AlphaDropout(p=0.3, inplace=False)", (4, 5)),
    (lambda: nn.FeatureAlphaDropout(0.3), "FeatureAlphaDropout(p=0.3, inplace=False)",
     (2, 3, 4)),
]


@pytest.mark.parametrize("ctor,text,shape", MODULES, ids=[m[1] for m in MODULES])
def test_module_table(ctor, text, shape):
    m = ctor()
    assert repr(m) == text and m.state_dict() == {}
    x = rt.randn(*shape, requires_grad=True)
    y = m(x * 1.0)
    assert y.shape == x.shape and y.dtype == rt.float32
    y.sum().backward()
    assert x.grad.shape == x.shape
    m.eval()
    np.testing.assert_array_equal(m(x).detach().numpy(), x.detach().numpy())
    assert m.double()(x.detach().double()).dtype == rt.float64


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_probability(p):
    for cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                nn.FeatureAlphaDropout):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, "
                                             f"but got {p}"):
            cls(p)
    with pytest.raises(ValueError, match="dropout probability"):
        F.dropout(rt.ones(3), p)


def test_errors():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                                           "4D input"):
        F.dropout1d(rt.ones(1, 2, 3, 4))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(rt.ones(3), 0.5, True)
