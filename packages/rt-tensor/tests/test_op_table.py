"""Runs every line of the op table (tests/op_db/*.py) over dtypes and layouts; see
tests/opinfo.py for the harness and how to add a line."""
import importlib
import pathlib
import sys

import numpy as np
import pytest

import rt_tensor as rtt

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from opinfo import (OpInfo, layout_operands, reference, rt_result_to_numpy, assert_close,  # noqa: E402
                    np_dtype)

OP_DB = []
for path in sorted((pathlib.Path(__file__).parent / "op_db").glob("[!_]*.py")):
    module = importlib.import_module(f"op_db.{path.stem}")
    OP_DB.extend(module.OPS)


def _cases():
    for op in OP_DB:
        for layout in op.layouts:
            for dn in op.dtypes:
                yield pytest.param(op, layout, dn, id=f"{op.name}-{layout}-{dn}")


def _expected_array(op, expected, exp_dtype):
    """Round numpy's result to the rt result dtype (numpy may have promoted differently)."""
    if isinstance(expected, tuple):
        return tuple(_expected_array(op, e, None) for e in expected)
    expected = np.asarray(expected)
    if exp_dtype is None:
        return expected
    if exp_dtype == rtt.bfloat16:
        return rtt.tensor(expected.astype(np.float32)).to(rtt.bfloat16).float().numpy()
    return expected.astype(np_dtype(exp_dtype.name))


@pytest.mark.parametrize("op,layout,dtype_name", list(_cases()))
def test_op(op, layout, dtype_name):
    rng = np.random.default_rng(abs(hash((op.name, layout, dtype_name))) % 2**32)
    names = [dtype_name] * op.arity
    tensors, arrays = layout_operands(layout, op.arity, names, rng, op)
    fn = getattr(rtt, op.name)
    exp_dtype = op.expected_dtype(names)
    for kwargs in op.kwargs:
        context = f"{op.name} {layout} {dtype_name} {kwargs}"
        result = fn(*tensors, **kwargs)
        expected = _expected_array(op, reference(op, arrays, names, kwargs),
                                   exp_dtype if isinstance(result, rtt.Tensor) else None)
        if isinstance(result, rtt.Tensor):
            assert result.dtype == exp_dtype, f"{context}: dtype {result.dtype} != {exp_dtype}"
        tol_name = exp_dtype.name if (exp_dtype.is_floating_point or exp_dtype.is_complex) else dtype_name
        assert_close(rt_result_to_numpy(result), expected, tol_name, op, context)
        if op.method:
            method_result = getattr(tensors[0], op.name)(*tensors[1:], **kwargs)
            assert_close(rt_result_to_numpy(method_result), expected, tol_name, op,
                         context + " (method)")
        if op.out and isinstance(result, rtt.Tensor):
            out = rtt.empty(result.shape, dtype=result.dtype)
            returned = fn(*tensors, out=out, **kwargs)
            assert returned is out
            assert_close(rt_result_to_numpy(out), expected, tol_name, op, context + " (out=)")
        if op.inplace and isinstance(result, rtt.Tensor) and result.dtype == tensors[0].dtype \
                and tuple(result.shape) == tuple(tensors[0].shape) and layout != "broadcast":
            target = tensors[0].clone()
            returned = getattr(target, op.name + "_")(*tensors[1:], **kwargs)
            assert returned is target
            assert_close(rt_result_to_numpy(target), expected, tol_name, op, context + " (inplace)")


def test_table_is_not_empty():
    assert len(OP_DB) > 0
    seen = set()
    for op in OP_DB:
        for d in op.dtypes:
            key = (op.name, str(op.kwargs), d)
            assert key not in seen, f"two lines test {op.name} {op.kwargs} on {d}"
            seen.add(key)
