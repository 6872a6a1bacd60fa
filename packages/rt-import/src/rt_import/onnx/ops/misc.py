"""ONNX converters for Identity, Dropout, Range, Trilu, Einsum, Constant and ConstantOfShape.

Dropout: in inference (the default) the output is the input and the optional mask is all
ones (bool from Dropout-10 on; X's type before, as Dropout-7's type constraint says). It
drops when the node says it trains: the ``training_mode`` input from Dropout-12 on, or, when
that input is omitted (or the opset is older and ``is_test`` is not set), when the imported
module is in training mode (``module.train()``), so an imported model trains with dropout
like PyTorch's. Training keeps each element with probability 1 - ratio and scales it by
1 / (1 - ratio). The ``seed`` attribute is ignored: masks come from rt's global generator
(``rt.manual_seed``), so runs are reproducible through rt's seed, not the model's.

Range, ConstantOfShape and sparse Constants refuse outputs above ``MAX_ELEMENTS`` elements
with a FormatError (a hostile model must not make rt try a huge allocation).

    >>> from rt_import.onnx.registry import lookup
    >>> lookup("", "Dropout", 13).__name__
    'dropout'
"""
import math

import numpy as np
import onnx
from onnx import numpy_helper

import rt_autograd as rt

from rt_import.onnx.graph import ONNX_TO_RT_DTYPE
from rt_import.onnx.ops.elementwise import check_same_type, is_float, onnx_type_name
from rt_import.onnx.registry import converter, preparer

__all__ = ["MAX_ELEMENTS"]

#: The most elements Range, ConstantOfShape and a sparse Constant may produce (2**31: 8 GiB
#: of float32).
MAX_ELEMENTS = 2 ** 31


def _tensor(array):
    """An rt tensor owning a copy of a numpy array, 0-d arrays staying 0-d."""
    array = np.asarray(array)
    return rt.tensor(np.ascontiguousarray(array).reshape(array.shape))


@converter("Identity", 1, 13, 14, 16, 19, 21, 23, 24, 25)
def identity(node, x):
    """ONNX Identity: the input itself (tensors; rt has no sequence or optional values)."""
    if x is None:
        raise node.error("needs an input")
    return x


# --- Dropout --------------------------------------------------------------------------------

def _dropout(node, x, ratio, training, mask_dtype):
    if not is_float(x):
        raise node.error(f"takes floating point tensors, got {str(x.dtype)[10:]}")
    want_mask = node.num_outputs > 1 and node.output_names[1] != ""
    if not 0.0 <= ratio <= 1.0 or math.isnan(ratio):
        raise node.error(f"ratio must be in [0, 1), got {ratio}")
    if not training or ratio == 0.0:
        if not want_mask:
            return x
        return x, rt.ones(tuple(x.shape), dtype=mask_dtype)
    if ratio == 1.0:          # PyTorch's dropout with p=1 gives zeros (1/(1-p) is inf)
        keep = rt.zeros(tuple(x.shape), dtype=rt.bool)
        out = x * 0.0
    else:
        keep = rt.rand(tuple(x.shape)) >= ratio
        out = x * keep.to(x.dtype) * (1.0 / (1.0 - ratio))
    return (out, keep.to(mask_dtype)) if want_mask else out


def _dropout_attributes(node, x, mask_dtype):
    training = node.training and not node.attr("is_test", 0)
    return _dropout(node, x, float(node.attr("ratio", 0.5)), training, mask_dtype)


@converter("Dropout", 1, 6, 7)
def dropout_1(node, x):
    """ONNX Dropout-1/6/7: ``ratio`` attribute (0.5), ``is_test`` (opsets 1 and 6), a mask
    of X's type; see the module doc for when it drops."""
    return _dropout_attributes(node, x, x.dtype)


@converter("Dropout", 10)
def dropout_10(node, x):
    """ONNX Dropout-10: as Dropout-7 with a bool mask."""
    return _dropout_attributes(node, x, rt.bool)


@converter("Dropout", 12, 13, 22)
def dropout(node, x, ratio=None, training_mode=None):
    """ONNX Dropout-12..: optional ``ratio`` (0.5) and ``training_mode`` inputs; see the
    module doc for when it drops (an omitted ``training_mode`` follows ``module.training``)."""
    if ratio is not None:
        if ratio.numel() != 1:
            raise node.error("ratio must be a scalar")
        ratio = float(ratio.reshape(()).item())
    if training_mode is not None:
        if training_mode.numel() != 1 or training_mode.dtype != rt.bool:
            raise node.error("training_mode must be a bool scalar")
        training = bool(training_mode.reshape(()).item())
    else:
        training = node.training
    return _dropout(node, x, 0.5 if ratio is None else ratio, training, rt.bool)


