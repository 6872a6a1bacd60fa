"""Type promotion against PyTorch: every pair of dtypes, 0-d tensors and Python scalars,
for add, mul and true division. The result dtype must be PyTorch's and the values equal
within the precision of the dtypes involved.

One documented difference: rt has no complex32 (PyTorch's experimental ComplexHalf). Where
PyTorch promotes float16 with a complex 0-d tensor or scalar to complex32 (or refuses the op
because complex32 lacks it), rt gives complex64, and is compared with PyTorch computing the
same op with the float16 operand as float32.
"""
import itertools
import operator
import warnings

import numpy as np
import pytest

import rt_tensor as rtt

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]
OPS = {"add": operator.add, "mul": operator.mul, "div": operator.truediv}
# values that every dtype holds exactly and that keep every op finite and in range
VALUES = {"bool": [True, True, False], "uint8": [1, 2, 3], "default": [1, 2, 3]}
SCALARS = [2, -3, 2.5, True, 1.5 - 2j]
TOL = {"float16": 2e-3, "bfloat16": 1.6e-2, "complex64": 1e-6, "float32": 1e-6}


def _vals(dtype, zero_dim):
    v = VALUES.get(dtype, VALUES["default"])
    if dtype == "bool":
        v = [True, True, True] if zero_dim else v
    return v[1] if zero_dim else v


def _pair(dtype, zero_dim=False, divisor=False):
    """(rt tensor, torch factory): the factory takes `up` (float16 -> float32 for torch)."""
    v = _vals(dtype, zero_dim)
    if divisor and dtype == "bool":
        v = True if zero_dim else [True, True, True]
    r = rtt.tensor(v, dtype=getattr(rtt, dtype))
    t = torch.tensor(v, dtype=getattr(torch, dtype))
    t_up = t.float() if dtype == "float16" else t
    return r, (lambda up=False: t_up if up else t)


def _np(x):
    """rt or torch tensor -> numpy (bfloat16 via float32)."""
    if isinstance(x, torch.Tensor):
        x = x.float() if x.dtype == torch.bfloat16 else x
        return x.numpy()
    x = x.float() if x.dtype == rtt.bfloat16 else x
    return np.array(x.numpy())


def _name(dt):
    return str(dt).rsplit(".", 1)[-1]


def _check(r_out, t_out, context, dtypes):
    assert _name(r_out.dtype) == _name(t_out.dtype), \
        f"{context}: rt gives {_name(r_out.dtype)}, PyTorch gives {_name(t_out.dtype)}"
    assert tuple(r_out.shape) == tuple(t_out.shape), context
    # PyTorch may compute in the lowest precision involved (e.g. a bfloat16 reciprocal)
    tol = max([TOL.get(_name(t_out.dtype), 1e-12)] + [TOL.get(d, 0) for d in dtypes])
    np.testing.assert_allclose(_np(r_out), _np(t_out), rtol=tol, atol=tol, err_msg=context)


def _torch_or_error(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # "ComplexHalf support is experimental"
            return fn(), None
    except Exception as exc:          # PyTorch refuses some combinations; so must rt
        return None, exc


def _is_complex32_case(t_out, t_err):
    if t_out is not None:
        return t_out.dtype == torch.complex32
    return "ComplexHalf" in str(t_err) or "complex32" in str(t_err).lower()


def _compare(rt_fn, torch_fn, context, dtypes):
    """torch_fn(up): the op on torch tensors; up=True gives float16 operands as float32."""
    t_out, t_err = _torch_or_error(lambda: torch_fn(False))
    if _is_complex32_case(t_out, t_err):
        t_out, t_err = _torch_or_error(lambda: torch_fn(True))
        assert t_err is None and t_out.dtype == torch.complex64, (context, t_err)
    if t_err is not None:
        with pytest.raises(type(t_err)):
            rt_fn()
        return
    _check(rt_fn(), t_out, context, dtypes)


@pytest.mark.parametrize("op_name", OPS)
@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_tensor_tensor(op_name, a, b):
    op = OPS[op_name]
    ra, ta = _pair(a)
    rb, tb = _pair(b, divisor=True)
    _compare(lambda: op(ra, rb), lambda up: op(ta(up), tb(up)), f"{a} {op_name} {b}", (a, b))


@pytest.mark.parametrize("op_name", OPS)
@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_tensor_zero_dim(op_name, a, b):
    """A 0-d tensor does not raise precision within a kind (only across kinds)."""
    op = OPS[op_name]
    ra, ta = _pair(a)
    rb, tb = _pair(b, zero_dim=True, divisor=True)
    _compare(lambda: op(ra, rb), lambda up: op(ta(up), tb(up)), f"{a} {op_name} 0-d {b}", (a, b))
    _compare(lambda: op(rb, ra), lambda up: op(tb(up), ta(up)), f"0-d {b} {op_name} {a}", (a, b))


@pytest.mark.parametrize("op_name", OPS)
@pytest.mark.parametrize("a,b", [(a, b) for a in ["bool", "int8", "int64", "float16", "float64",
                                                  "complex64"]
                                 for b in ["bool", "uint8", "int32", "bfloat16", "float32",
                                           "complex128"]])
def test_zero_dim_zero_dim(op_name, a, b):
    op = OPS[op_name]
    ra, ta = _pair(a, zero_dim=True)
    rb, tb = _pair(b, zero_dim=True, divisor=True)
    _compare(lambda: op(ra, rb), lambda up: op(ta(up), tb(up)), f"0-d {a} {op_name} 0-d {b}",
             (a, b))


@pytest.mark.parametrize("op_name", OPS)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("a", DTYPES)
def test_tensor_python_scalar(op_name, scalar, a):
    """Python scalars: bool < int < float < complex by kind, never by size."""
    op = OPS[op_name]
    ra, ta = _pair(a)
    _compare(lambda: op(ra, scalar), lambda up: op(ta(up), scalar), f"{a} {op_name} {scalar!r}",
             (a,))
    if a == "bool" and op_name == "div":
        return                      # scalar / bool tensor: division by False is not the point
    _compare(lambda: op(scalar, ra), lambda up: op(scalar, ta(up)), f"{scalar!r} {op_name} {a}",
             (a,))


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promote_types(a, b):
    r = rtt.promote_types(getattr(rtt, a), getattr(rtt, b))
    t = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert _name(r) == _name(t)


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_can_cast(a, b):
    assert rtt.can_cast(getattr(rtt, a), getattr(rtt, b)) == \
        torch.can_cast(getattr(torch, a), getattr(torch, b))
