"""Compatibility area "autograd": rt_autograd's engine as a PyTorch user drives it, checked
against hand-derived gradients and numpy central differences in float64: composite
functions through many ops, broadcasting (gradients summed back to each input's shape),
non-scalar ``backward(gradient)``, accumulation into ``.grad`` across calls, higher-order
derivatives with ``create_graph``, ``autograd.grad`` w.r.t. intermediates, custom
``autograd.Function``, hooks and ``retain_grad``, the grad modes, and PyTorch's errors (a
second backward through a freed graph, a saved tensor modified in place, ``.grad`` of a
non-leaf).

Example of the contract under test::

    >>> x = rt.tensor(3.0, requires_grad=True)
    >>> (x ** 3).backward(); x.grad.item()
    27.0
"""
import numpy as np
import pytest

import rt_autograd as rt
import rt_nn.functional as F
from rt_autograd.testing import gradcheck, gradgradcheck


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar numpy function f at x."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def _composite(L, x, w, b):
    """softplus(x @ w + b) weighted by a softmax over columns, squared and averaged: a small
    network's worth of ops (matmul, broadcasting add, exp/log, reductions, division)."""
    h = x @ w + b
    sp = L.log(1 + L.exp(h))
    e = L.exp(h - h.max())
    att = e / e.sum(1, keepdims=True) if L is np else e / e.sum(1, keepdim=True)
    return ((sp * att) ** 2).mean()


def test_composite_function_gradients_match_central_differences():
    xn, wn, bn = _rand(4, 3, seed=1), _rand(3, 5, seed=2), _rand(5, seed=3)
    x, w, b = (rt.from_numpy(a.copy()).requires_grad_() for a in (xn, wn, bn))
    loss = _composite(rt, x, w, b)
    assert loss.item() == pytest.approx(_composite(np, xn, wn, bn), rel=1e-13)
    loss.backward()
    num_x = _numeric_grad(lambda a: _composite(np, a, wn, bn), xn)
    num_w = _numeric_grad(lambda a: _composite(np, xn, a, bn), wn)
    num_b = _numeric_grad(lambda a: _composite(np, xn, wn, a), bn)
    np.testing.assert_allclose(x.grad.numpy(), num_x, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(w.grad.numpy(), num_w, rtol=1e-6, atol=1e-9)
    # b was broadcast over 4 rows: its gradient is summed back to shape (5,)
    assert tuple(b.grad.shape) == (5,)
    np.testing.assert_allclose(b.grad.numpy(), num_b, rtol=1e-6, atol=1e-9)


def test_gradcheck_and_gradgradcheck_on_nn_functionals():
    x = rt.from_numpy(_rand(2, 3, 5, 5, seed=4)).requires_grad_()
    w = rt.from_numpy(_rand(4, 3, 3, 3, seed=5)).requires_grad_()
    assert gradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w))
    y = rt.from_numpy(_rand(3, 6, seed=6)).requires_grad_()
    assert gradcheck(lambda a: F.layer_norm(a, (6,)), (y,))
    assert gradgradcheck(lambda a: F.log_softmax(a, dim=1), (y,))
    assert gradgradcheck(lambda a: rt.tanh(a) * a.sin(), (y,))


def test_non_scalar_backward_and_accumulation():
    x = rt.tensor([1.0, 2.0, 3.0], dtype=rt.float64, requires_grad=True)
    y = x * x                                          # dy_i/dx_i = 2 x_i
    y.backward(rt.tensor([1.0, 0.5, -1.0], dtype=rt.float64))
    assert x.grad.tolist() == [2.0, 2.0, -6.0]
    (3 * x).sum().backward()                           # accumulates: + 3
    assert x.grad.tolist() == [5.0, 5.0, -3.0]
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()


def test_higher_order_derivatives():
    x = rt.tensor([0.5, -1.5, 2.0], dtype=rt.float64, requires_grad=True)
    y = (x ** 3 + rt.sin(x)).sum()
    (g,) = rt.autograd.grad(y, x, create_graph=True)
    xn = x.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), 3 * xn ** 2 + np.cos(xn), rtol=1e-14)
    (h,) = rt.autograd.grad(g.sum(), x, create_graph=True)
    np.testing.assert_allclose(h.detach().numpy(), 6 * xn - np.sin(xn), rtol=1e-14)
    (t,) = rt.autograd.grad(h.sum(), x)
    np.testing.assert_allclose(t.numpy(), 6 - np.cos(xn), rtol=1e-14)


def test_grad_with_respect_to_an_intermediate_and_retain_grad():
    x = rt.tensor([1.0, 2.0], dtype=rt.float64, requires_grad=True)
    h = x.exp()
    h.retain_grad()
    out = (h * h).sum()
    (gh,) = rt.autograd.grad(out, h, retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-15)
    # as in PyTorch 2.x, retain_grad's hook fires for autograd.grad too, and .grad accumulates
    np.testing.assert_allclose(h.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-15)
    assert x.grad is None                              # autograd.grad fills no leaf's .grad
    out.backward()
    np.testing.assert_allclose(h.grad.numpy(), 4 * np.exp([1.0, 2.0]), rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([2.0, 4.0]), rtol=1e-15)


def test_custom_function_with_hand_written_backward():
    class Cube(rt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = rt.tensor([1.0, -2.0, 0.5], dtype=rt.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn is not None and y.tolist() == [1.0, -8.0, 0.125]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0, 0.75]
    assert gradcheck(Cube.apply, (rt.from_numpy(_rand(4, seed=7)).requires_grad_(),))


def test_hooks_see_and_replace_gradients():
    x = rt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    h = x * 3
    h.register_hook(lambda g: g * 10)                 # a hook's return value replaces g
    h.sum().backward()
    assert seen == [[30.0, 30.0]]
    assert x.grad.tolist() == [30.0, 30.0]


def test_grad_modes():
    x = rt.ones(2, requires_grad=True)
    with rt.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with rt.inference_mode():
        z = x + 1
    assert not z.requires_grad
    with rt.set_grad_enabled(False):
        assert not rt.is_grad_enabled()
        with rt.enable_grad():
            assert (x * 2).requires_grad
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf


def test_pytorchs_errors():
    x = rt.ones(3, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()                                   # the graph's buffers were freed
    a = rt.ones(3, requires_grad=True) * 1
    b = a.sigmoid()                                    # sigmoid saves its output
    b.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    leaf = rt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.add_(1)
    with pytest.raises(RuntimeError, match="does not require grad"):
        rt.ones(2).sum().backward()


def test_gradients_flow_through_views_and_indexing():
    xn = _rand(4, 5, seed=8)
    x = rt.from_numpy(xn.copy()).requires_grad_()
    y = x.t()[1:4].reshape(-1) * rt.arange(12, dtype=rt.float64)
    z = x[[0, 0, 3], [1, 1, 2]].sum()                  # repeated index: gradients add up
    (y.sum() + z).backward()
    ref = np.zeros((4, 5))
    ref.T[1:4] = np.arange(12.0).reshape(3, 4)
    ref[0, 1] += 2
    ref[3, 2] += 1
    np.testing.assert_array_equal(x.grad.numpy(), ref)
