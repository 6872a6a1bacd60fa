"""In-place writes PyTorch records that are not arithmetic: writes into views of tensors that
do not require grad, views whose base was written through another view, fill_/zero_/random
fills, in-place comparisons; plus new_* factories, complex casts and resize guards."""
import numpy as np
import pytest

import rt_autograd as rt
from rt_autograd.testing import gradcheck, gradgradcheck

D = rt.float64


def leaf(values):
    return rt.tensor(values, dtype=D, requires_grad=True)


def test_copy_into_a_slice_of_a_plain_tensor_records_copyslices():
    w = leaf([1.0, 2.0])
    z = rt.zeros(3, dtype=D)
    z[:2].copy_(w)
    assert z.grad_fn.name() == "CopySlices"
    assert z.requires_grad
    (z * rt.tensor([3.0, 4.0, 5.0], dtype=D)).sum().backward()
    assert np.array_equal(w.grad.numpy(), [3.0, 4.0])


def test_setitem_through_a_chain_of_views_of_a_plain_tensor():
    w = leaf([1.0, 2.0])
    z = rt.zeros(2, 3, dtype=D)
    z[1][0:2] = w
    (z * z).sum().backward()
    assert np.array_equal(w.grad.numpy(), [2.0, 4.0])


def test_setitem_into_plain_tensor_gradcheck():
    def f(w):
        z = rt.zeros(2, 3, dtype=D)
        z[1, ::2] = w
        return (z * z).sum(0)
    assert gradcheck(f, (leaf([1.5, -2.0]),))
    assert gradgradcheck(f, (leaf([1.5, -2.0]),))


def test_view_sees_a_write_through_another_view():
    # PyTorch: a view's grad_fn is rebuilt when its base was written since
    x = rt.ones(2, 2, requires_grad=True)
    b = x * 1
    v1 = b[:, 0]
    b[0].mul_(2)
    v1.sum().backward()
    assert np.array_equal(x.grad.numpy(), [[2.0, 0.0], [1.0, 0.0]])


def test_view_sees_a_write_to_its_base():
    x = leaf([1.0, 2.0, 3.0])
    b = x * 1
    v = b[1:]
    b.mul_(x)                      # b = x * x
    g, = rt.autograd.grad(v.sum(), x)
    assert np.allclose(g.numpy(), [0.0, 4.0, 6.0])


def test_narrow_view_of_view_after_div_():
    x = rt.arange(12, dtype=D).add(1).requires_grad_()
    w = leaf([2.0])
    y = (x * 2).view(12)
    y.narrow(0, 4, 4).div_(w)
    y.sum().backward()
    want = np.full(12, 2.0)
    want[4:8] = 1.0
    assert np.allclose(x.grad.numpy(), want)
    assert np.allclose(w.grad.numpy(), [-(2 * np.arange(5, 9)).sum() / 4.0])


@pytest.mark.parametrize("name, args", [("zero_", ()), ("fill_", (5.0,))])
def test_fill_and_zero_cut_the_old_values_gradient(name, args):
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    getattr(y[1:], name)(*args)
    (y * y).sum().backward()
    assert np.array_equal(x.grad.numpy(), [8.0, 0.0, 0.0])


def test_fill_with_a_0d_tensor_value_sends_the_summed_gradient():
    v = rt.tensor(2.0, dtype=D, requires_grad=True)
    z = rt.zeros(3, dtype=D)
    z.fill_(v)
    (z * rt.tensor([1.0, 2.0, 3.0], dtype=D)).sum().backward()
    assert v.grad.item() == 6.0


@pytest.mark.parametrize("name, args", [("normal_", ()), ("uniform_", ()),
                                        ("exponential_", ()), ("bernoulli_", (0.5,))])
def test_random_fills_record_and_give_zero_gradient(name, args):
    x = leaf([1.0, 2.0])
    y = x * 1
    getattr(y, name)(*args)
    assert y.grad_fn is not None
    (y + x).sum().backward()
    assert np.array_equal(x.grad.numpy(), [1.0, 1.0])


def test_fill_on_a_leaf_that_requires_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation."):
        x.fill_(2.0)
    with rt.no_grad():
        x.fill_(2.0)
    assert x.item() == 2.0


def test_in_place_comparison_records_zero_gradient():
    x = leaf([0.2, 0.7])
    y = x * 1
    y.gt_(0.5)
    assert np.array_equal(y.detach().numpy(), [0.0, 1.0])
    (y + x).sum().backward()
    assert np.array_equal(x.grad.numpy(), [1.0, 1.0])


def test_new_factories_take_requires_grad():
    x = rt.ones(2, dtype=D)
    for name, args in [("new_zeros", ((2, 3),)), ("new_ones", (2,)), ("new_full", ((2,), 3.0)),
                       ("new_empty", (2,)), ("new_tensor", ([1.0, 2.0],))]:
        t = getattr(x, name)(*args, requires_grad=True)
        assert t.requires_grad and t.is_leaf and t.dtype == D, name


def test_resize_of_a_tensor_that_requires_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        x.resize_(3)
    y = rt.ones(2)
    y.resize_(3)
    assert tuple(y.shape) == (3,)


def test_complex_casts_are_differentiable():
    x = leaf([1.0, -2.0])
    assert gradcheck(lambda t: t.cdouble() * (1 + 2j), (x,))
    assert x.cfloat().grad_fn is not None
