"""Gradients of joins (rt_autograd/_ops/join.py): cat / concat / concatenate, stack, hstack,
vstack / row_stack, dstack, column_stack, block_diag. Forward against rt_tensor and numpy;
gradcheck and gradgradcheck with several inputs (contiguous and not, some not requiring grad,
mixed dtypes); complex128; legacy empty tensors; grad_fn names; out=."""
import numpy as np
import pytest

import rt_autograd as rt
from rt_autograd.testing import gradcheck, gradgradcheck


def _values(shape, seed, dtype=rt.float64):
    gen = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    arr = (np.linspace(0.3, 2.0, n)[gen.permutation(n)] * gen.choice([-1.0, 1.0], n)).reshape(shape)
    if dtype == rt.complex128:
        arr = arr + 1j * np.linspace(0.4, 1.7, n)[gen.permutation(n)].reshape(shape)
    return arr


def leaf(shape, seed=0, dtype=rt.float64, noncontiguous=False):
    if noncontiguous:
        base = rt.tensor(_values(tuple(shape) + (2,), seed, dtype), dtype=dtype)
        return base[..., 1].detach().requires_grad_(True)
    return rt.tensor(_values(shape, seed, dtype), dtype=dtype, requires_grad=True)


def _np(t):
    return t.detach().numpy()


# name: (function of the inputs, input shapes, numpy reference)
OPS = {
    "cat0": (lambda *t: rt.cat(t), [(2, 3), (1, 3), (3, 3)], lambda *a: np.concatenate(a)),
    "cat1": (lambda *t: rt.cat(list(t), 1), [(2, 3), (2, 1)], lambda *a: np.concatenate(a, 1)),
    "cat_neg": (lambda *t: rt.cat(t, dim=-1), [(2, 1, 2), (2, 1, 3)],
                lambda *a: np.concatenate(a, -1)),
    "concat": (lambda *t: rt.concat(t, 0), [(1, 2), (2, 2)], lambda *a: np.concatenate(a)),
    "concatenate": (lambda *t: rt.concatenate(t, 1), [(2, 2), (2, 2)],
                    lambda *a: np.concatenate(a, 1)),
    "cat_legacy_empty": (lambda *t: rt.cat([t[0], rt.zeros(0, dtype=rt.float64), t[1]], 1),
                         [(2, 2), (2, 1)], lambda *a: np.concatenate(a, 1)),
    "cat_one": (lambda *t: rt.cat(t), [(3,)], lambda *a: a[0]),
    "stack0": (lambda *t: rt.stack(t), [(2, 3), (2, 3)], lambda *a: np.stack(a)),
    "stack1": (lambda *t: rt.stack(t, 1), [(3,), (3,), (3,)], lambda *a: np.stack(a, 1)),
    "stack_neg": (lambda *t: rt.stack(list(t), -1), [(2, 2), (2, 2)], lambda *a: np.stack(a, -1)),
    "stack_0d": (lambda *t: rt.stack(t), [(), ()], lambda *a: np.stack(a)),
    "hstack_1d": (lambda *t: rt.hstack(t), [(2,), (3,)], lambda *a: np.hstack(a)),
    "hstack_2d": (lambda *t: rt.hstack(t), [(2, 1), (2, 3)], lambda *a: np.hstack(a)),
    "vstack": (lambda *t: rt.vstack(t), [(3,), (2, 3)], lambda *a: np.vstack(a)),
    "row_stack": (lambda *t: rt.row_stack(t), [(3,), (3,)], lambda *a: np.vstack(a)),
    "dstack": (lambda *t: rt.dstack(t), [(2,), (1, 2), (1, 2, 2)], lambda *a: np.dstack(a)),
    "column_stack": (lambda *t: rt.column_stack(t), [(3,), (3, 2)],
                     lambda *a: np.column_stack(a)),
    "column_stack_0d": (lambda *t: rt.column_stack(t), [(), ()], lambda *a: np.column_stack(a)),
    "block_diag": (lambda *t: rt.block_diag(*t), [(2, 3), (1,), ()], None),
    "block_diag_list": (lambda *t: rt.block_diag(*list(t)), [(1, 2), (2, 1)], None),
}


def _inputs(shapes, seed, dtype=rt.float64, noncontiguous=False):
    return tuple(leaf(s, seed + i, dtype, noncontiguous and len(s) > 0)
                 for i, s in enumerate(shapes))


@pytest.mark.parametrize("name", sorted(OPS))
def test_forward(name):
    fn, shapes, ref = OPS[name]
    xs = _inputs(shapes, 1)
    out = fn(*xs)
    plain = fn(*[x.detach() for x in xs])
    assert out.shape == plain.shape and out.dtype == plain.dtype
    np.testing.assert_array_equal(_np(out), _np(plain))
    assert out.requires_grad and not plain.requires_grad
    if ref is not None:
        np.testing.assert_array_equal(_np(out), ref(*[_np(x) for x in xs]))


