"""The op table harness (PyTorch's OpInfo idea): one OpInfo line per op drives its tests.

Each op runs against its numpy reference for every dtype it supports, and for operands that
are contiguous, transposed, step-sliced, broadcast, 0-d and empty. The lines live in
``tests/op_db/*.py`` (one list per family); ``test_op_table.py`` collects them all.

Writing a line::

    OpInfo("exp", np.exp, dtypes=FLOAT_AND_COMPLEX, result="float")

- ``name``: the rt_tensor function (and, when ``method``, the Tensor method) to call.
- ``ref``: numpy function with the same positional arguments (numpy arrays in and out).
- ``arity``: how many tensor operands.
- ``dtypes``: dtype names the op supports (inputs are made in each).
- ``result``: the result dtype rule: "same" (the promoted input dtype), "float" (integers
  and bool become float32), "bool", "int64", or a dtype name.
- ``domain``: (low, high) for random float inputs; integer inputs use small values.
- ``kwargs``: a list of keyword-argument dicts; each is one sample (reductions: dims).
- ``layouts``: which operand layouts to test (default: all that make sense for the arity).
- ``inplace``/``out``: also test ``Tensor.<name>_`` and ``out=``.
- ``tol``: {dtype name: (rtol, atol)} overrides.
"""
import dataclasses
import math

import numpy as np

import rt_tensor as rtt

BOOL = ("bool",)
INTS = ("uint8", "int8", "int16", "int32", "int64")
SIGNED_INTS = ("int8", "int16", "int32", "int64")
FLOATS = ("float16", "bfloat16", "float32", "float64")
COMPLEX = ("complex64", "complex128")
ALL = BOOL + INTS + FLOATS + COMPLEX
NUMERIC = INTS + FLOATS + COMPLEX
REAL = INTS + FLOATS
FLOAT_AND_COMPLEX = FLOATS + COMPLEX
INTEGRAL = BOOL + INTS

LAYOUTS = ("contiguous", "transposed", "sliced", "broadcast", "zero_dim", "empty")

DEFAULT_TOL = {
    "float16": (1e-3, 1e-3), "bfloat16": (1.6e-2, 1e-2), "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7),
}


@dataclasses.dataclass
class OpInfo:
    name: str
    ref: object
    arity: int = 1
    dtypes: tuple = ALL
    result: object = "same"
    domain: tuple = (-3.0, 3.0)
    kwargs: list = dataclasses.field(default_factory=lambda: [{}])
    layouts: tuple = LAYOUTS
    method: bool = True
    inplace: bool = False
    out: bool = False
    tol: dict = dataclasses.field(default_factory=dict)
    int_domain: tuple = (-9, 10)

    def __str__(self):
        return self.name

    def tolerance(self, dtype_name):
        return self.tol.get(dtype_name, DEFAULT_TOL.get(dtype_name, (0, 0)))

    def expected_dtype(self, dtype_names):
        promoted = rtt.bool
        for d in dtype_names:
            promoted = rtt.promote_types(promoted, getattr(rtt, d))
        rule = self.result
        if rule == "same":
            return promoted
        if rule == "float":
            return promoted if (promoted.is_floating_point or promoted.is_complex) else rtt.float32
        if rule == "bool":
            return rtt.bool
        if rule == "int64":
            return rtt.int64
        if callable(rule):
            return rule(promoted)
        return getattr(rtt, rule)


def np_dtype(name):
    """numpy dtype used to hold values of an rt dtype (bfloat16 values live in float32)."""
    return np.float32 if name == "bfloat16" else np.dtype(name)