# --- Range ----------------------------------------------------------------------------------

_STASH = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64}


def _scalar(node, t, name):
    if t is None or t.numel() != 1:
        raise node.error(f"{name} must be a scalar tensor")
    return t.reshape(()).item()


@converter("Range", 11, 27)
def range_(node, start, limit, delta):
    """ONNX Range: ``start + i * delta`` for i < max(ceil((limit - start) / delta), 0), in
    the inputs' type. Integers are computed exactly; float32/float64 in float64 (the
    reference uses numpy's float64 arange); float16/bfloat16 in the ``stash_type`` precision
    (Range-27, default float32)."""
    check_same_type(node, start, limit, delta)
    dtype = start.dtype
    if dtype == rt.bool or start.is_complex():
        raise node.error(f"Range is not defined for {str(dtype)[10:]} tensors")
    a, b, d = (_scalar(node, t, n) for t, n in ((start, "start"), (limit, "limit"),
                                               (delta, "delta")))
    if d == 0:
        raise node.error("delta must not be 0")
    if is_float(start):
        if not all(math.isfinite(v) for v in (a, b, d)):
            raise node.error(f"start, limit and delta must be finite, got {a}, {b}, {d}")
        if dtype in (rt.float16, rt.bfloat16):
            stash = node.attr("stash_type", onnx.TensorProto.FLOAT)
            if stash not in _STASH:
                raise node.error(f"stash_type must be FLOAT or DOUBLE, got "
                                 f"{onnx_type_name(stash)}")
            work = _STASH[stash]
        else:
            work = np.float64
        a, b, d = work(a), work(b), work(d)
        n = max(math.ceil(float((b - a) / d)), 0)
    else:
        n = max(-((a - b) // d), 0)           # exact ceil((b - a) / d) for integers
    if n > MAX_ELEMENTS:
        raise node.error(f"the range would have {n} elements (more than {MAX_ELEMENTS})")
    if is_float(start):
        values = a + np.arange(n, dtype=work) * d
        return _tensor(values.astype(work, copy=False)).to(dtype)
    return _tensor(a + np.arange(n, dtype=np.int64) * d).to(dtype)


# --- Trilu, Einsum --------------------------------------------------------------------------

@converter("Trilu", 14)
def trilu(node, x, k=None):
    """ONNX Trilu: the upper (``upper=1``, default) or lower triangle of the last two
    dimensions, from diagonal ``k`` (optional 0-d int64 input, default 0: positive k is
    above the main diagonal)."""
    if x.dim() < 2:
        raise node.error(f"needs an input of rank 2 or more, got rank {x.dim()}")
    diagonal = 0
    if k is not None:
        if is_float(k) or k.dtype == rt.bool:
            raise node.error("k must be an int64 scalar")
        diagonal = int(_scalar(node, k, "k"))
    rows, cols = x.shape[-2], x.shape[-1]
    diagonal = min(max(diagonal, -rows - 1), cols + 1)     # further out changes nothing
    return rt.triu(x, diagonal) if node.attr("upper", 1) else rt.tril(x, diagonal)


@converter("Einsum", 12, 28)
def einsum(node, *inputs):
    """ONNX Einsum with numpy's equation syntax (explicit ``->`` output or the implicit
    alphabetical one, ``...`` for broadcast dimensions), through ``rt.einsum``. bfloat16
    operands are accumulated in float32, as the reference."""
    equation = node.attr("equation")
    if not isinstance(equation, str) or not equation.strip():
        raise node.error("the 'equation' attribute is required")
    if not inputs or any(t is None for t in inputs):
        raise node.error("needs at least one input and no omitted ones")
    check_same_type(node, *inputs)
    equation = equation.replace(" ", "")
    dtype = inputs[0].dtype
    if dtype == rt.bfloat16:
        return rt.einsum(equation, *[t.to(rt.float32) for t in inputs]).to(dtype)
    try:
        return rt.einsum(equation, *inputs)
    except (RuntimeError, ValueError, IndexError, TypeError) as exc:
        raise node.error(f"equation {equation!r} does not fit the inputs' shapes "
                         f"{[tuple(t.shape) for t in inputs]}: {exc}") from None


# --- Constant, ConstantOfShape --------------------------------------------------------------

def _dense_from_sparse(node, sparse):
    """A dense rt tensor from a SparseTensorProto (``indices`` [NNZ] linear or [NNZ, rank])."""
    dims = [int(d) for d in sparse.dims]
    if any(d < 0 for d in dims):
        raise node.error(f"sparse_value has negative dims {dims}")
    size = math.prod(dims)
    if size > MAX_ELEMENTS:
        raise node.error(f"sparse_value would densify to {size} elements "
                         f"(more than {MAX_ELEMENTS})")
    if sparse.values.data_type not in ONNX_TO_RT_DTYPE:
        raise node.error(f"rt has no {onnx_type_name(sparse.values.data_type)} element type")
    try:
        values = numpy_helper.to_array(sparse.values).reshape(-1)
        indices = numpy_helper.to_array(sparse.indices).astype(np.int64)
    except Exception as exc:
        raise node.error(f"sparse_value cannot be decoded: {exc}") from None
    if indices.ndim == 2 and indices.shape[1] == len(dims) and len(dims):
        if (indices < 0).any() or (indices >= np.array(dims)).any():
            raise node.error("sparse_value has indices out of range")
        linear = np.ravel_multi_index(tuple(indices.T), dims) if size else indices[:, 0]
    elif indices.ndim == 1:
        linear = indices
    else:
        raise node.error(f"sparse_value indices of shape {indices.shape} do not fit dims "
                         f"{dims}")
    if linear.shape[0] != values.shape[0]:
        raise node.error(f"sparse_value has {values.shape[0]} values and "
                         f"{linear.shape[0]} indices")
    if (linear < 0).any() or (linear >= size).any():
        raise node.error("sparse_value has indices out of range")
    dense = np.zeros(size, dtype=values.dtype)
    dense[linear] = values
    return _tensor(dense.reshape(dims))


_CONSTANT_ATTRS = ("value", "sparse_value", "value_float", "value_floats", "value_int",
                   "value_ints", "value_string", "value_strings")


@converter("Constant", 1, 9, 11, 12, 13, 19, 21, 23, 24, 25)
def constant(node):
    """ONNX Constant: exactly one of ``value`` (a tensor), ``sparse_value`` (densified),
    ``value_float``/``value_int`` (0-d float32/int64), ``value_floats``/``value_ints``
    (1-D). String constants are refused: rt has no string tensors."""
    given = [a for a in _CONSTANT_ATTRS if node.has(a)]
    if len(given) != 1:
        raise node.error(f"needs exactly one of {', '.join(_CONSTANT_ATTRS)}, got "
                         f"{given or 'none'}")
    name = given[0]
    value = node.attr(name)
    if name == "value":
        return value
    if name == "sparse_value":
        return _dense_from_sparse(node, value)
    if name == "value_float":
        return rt.tensor(value, dtype=rt.float32)
    if name == "value_floats":
        return _tensor(np.asarray(value, dtype=np.float32).reshape(-1))
    if name == "value_int":
        return rt.tensor(value, dtype=rt.int64)
    if name == "value_ints":
        return _tensor(np.asarray(value, dtype=np.int64).reshape(-1))
    raise node.error(f"{name}: rt has no string tensors")


@preparer(constant)
def _prepare_constant(node):
    """A ``value`` Constant returns its attribute tensor, as the converter does (the other
    forms build a new tensor per call and run the converter)."""
    if [a for a in _CONSTANT_ATTRS if node.has(a)] != ["value"]:
        return None
    value = node.attr("value")
    return lambda: value


@converter("ConstantOfShape", 9, 20, 21, 23, 24, 25)
def constant_of_shape(node, shape):
    """ONNX ConstantOfShape: a tensor of the 1-D int64 ``shape`` input filled with the
    one-element ``value`` attribute (default float32 0); an empty shape gives a 0-d tensor."""
    if shape is None or is_float(shape) or shape.dtype == rt.bool or shape.dim() > 1:
        raise node.error("the shape input must be a 1-D int64 tensor")
    dims = [int(d) for d in shape.reshape(-1).tolist()]
    if any(d < 0 for d in dims):
        raise node.error(f"shape {dims} has a negative dimension")
    if math.prod(dims) > MAX_ELEMENTS:
        raise node.error(f"shape {dims} has more than {MAX_ELEMENTS} elements")
    value = node.attr("value")
    if value is None:
        return rt.zeros(dims, dtype=rt.float32)
    if value.numel() != 1:
        raise node.error(f"value must hold one element, got {value.numel()}")
    return rt.full(tuple(dims), value.reshape(()).item(), dtype=value.dtype)