@pytest.mark.parametrize("noncontiguous", [False, True])
@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_and_gradgradcheck(name, noncontiguous):
    fn, shapes, _ = OPS[name]
    xs = _inputs(shapes, 2, noncontiguous=noncontiguous)
    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)


@pytest.mark.parametrize("name", ["cat0", "stack1", "hstack_2d", "dstack", "block_diag"])
def test_complex(name):
    fn, shapes, _ = OPS[name]
    xs = _inputs(shapes, 3, dtype=rt.complex128)
    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)


def test_some_inputs_do_not_require_grad():
    a = leaf((2, 2))
    b = rt.ones(1, 2, dtype=rt.float64)
    c = leaf((3, 2), seed=1)
    out = rt.cat([a, b, c])
    (out * rt.arange(12.0, dtype=rt.float64).reshape(6, 2)).sum().backward()
    np.testing.assert_array_equal(_np(a.grad), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(_np(c.grad), [[6, 7], [8, 9], [10, 11]])
    assert b.grad is None
    assert gradcheck(lambda x, y: rt.stack([x, b[0], y[0]]), (leaf((2,)), leaf((3, 2), seed=2)))


def test_mixed_dtypes_gradients_come_back_in_each_dtype():
    a = rt.ones(2, dtype=rt.float32, requires_grad=True)
    b = rt.ones(3, dtype=rt.float64, requires_grad=True)
    out = rt.cat([a, b])
    assert out.dtype == rt.float64
    (out * 2).sum().backward()
    assert a.grad.dtype == rt.float32 and b.grad.dtype == rt.float64
    np.testing.assert_array_equal(_np(a.grad), [2, 2])
    c = rt.ones(2, dtype=rt.complex128, requires_grad=True)
    out = rt.stack([a, c])
    assert out.dtype == rt.complex128
    a.grad = None
    rt.real(out * (1 + 1j)).sum().backward()
    assert a.grad.dtype == rt.float32
    np.testing.assert_array_equal(_np(a.grad), [1, 1])


def test_legacy_empty_input_gets_no_gradient():
    e = rt.zeros(0, dtype=rt.float64, requires_grad=True)
    a = leaf((2, 2))
    rt.cat([e, a, e], 1).sum().backward()
    assert e.grad is None
    np.testing.assert_array_equal(_np(a.grad), np.ones((2, 2)))
    f = rt.zeros(0, dtype=rt.float64, requires_grad=True)
    out = rt.cat([f, f])
    assert out.shape == (0,) and out.requires_grad


def test_block_diag_gradients():
    a = leaf((2, 2))
    s = leaf((), seed=1)
    v = leaf((3,), seed=2)
    w = rt.arange(36.0, dtype=rt.float64).reshape(6, 6)    # (2 + 1 + 1) x (2 + 1 + 3)
    out = rt.block_diag(a, s, v)
    assert out.shape == (4, 6)
    (out * w[:4]).sum().backward()
    np.testing.assert_array_equal(_np(a.grad), [[0, 1], [6, 7]])
    np.testing.assert_array_equal(_np(s.grad), 14)
    np.testing.assert_array_equal(_np(v.grad), [21, 22, 23])


def test_grad_fn_names():
    a, b = leaf((2, 2)), leaf((2, 2), seed=1)
    assert rt.cat([a, b]).grad_fn.name() == "CatBackward0"
    assert rt.stack([a, b]).grad_fn.name() == "StackBackward0"
    assert rt.hstack([a, b]).grad_fn.name() == "CatBackward0"
    assert rt.vstack([a, b]).grad_fn.name() == "CatBackward0"
    assert rt.block_diag(a, b).grad_fn.name() == "BlockDiagBackward0"
    assert len(rt.cat([a, b]).grad_fn.next_functions) == 2


def test_out_and_errors():
    a = leaf((2, 2))
    out = rt.empty(4, 2, dtype=rt.float64)
    msg = "out=... arguments don't support automatic differentiation"
    with pytest.raises(RuntimeError, match=msg):
        rt.cat([a, a], out=out)
    with pytest.raises(RuntimeError, match=msg):
        rt.stack([a, a], out=rt.empty(2, 2, 2, dtype=rt.float64))
    with rt.no_grad():
        rt.cat([a, a], out=out)
    np.testing.assert_array_equal(_np(out), np.concatenate([_np(a)] * 2))
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        rt.cat([a, leaf((2, 3))])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        rt.stack([a, leaf((2, 3))])
    with pytest.raises(TypeError, match="must be tuple of Tensors"):
        rt.cat(a)
    with pytest.raises(RuntimeError, match="zero-dimensional tensor"):
        rt.cat([leaf(()), leaf(())])
    with pytest.raises(RuntimeError, match="Input tensors must have 2 or fewer dimensions"):
        rt.block_diag(leaf((1, 1, 1)))