def make_array(shape, dtype_name, rng, op):
    """Random values of an rt dtype, exactly representable in it, as a numpy array."""
    if dtype_name == "bool":
        return rng.random(shape) < 0.5
    if dtype_name in INTS:
        lo, hi = op.int_domain
        if dtype_name == "uint8":
            lo = max(lo, 0)
        return rng.integers(lo, hi, size=shape).astype(dtype_name)
    lo, hi = op.domain
    if dtype_name in COMPLEX:
        a = rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)
        return a.astype(dtype_name)
    a = rng.uniform(lo, hi, shape).astype(np.float32)
    if dtype_name == "bfloat16":
        # round to bfloat16 so rt and numpy start from the same values
        return rtt.tensor(a).to(rtt.bfloat16).float().numpy().copy()
    return a.astype(dtype_name)


def to_rt(array, dtype_name):
    t = rtt.tensor(array)
    return t.to(getattr(rtt, dtype_name))


def layout_operands(layout, arity, dtype_names, rng, op):
    """(rt tensors, numpy arrays) for one layout: same values, the layout's strides."""
    tensors, arrays = [], []
    for k in range(arity):
        dn = dtype_names[k]
        if layout == "contiguous":
            a = make_array((3, 4), dn, rng, op)
            t = to_rt(a, dn)
        elif layout == "transposed":
            base = make_array((4, 3), dn, rng, op)
            t = to_rt(base, dn).t()
            a = base.T
        elif layout == "sliced":
            base = make_array((6, 9), dn, rng, op)
            t = to_rt(base, dn)[::2, 1::2]
            a = base[::2, 1::2]
        elif layout == "broadcast":
            shape = (3, 1) if k % 2 == 0 else (1, 4)
            if arity == 1:
                base = make_array((1, 4), dn, rng, op)
                t = to_rt(base, dn).expand(3, 4)
                a = np.broadcast_to(base, (3, 4))
            else:
                a = make_array(shape, dn, rng, op)
                t = to_rt(a, dn)
        elif layout == "zero_dim":
            a = make_array((), dn, rng, op)
            t = to_rt(a, dn)
        elif layout == "empty":
            a = make_array((0, 3), dn, rng, op)
            t = to_rt(a, dn)
        else:
            raise ValueError(layout)
        tensors.append(t)
        arrays.append(np.asarray(a))
    return tensors, arrays


def rt_result_to_numpy(result):
    if isinstance(result, (tuple, list)):
        return type(result)(rt_result_to_numpy(r) for r in result)
    if isinstance(result, rtt.Tensor):
        if result.dtype == rtt.bfloat16:
            return result.float().numpy()
        return result.numpy()
    return result


def assert_close(actual, expected, dtype_name, op, context=""):
    """Values equal within the dtype's tolerance; NaN matches NaN; shapes must match."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), context
        for a, e in zip(actual, expected):
            assert_close(a, e, dtype_name, op, context)
        return
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{context}: shape {actual.shape} != {expected.shape}"
    if actual.dtype.kind in "fc" or expected.dtype.kind in "fc":
        rtol, atol = op.tolerance(dtype_name)
        if expected.dtype == np.float16:
            expected = expected.astype(np.float32)
        np.testing.assert_allclose(actual.astype(np.complex128 if actual.dtype.kind == "c" else np.float64),
                                   expected.astype(np.complex128 if expected.dtype.kind == "c" else np.float64),
                                   rtol=rtol, atol=atol, equal_nan=True, err_msg=context)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=context)


def reference(op, arrays, dtype_names, kwargs):
    """numpy result computed in a wide type (the caller rounds it to the expected dtype):
    16-bit floats in float32, and integers in float64 when the op's result is floating."""
    exp_dtype = op.expected_dtype(dtype_names)
    float_result = exp_dtype.is_floating_point or exp_dtype.is_complex
    wide = []
    for a, dn in zip(arrays, dtype_names):
        if dn in ("float16", "bfloat16"):
            wide.append(a.astype(np.float32))
        elif float_result and dn in BOOL + INTS:
            wide.append(a.astype(np.float64))
        else:
            wide.append(a)
    with np.errstate(all="ignore"):
        return op.ref(*wide, **kwargs)
