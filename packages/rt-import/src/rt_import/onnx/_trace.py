"""The tracer behind ``rt_import.export_onnx``: it runs a module's forward once on example
inputs and records every rt op applied to the traced values as ONNX nodes.

How it sees the ops (no change to rt_autograd or rt_nn, and nothing slower outside an export):

* **Values.** The example inputs, and for the duration of the trace the module's parameters
  and buffers, are replaced by ``TraceTensor`` objects: Python subclasses of
  ``rt_autograd.Tensor`` that share the original storage and carry the ONNX value name. Every
  op result that depends on them is a ``TraceTensor`` again.
* **Methods and operators.** ``TraceTensor`` overrides each differentiable method
  (``rt_autograd``'s ``METHODS`` table), each data method of ``rt_tensor.Tensor`` and the
  operators (``x + y``, ``x[i]``, ``2 * x``: Python calls a subclass's reflected operator first).
* **Functions.** The public op functions (``rt_autograd``'s ``FUNCTIONS``, the top-level
  ``rt_autograd``/``rt_tensor`` ops, ``rt_nn.functional``) are replaced by recorders in every
  loaded module namespace that refers to them (``from rt_nn._functional.linear import linear``
  included) while the trace runs, then restored. Recorders in other threads pass straight
  through.

A recorded op runs for real on plain aliases of its inputs (so the numbers are rt's own, and
the op's inner calls are not recorded), then its *exporter* (``_export_ops.py``) emits the
ONNX nodes from the arguments and the real outputs. An op without an exporter is *traced
through*: its implementation runs on the traced values, so a composite op (``mish`` as
``x * tanh(softplus(x))``) is recorded as its parts. If anything the tracer cannot see
computes a value, the export fails with ``OnnxExportError`` naming it, never with a silently
wrong graph:

* an op traced through that returns a value not built from recorded ops (a kernel call);
* a tensor computed outside the tracer from traced values (traced floating tensors require
  grad, so such a tensor carries an autograd node, which the error names);
* a Python value read from traced data (``x.item()``, ``bool(x)``, ``x.tolist()``);
* a traced value used after an in-place op changed it through an alias (the graph is SSA:
  an in-place op gives its target a new name, aliases that would see the change go stale);
* numpy reading a traced value (``np.asarray(x)``).

Symbolic sizes: with ``dynamic_axes``, ``x.shape`` / ``x.size()`` / ``x.numel()`` of a
traced value give ``SymInt``s for its symbolic dims (known from ONNX shape inference of the
graph so far), so sizes computed from them (``x.view(x.size(0) * heads, -1)``,
``rt.zeros(x.size(0), 4)``, ``x[:, :n]``) are computed in the graph.

What it cannot see: code that calls rt_tensor's kernels directly on traced values
(``rt_tensor.Tensor.add(x, 1)``, unbound base-class methods, numpy on their results) computes
a plain tensor the tracer takes for a constant. Such a kernel writing a traced value in place
(``rt_tensor.Tensor.add_(x, 1)``) is caught: every traced value keeps the version counter it
had when it got its name, and a newer one on use means an unrecorded write. For the rest,
``export_onnx`` verifies the finished graph against the module on inputs with other values
(``export.py``), so such a constant fails the export instead of shipping. Python ints taken
from static dims are constants, as they are in ``torch.onnx``'s tracer.
"""
import contextlib
import functools
import importlib
import sys
import threading
import types
import weakref

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import rt_autograd as rt
import rt_nn
import rt_tensor as rtt
from rt_autograd._autograd import _make_subclass

__all__ = ["OnnxExportError", "exporter", "EXPORTERS", "Tracer", "TraceTensor",
           "RT_TO_ONNX_DTYPE", "tensor_proto"]

_Base = rt.Tensor


class OnnxExportError(RuntimeError):
    """An rt module that cannot be exported to ONNX as traced: the message names the op (or
    the Python construct) and says why."""


# ---- exporter registry --------------------------------------------------------------------

EXPORTERS = {}


def exporter(*names):
    """Register the decorated function as the ONNX exporter of the ops ``names``: registry
    names of rt_autograd ops and methods (``"add"``, ``"view"``, ``"relu_"``), top-level
    rt_tensor ops (``"argmax"``), operators (``"__radd__"``), ``rt_nn.functional`` functions
    as ``"F.<name>"``. See docs/adding-an-onnx-op.md."""
    def deco(fn):
        for n in names:
            if n in EXPORTERS:
                raise ValueError(f"an ONNX exporter for {n!r} exists")
            EXPORTERS[n] = fn
        return fn
    return deco


# ---- dtypes and tensors -------------------------------------------------------------------

RT_TO_ONNX_DTYPE = {
    rt.float32: TensorProto.FLOAT, rt.float64: TensorProto.DOUBLE,
    rt.float16: TensorProto.FLOAT16, rt.bfloat16: TensorProto.BFLOAT16,
    rt.int8: TensorProto.INT8, rt.int16: TensorProto.INT16, rt.int32: TensorProto.INT32,
    rt.int64: TensorProto.INT64, rt.uint8: TensorProto.UINT8, rt.bool: TensorProto.BOOL,
    rt.complex64: TensorProto.COMPLEX64, rt.complex128: TensorProto.COMPLEX128,
}
_NP_DTYPE = {rt.float32: np.float32, rt.float64: np.float64, rt.float16: np.float16,
             rt.int8: np.int8, rt.int16: np.int16, rt.int32: np.int32, rt.int64: np.int64,
             rt.uint8: np.uint8, rt.bool: np.bool_, rt.complex64: np.complex64,
             rt.complex128: np.complex128}


def onnx_dtype(dtype):
    try:
        return RT_TO_ONNX_DTYPE[dtype]
    except KeyError:
        raise OnnxExportError(f"rt dtype {dtype} has no ONNX element type") from None


def _plain(t):
    """A plain rt_autograd Tensor sharing ``t``'s storage and geometry, without history."""
    return _Base.detach(t)


def tensor_proto(name, value, dtype=None):
    """A TensorProto named ``name`` holding ``value`` (an rt tensor, numpy array or Python
    scalar) as ``dtype`` (an rt dtype; default: the value's own)."""
    if isinstance(value, rtt.Tensor):
        t = _plain(value) if isinstance(value, _Base) else value
        if dtype is not None and t.dtype != dtype:
            t = rtt.Tensor.to(t, dtype)
        dtype = t.dtype
        if dtype == rt.bfloat16:
            # numpy has no bfloat16: bfloat16 -> float32 is exact and keeps the upper 16 bits
            f32 = _c_order(rtt.Tensor.numpy(rtt.Tensor.to(t, rt.float32)))
            bits = (f32.view(np.uint32) >> 16).astype("<u2")
            proto = TensorProto(name=name, data_type=TensorProto.BFLOAT16, dims=list(f32.shape))
            proto.raw_data = bits.tobytes()
            return proto
        array = _c_order(rtt.Tensor.numpy(rtt.Tensor.contiguous(t)))
    else:
        if dtype is None:
            array = np.asarray(value)
            if array.dtype == np.float64 and not isinstance(value, np.ndarray):
                array = array.astype(np.float32)      # a Python float is the default dtype
            dtype = _np_to_rt(array.dtype)
        elif dtype == rt.bfloat16:
            return tensor_proto(name, rt.tensor(np.asarray(value, np.float32)).to(rt.bfloat16))
        else:
            array = np.asarray(value).astype(_NP_DTYPE[dtype])
    onnx_dtype(dtype)
    return numpy_helper.from_array(_c_order(array), name)


def _c_order(array):
    # np.ascontiguousarray would make a 0-d array 1-d
    return np.array(array, order="C", copy=None)


def _np_to_rt(np_dtype):
    for rd, nd in _NP_DTYPE.items():
        if np.dtype(nd) == np_dtype:
            return rd
    raise OnnxExportError(f"numpy dtype {np_dtype} has no rt dtype")


# ---- traced tensors -----------------------------------------------------------------------

class _State(threading.local):
    tracer = None


_STATE = _State()


class TraceTensor(_Base):
    """A traced value: an rt tensor (sharing the real data) that knows its ONNX name. Its
    methods and operators record themselves while its tracer is active."""

    __hash__ = _Base.__hash__

    def __repr__(self):
        return _Base.__repr__(_plain(self))

    __str__ = __repr__

    def __format__(self, spec):
        return format(_plain(self), spec)

    def __iter__(self):
        # iterating a tensor yields its slices along dim 0 (recorded as one unbind)
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reduce_ex__(self, protocol):
        return _Base.__reduce_ex__(_plain(self), protocol)

    def __deepcopy__(self, memo):
        return _Base.__deepcopy__(_plain(self), memo)


class TraceParameter(TraceTensor, rt_nn.Parameter):
    """A traced parameter: a TraceTensor that is still an ``rt_nn.Parameter`` for code that
    checks."""

    __hash__ = _Base.__hash__

    def __repr__(self):
        return _Base.__repr__(_plain(self))


def _new_trace(cls, plain, name, tracer):
    t = _make_subclass(cls, plain, False)
    if plain.dtype.is_floating_point or plain.dtype.is_complex:
        # a leaf that requires grad: any op the tracer does not see, applied to it, leaves
        # an autograd node on its result, which is how such leaks are caught
        t.requires_grad_(True)
    t._onnx_name = name
    t._onnx_tracer = weakref.ref(tracer)     # an escaped traced tensor keeps no graph
    t._onnx_stale = None
    # the version counter when the value got its name: every in-place write bumps it, so a
    # change the tracer did not record (a kernel writing the data) shows as a newer version
    t._onnx_version = t._version
    return t


# methods that only read metadata (never recorded) and ones that read data into Python
_METADATA = {
    "size", "dim", "ndimension", "numel", "nelement", "stride", "is_contiguous",
    "is_floating_point", "is_complex", "is_signed", "element_size", "storage_offset",
    "data_ptr", "untyped_storage", "requires_grad_", "retain_grad", "register_hook", "backward",
    "is_inference", "_is_view", "_is_view_of", "_grad_or_none", "_bump_version", "_view_dtype",
    "cpu", "is_leaf", "is_cpu", "is_cuda",
}
_DATA_TO_PYTHON = {
    "item": "x.item()", "tolist": "x.tolist()", "numpy": "x.numpy()",
    "__array__": "numpy.asarray(x)", "__bool__": "bool(x)", "__float__": "float(x)",
    "__int__": "int(x)", "__index__": "x used as an index or size", "__complex__": "complex(x)",
    "__contains__": "`in` on a tensor", "__dlpack__": "DLPack export", "is_nonzero":
    "x.is_nonzero()", "equal": "x.equal(y)", "allclose": "x.allclose(y)", "tobytes": "x.tobytes()",
}
# rt_tensor.Tensor methods that compute tensors (besides rt_autograd's METHODS)
_BASE_OPS = [
    "all", "any", "argmax", "argmin", "argsort", "argwhere", "bernoulli", "bitwise_and",
    "bitwise_and_", "bitwise_left_shift", "bitwise_left_shift_", "bitwise_not", "bitwise_not_",
    "bitwise_or", "bitwise_or_", "bitwise_right_shift", "bitwise_right_shift_", "bitwise_xor",
    "bitwise_xor_", "bool", "byte", "char", "count_nonzero", "detach", "detach_", "alias", "eq",
    "ge", "greater", "greater_equal", "gt", "histc", "int", "isclose", "isfinite", "isinf",
    "isnan", "isneginf", "isposinf", "le", "less", "less_equal", "logical_and", "logical_not",
    "logical_or", "logical_xor", "long", "lt", "multinomial", "ne", "nonzero", "not_equal",
    "short", "signbit", "unique", "unique_consecutive",
]
_OPERATORS = [
    "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__",
    "__imul__", "__truediv__", "__rtruediv__", "__itruediv__", "__floordiv__", "__rfloordiv__",
    "__ifloordiv__", "__mod__", "__rmod__", "__imod__", "__pow__", "__rpow__", "__ipow__",
    "__matmul__", "__rmatmul__", "__neg__", "__pos__", "__abs__", "__invert__", "__and__",
    "__rand__", "__iand__", "__or__", "__ror__", "__ior__", "__xor__", "__rxor__", "__ixor__",
    "__lshift__", "__rlshift__", "__ilshift__", "__rshift__", "__rrshift__", "__irshift__",
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__getitem__", "__setitem__",
]


def _method_recorder(name, orig):
    def method(self, *args, **kwargs):
        tracer = _STATE.tracer
        if tracer is None or tracer.depth:
            return orig(self, *args, **kwargs)
        return tracer.call((f"Tensor.{name}", name), f"Tensor.{name}", orig, (self,) + args,
                           kwargs)
    method.__name__ = name
    method.__qualname__ = f"TraceTensor.{name}"
    return method


def _property_recorder(name, prop):
    def getter(self):
        tracer = _STATE.tracer
        if tracer is None or tracer.depth:
            return prop.__get__(self, type(self))
        return tracer.call((f"Tensor.{name}", name), f"Tensor.{name}", prop.__get__, (self,),
                           {})
    return property(getter)


def _data_refuser(name, what, orig):
    def method(self, *args, **kwargs):
        tracer = _STATE.tracer
        if tracer is None or tracer.depth or self._onnx_tracer() is not tracer:
            return orig(_plain(self), *args, **kwargs)
        raise OnnxExportError(
            f"{what} reads a traced value into Python while exporting to ONNX; the graph "
            f"cannot follow a Python value computed from the data (a branch, a size or a "
            f"number taken from a tensor). Keep the computation in tensor ops.")
    method.__name__ = name
    return method


def _array_interface(self):
    # numpy reads tensors through __array_interface__ (np.asarray, np.exp(x)): refuse it
    # while tracing, as __array__
    tracer = _STATE.tracer
    if tracer is None or tracer.depth or self._onnx_tracer() is not tracer:
        return _Base.__array_interface__.__get__(_plain(self))
    raise OnnxExportError(
        "numpy reads a traced value (np.asarray(x), a numpy function of x) while exporting to "
        "ONNX; the graph cannot follow numpy. Keep the computation in rt ops.")


def _data_getter(self):
    tracer = _STATE.tracer
    if tracer is None or tracer.depth or self._onnx_tracer() is not tracer:
        return _Base.data.__get__(self, _Base)
    # x.data is x's value without history: the same ONNX value
    return _new_trace(TraceTensor, _plain(self), self._onnx_name, tracer)


class SymInt(int):
    """A size read from a traced tensor (``x.shape[0]``, ``x.size(1)``, ``x.numel()``) whose
    dim is symbolic (``dynamic_axes``): an int with the example's value that remembers how it
    is computed, so ``x.view(x.size(0) * h, -1)`` exports as a Shape-based reshape. Integer
    arithmetic (+, -, *, //, %) keeps it symbolic; anything else gives a plain number."""

    def __new__(cls, value, expr):
        obj = int.__new__(cls, value)
        obj._expr = expr
        return obj

    def __repr__(self):
        return int.__repr__(self)

    __str__ = __repr__

    def _binary(op, fn, reflected=False):
        def method(self, other):
            if not isinstance(other, int):
                return NotImplemented         # a float: Python falls back to float's op
            a, b = (other, self) if reflected else (self, other)
            return SymInt(fn(int(a), int(b)), (op, a, b))
        return method

    __add__ = _binary("Add", lambda a, b: a + b)
    __radd__ = _binary("Add", lambda a, b: a + b, True)
    __sub__ = _binary("Sub", lambda a, b: a - b)
    __rsub__ = _binary("Sub", lambda a, b: a - b, True)
    __mul__ = _binary("Mul", lambda a, b: a * b)
    __rmul__ = _binary("Mul", lambda a, b: a * b, True)
    __floordiv__ = _binary("Div", lambda a, b: a // b)
    __rfloordiv__ = _binary("Div", lambda a, b: a // b, True)
    __mod__ = _binary("Mod", lambda a, b: a % b)
    __rmod__ = _binary("Mod", lambda a, b: a % b, True)
    del _binary

    def __neg__(self):
        return SymInt(-int(self), ("Neg", self))

    def __pos__(self):
        return self


def _sym_shape(self):
    shape = _Base.shape.__get__(self)
    tracer = _STATE.tracer
    if tracer is None or tracer.depth or not tracer.dynamic or self._onnx_tracer() is not tracer:
        return shape
    symbolic = tracer.symbolic_dims(self)
    if not any(symbolic):
        return shape
    return rtt.Size([SymInt(n, ("dim", self._onnx_name, i)) if sym else n
                     for i, (n, sym) in enumerate(zip(shape, symbolic))])


def _sym_size(self, dim=None):
    shape = _sym_shape(self)
    if dim is None:
        return shape
    if not -len(shape) <= int(dim) < max(len(shape), 1):
        return _Base.size(self, dim)                   # PyTorch's IndexError
    return shape[int(dim)] if shape else _Base.size(self, dim)


def _sym_numel(self):
    n = 1
    for s in _sym_shape(self):
        n = n * s
    return n


def _install_recorders():
    from rt_autograd import _ops
    for name, fn in _ops.METHODS.items():
        if name in _METADATA or name in _DATA_TO_PYTHON:
            continue
        if isinstance(fn, property):
            setattr(TraceTensor, name, _property_recorder(name, fn))
        else:
            setattr(TraceTensor, name, _method_recorder(name, getattr(_Base, name)))
    for name in _BASE_OPS + _OPERATORS:
        if name in _ops.METHODS or not hasattr(_Base, name):
            continue
        setattr(TraceTensor, name, _method_recorder(name, getattr(_Base, name)))
    for name, what in _DATA_TO_PYTHON.items():
        if hasattr(_Base, name):
            setattr(TraceTensor, name, _data_refuser(name, what, getattr(_Base, name)))
    TraceTensor.__array_interface__ = property(_array_interface)
    TraceTensor.data = property(_data_getter)
    TraceTensor.shape = property(_sym_shape)
    TraceTensor.size = _sym_size
    TraceTensor.numel = _sym_numel
    TraceTensor.nelement = _sym_numel
    TraceTensor.__hash__ = _Base.__hash__
    TraceParameter.__hash__ = _Base.__hash__


_install_recorders()


# ---- function recorders (installed only during an export) --------------------------------

_NOT_OPS = {
    "is_tensor", "numel", "is_floating_point", "is_complex", "can_cast", "promote_types",
    "broadcast_shapes", "get_default_dtype", "set_default_dtype", "manual_seed", "seed",
    "initial_seed", "get_rng_state", "set_rng_state", "set_num_threads", "get_num_threads",
    "set_printoptions", "get_printoptions", "printoptions", "no_grad", "enable_grad",
    "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
    "from_numpy", "from_dlpack", "frombuffer", "autograd", "testing", "memory", "return_types",
    "Variable", "Size", "device", "Generator", "default_generator", "dtype", "Tensor",
}


def _function_table():
    """{id(fn): (fn, names, display)} of every op function the tracer records."""
    from rt_autograd import _ops
    import rt_nn.functional as F
    table = {}

    def add(fn, name, display):
        if not callable(fn) or isinstance(fn, type) or isinstance(fn, rtt.dtype):
            return
        entry = table.get(id(fn))
        if entry is None:
            table[id(fn)] = (fn, [name], display)
        elif name not in entry[1]:
            entry[1].append(name)

    for name, fn in _ops.FUNCTIONS.items():
        add(fn, name, f"rt_autograd.{name}")
    for module, prefix in ((rt, "rt_autograd"), (rtt, "rt_tensor")):
        for name in getattr(module, "__all__", ()):
            if name in _NOT_OPS or name.startswith("_"):
                continue
            add(getattr(module, name, None), name, f"{prefix}.{name}")
    for name in F.__all__:
        add(getattr(F, name), f"F.{name}", f"rt_nn.functional.{name}")
    for modname, name in _PRIVATE_OPS:
        module = importlib.import_module(modname)
        add(getattr(module, name), f"F.{name}", f"{modname}.{name}")
    return table


# private rt_nn helpers recorded as ops: they write a traced argument into a constant made
# inside them (`rt.zeros(...).masked_fill_(mask, -inf)`), which the tracer cannot see when
# the argument is not floating (no autograd node marks the result)
_PRIVATE_OPS = [("rt_nn._functional.attention", "_neg_inf_where")]


# rt_autograd's and rt_tensor's implementation modules keep their own references: an op they
# run for an untraced caller (`c.add_(x)` on a constant `c`) then records an autograd node
# that the tracer reports, instead of a recorded value that the untraced code copies into `c`
_INTERNAL = ("rt_autograd.", "rt_tensor.")


def _function_recorder(fn, names, display):
    names = tuple(names)

    @functools.wraps(fn)
    def recorder(*args, **kwargs):
        tracer = _STATE.tracer
        if tracer is None or tracer.depth:
            return fn(*args, **kwargs)
        return tracer.call(names, display, fn, args, kwargs)
    recorder._onnx_original = fn
    return recorder


_RECORDERS = {}       # id(original) -> (original, recorder), built once
_PATCH_LOCK = threading.RLock()


def _recorders():
    if not _RECORDERS:
        for key, (fn, names, display) in _function_table().items():
            _RECORDERS[key] = (fn, _function_recorder(fn, names, display))
    return _RECORDERS


@contextlib.contextmanager
def patched_functions(classes=()):
    """Replace every loaded module's references to the recorded op functions by their
    recorders, and those held as attributes of ``classes`` (the exported modules' classes and
    their bases); restore them on exit (only entries still holding the recorder). Module
    namespaces are only looked at by identity: no attribute of a foreign object is read."""
    recorders = _recorders()
    patched = []
    patched_attrs = []
    try:
        for cls in classes:
            _patch_class(cls, recorders, patched_attrs)
        for module in list(sys.modules.values()):
            if not isinstance(module, types.ModuleType):
                continue
            d = getattr(module, "__dict__", None)
            if not isinstance(d, dict):
                continue
            modname = d.get("__name__")
            if not isinstance(modname, str) or modname.startswith(_INTERNAL):
                continue
            # ... and a table of ops ({2: F.conv2d}, {"relu": F.relu}) one level down
            _swap_in_recorders(d, recorders, patched, tables=True)
        yield
    finally:
        _swap_back(patched)
        for cls, key, original, replacement in reversed(patched_attrs):
            if cls.__dict__.get(key) is replacement:
                type.__setattr__(cls, key, original)


@contextlib.contextmanager
def patched_instances(objects):
    """Instance attributes holding an op (``self.activation = F.relu``) get its recorder."""
    recorders = _recorders()
    patched = []
    try:
        for obj in objects:
            d = getattr(obj, "__dict__", None)
            if isinstance(d, dict):
                _swap_in_recorders(d, recorders, patched)
        yield
    finally:
        _swap_back(patched)


def _swap_in_recorders(d, recorders, patched, tables=False):
    """Replace each op held in dict ``d`` by its recorder (``tables``: also inside plain dict
    values), noting (dict, key, original, recorder) in ``patched``."""
    for key, value in list(d.items()):
        entry = recorders.get(id(value))
        if entry is not None and entry[0] is value:
            d[key] = entry[1]
            patched.append((d, key, value, entry[1]))
        elif tables and type(value) is dict:
            _swap_in_recorders(value, recorders, patched)


def _swap_back(patched):
    """Undo ``_swap_in_recorders`` where the recorder is still in place."""
    for d, key, original, recorder in reversed(patched):
        if d.get(key) is recorder:
            d[key] = original


def _patch_class(cls, recorders, patched_attrs):
    """Class attributes holding an op (``_conv = staticmethod(conv2d)``) get its recorder."""
    try:
        items = list(vars(cls).items())
    except TypeError:
        return
    for key, value in items:
        fn = value.__func__ if isinstance(value, staticmethod) else value
        entry = recorders.get(id(fn))
        if entry is None or entry[0] is not fn:
            continue
        replacement = staticmethod(entry[1]) if isinstance(value, staticmethod) else entry[1]
        try:
            type.__setattr__(cls, key, replacement)
        except (TypeError, AttributeError):      # extension types are immutable
            continue
        patched_attrs.append((cls, key, value, replacement))


# ---- structures ---------------------------------------------------------------------------

def _flatten(obj, out):
    """Depth-first leaves of tuples, lists and dicts."""
    if isinstance(obj, (tuple, list)):
        for o in obj:
            _flatten(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _flatten(o, out)
    else:
        out.append(obj)
    return out


def _map(obj, fn):
    if isinstance(obj, tuple):
        items = [_map(o, fn) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else \
            (type(obj)(items) if type(obj) is not tuple else tuple(items))
    if isinstance(obj, list):
        return [_map(o, fn) for o in obj]
    if isinstance(obj, dict):
        return {k: _map(v, fn) for k, v in obj.items()}
    return fn(obj)


def _tensor_leaves(obj):
    return [x for x in _flatten(obj, []) if isinstance(x, rtt.Tensor)]


def _rebuild_like(obj, leaves):
    """``obj`` with its tensor leaves replaced, in order, by ``leaves``."""
    it = iter(leaves)

    def repl(x):
        return next(it) if isinstance(x, rtt.Tensor) else x
    if isinstance(obj, rtt.Tensor):
        return next(it)
    if isinstance(obj, tuple) and type(obj) is not tuple and not hasattr(obj, "_fields"):
        # rt_tensor.return_types (structseq-like tuples)
        return type(obj)([repl(x) for x in obj])
    return _map(obj, repl)


def _span(t):
    """(start, end) byte addresses ``t`` can touch in its storage (for alias checks)."""
    start = end = t.data_ptr()
    size = t.element_size()
    for n, s in zip(t.shape, t.stride()):
        if n == 0:
            return start, start
        if s >= 0:
            end += (n - 1) * s * size
        else:
            start += (n - 1) * s * size
    return start, end + size


# ---- the tracer ---------------------------------------------------------------------------

class _Call:
    """What an exporter gets as ``g``: the tracer's node builder, plus the op's real outputs
    (``g.outs``) and its name for messages."""

    def __init__(self, tracer, display, out, snapshot):
        self._t = tracer
        self.display = display
        self.out = out
        self.outs = _tensor_leaves(out)
        self._snapshot = snapshot
        self.opset = tracer.opset
        self.dynamic = tracer.dynamic
        self.writes = []

    def write(self, x, name):
        """Record that the op wrote ``x`` (an argument it does not return, e.g. the target of
        ``x[i] = v``): from now on ``x`` is the ONNX value ``name``."""
        self.writes.append((x, name))

    # -- errors --
    def fail(self, reason):
        """An OnnxExportError naming this op."""
        return OnnxExportError(f"{self.display} cannot be exported to ONNX: {reason}")

    # -- values --
    def v(self, x, dtype=None):
        """The ONNX name of ``x`` (a traced tensor, a constant tensor or a Python scalar),
        cast to the rt ``dtype`` when given."""
        if isinstance(x, rtt.Tensor):
            name = self._snapshot.get(id(x)) or self._t.name_of(x, self.display)
            if dtype is not None and x.dtype != dtype:
                name = self.cast(name, dtype)
            return name
        if isinstance(x, SymInt):
            # a size read from a symbolic dim, used as a number: computed in the graph
            name = self.op("Reshape", [self._t.sym_name(x), self.ints([])])
            return name if dtype in (None, rt.int64) else self.cast(name, dtype)
        if isinstance(x, (bool, int, float, complex, np.generic)):
            if dtype is None:
                dtype = (rt.bool if isinstance(x, (bool, np.bool_)) else
                         rt.int64 if isinstance(x, (int, np.integer)) else
                         rt.complex64 if isinstance(x, complex) else rt.get_default_dtype())
            return self.const(x, dtype)
        if isinstance(x, (list, tuple)) and all(isinstance(e, (bool, int, float)) for e in x):
            return self.const(np.asarray(x), dtype or rt.int64)
        raise self.fail(f"an argument of type {type(x).__name__} where a tensor or a number "
                        "is expected")

    def const(self, value, dtype=None):
        """A Constant node holding ``value`` (array, scalar or rt tensor) as ``dtype``."""
        return self._t.const(value, dtype)

    def ints(self, values):
        """A 1-D int64 Constant (shapes, axes, pads)."""
        return self._t.const(np.asarray(list(values), dtype=np.int64).reshape(-1), rt.int64)

    def op(self, op_type, inputs, outputs=1, **attrs):
        """Append a node; returns its output name (a list of names when ``outputs`` > 1)."""
        return self._t.op(op_type, inputs, outputs, **attrs)

    def cast(self, name, dtype):
        return self._t.op("Cast", [name], 1, to=onnx_dtype(dtype))

    # -- symbolic sizes (dynamic_axes) --
    @staticmethod
    def has_sym(values):
        """Whether ``values`` (a sequence) holds a symbolic size (a SymInt)."""
        return any(isinstance(v, SymInt) for v in values)

    def sym(self, s):
        """A 1-D int64 tensor [s] computed in the graph (s an int or a SymInt)."""
        return self._t.sym_name(s)

    def shape_tensor(self, sizes):
        """A 1-D int64 tensor of ``sizes`` (ints and SymInts): constants where it can."""
        parts, run = [], []
        for v in sizes:
            if isinstance(v, SymInt):
                if run:
                    parts.append(self.ints(run))
                    run = []
                parts.append(self._t.sym_name(v))
            else:
                run.append(int(v))
        if run or not parts:
            parts.append(self.ints(run))
        return parts[0] if len(parts) == 1 else self.op("Concat", parts, axis=0)

    def hint(self, name, sizes):
        """Tell the tracer's shape inference ``name``'s dims: ints stay, SymInts (and -1
        when a SymInt is present) are symbolic."""
        out = self.outs[0]
        dims = []
        for v in sizes:
            if isinstance(v, SymInt):
                dims.append(self._t.sym_label(v))
            else:
                dims.append(None if int(v) == -1 else int(v))
        self._t.hints[name] = (out.dtype, dims)

    # -- opset-dependent forms --
    def unsqueeze(self, name, axes):
        axes = [int(a) for a in axes]
        if self.opset >= 13:
            return self.op("Unsqueeze", [name, self.ints(axes)])
        return self.op("Unsqueeze", [name], axes=axes)

    def squeeze(self, name, axes):
        axes = [int(a) for a in axes]
        if self.opset >= 13:
            return self.op("Squeeze", [name, self.ints(axes)])
        return self.op("Squeeze", [name], axes=axes)

    def reduce(self, op_type, name, axes, keepdims):
        """``op_type`` (ReduceSum, ReduceMean, ...) over ``axes`` (None: all)."""
        axes_as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        if axes is None:
            return self.op(op_type, [name], keepdims=int(bool(keepdims)))
        axes = [int(a) for a in axes]
        if not axes:
            return self.op("Identity", [name])
        if axes_as_input:
            return self.op(op_type, [name, self.ints(axes)], keepdims=int(bool(keepdims)))
        return self.op(op_type, [name], axes=axes, keepdims=int(bool(keepdims)))

    def split(self, name, sizes, axis):
        sizes = [int(s) for s in sizes]
        if len(sizes) == 1:
            return [self.op("Identity", [name])]
        if self.opset >= 13:
            return self.op("Split", [name, self.ints(sizes)], len(sizes), axis=int(axis))
        return self.op("Split", [name], len(sizes), axis=int(axis), split=sizes)

    def slice(self, name, starts, ends, axes, steps=None):
        ins = [name, self.ints(starts), self.ints(ends), self.ints(axes)]
        if steps is not None:
            ins.append(self.ints(steps))
        return self.op("Slice", ins)

    def shape_of(self, name, start=None, end=None):
        """The Shape of ``name`` (dims start:end), dynamic-safe."""
        if start is None and end is None:
            return self.op("Shape", [name])
        if self.opset >= 15:
            attrs = {}
            if start is not None:
                attrs["start"] = int(start)
            if end is not None:
                attrs["end"] = int(end)
            return self.op("Shape", [name], **attrs)
        full = self.op("Shape", [name])
        return self.slice(full, [start or 0], [end if end is not None else 2 ** 62], [0])

    def reshape(self, name, in_shape, target):
        """Reshape ``name`` (of static shape ``in_shape`` in the example) to ``target``.

        With symbolic dims (``dynamic_axes``) a dim kept in place becomes 0 (ONNX: copy the
        input's dim) and a single remaining dim becomes -1, so the reshape follows the symbolic
        sizes; without them the shape is the literal one."""
        target = [int(s) for s in target]
        in_shape = [int(s) for s in in_shape]
        if any(s == 0 for s in target):
            if self.opset < 14:
                raise self.fail("a reshape to a shape with a 0-sized dim needs opset 14 "
                                "(Reshape's allowzero)")
            return self.op("Reshape", [name, self.ints(target)], allowzero=1)
        if not self.dynamic:
            return self.op("Reshape", [name, self.ints(target)])
        spec = list(target)
        for i, s in enumerate(target):
            if i < len(in_shape) and s == in_shape[i] and s != -1:
                spec[i] = 0
        rest = [i for i, s in enumerate(spec) if s not in (0, -1)]
        if -1 not in spec and len(rest) == 1:
            spec[rest[0]] = -1
        return self.op("Reshape", [name, self.ints(spec)])

    def dim_(self, x, dim):
        nd = max(x.dim(), 1)
        dim = int(dim)
        return dim + nd if dim < 0 else dim


class Tracer:
    """Records one export: the ONNX nodes, constants, initializers and value names."""

    def __init__(self, opset, dynamic):
        self.opset = opset
        self.dynamic = dynamic
        self.nodes = []
        self.initializers = []
        self.taken = set()             # every value name in use
        self.node_names = set()
        self.values = {}               # value name -> (rt dtype, shape) of every traced value
        self.scope = []
        self.scope_types = {}          # module path -> class name
        self.root_type = "module"
        self.depth = 0
        self.tracing_through = []
        self.const_cache = {}
        self.plain_consts = {}         # id(plain tensor) -> (tensor, version, name)
        self.traced_plain = {}         # id(plain tensor written by a recorded op) -> (t, name)
        self.live = {}                 # storage data_ptr -> {id: weakref} of TraceTensors
        self.pending_init = {}         # name -> parameter whose initializer is not written
        self.poisoned = {}             # id(plain tensor) -> (t, op) written with traced data
        self.current_op = ""           # the rt op being exported (the nodes' doc_string)
        self.input_infos = []          # ValueInfoProtos of the graph inputs (symbolic dims)
        self.sym_cache = {}            # value name -> per dim: None (static) or its label
        self.sym_names = {}            # id(SymInt) -> (SymInt, ONNX name)
        self.hints = {}                # value name -> (dtype, dims) for shape inference

    # ---- names ----
    def unique(self, base):
        name = base
        n = 0
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def _scope_prefix(self):
        return "/" + self.scope[-1] if self.scope else ""

    def where(self):
        """'in submodule layer1.0 (BasicBlock)' for messages."""
        if self.scope:
            path = self.scope[-1]
            return (f"in submodule {path.replace('/', '.')} "
                    f"({self.scope_types.get(path, 'Module')})")
        return f"in the forward of the exported {self.root_type}"

    def op(self, op_type, inputs, outputs=1, domain="", **attrs):
        prefix = self._scope_prefix()
        node_name = f"{prefix}/{op_type}"
        base_node = node_name
        n = 0
        while node_name in self.node_names:
            n += 1
            node_name = f"{base_node}_{n}"
        self.node_names.add(node_name)
        outs = [self.unique(f"{node_name}_output_{i}") for i in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        node = helper.make_node(op_type, list(inputs), outs, name=node_name, domain=domain,
                                doc_string=self.current_op, **attrs)
        self.nodes.append(node)
        return outs[0] if outputs == 1 else outs

    def const(self, value, dtype=None):
        proto = tensor_proto("", value, dtype)
        key = None
        if len(proto.raw_data) <= 4096 or not proto.raw_data:
            key = (proto.data_type, tuple(proto.dims), proto.SerializeToString())
            hit = self.const_cache.get(key)
            if hit is not None:
                return hit
        name = self.op("Constant", [], 1, value=proto)
        if key is not None:
            self.const_cache[key] = name
        return name

    def add_initializer(self, name, tensor):
        self.initializers.append(tensor_proto(name, tensor))

    # ---- symbolic sizes ----
    def symbolic_dims(self, t):
        """Which dims of traced ``t`` are symbolic: ONNX shape inference of the graph so far
        (from the symbolic graph inputs); a dim it cannot tell is taken as symbolic, which is
        always correct (it is read from the graph at run time)."""
        return tuple(label is not None for label in self._labels(t._onnx_name, t.dim()))

    def _labels(self, name, rank):
        hit = self.sym_cache.get(name)
        if hit is None:
            self._infer_partial()
            hit = self.sym_cache.get(name)
            if hit is None or len(hit) != rank:
                hit = ("",) * rank
                self.sym_cache[name] = hit
        return hit

    def sym_label(self, s):
        """The dim_param of a SymInt that is a symbolic dim read as is (else None)."""
        expr = s._expr
        if expr[0] != "dim":
            return None
        labels = self.sym_cache.get(expr[1])
        if not labels or expr[2] >= len(labels):
            return None
        label = labels[expr[2]]
        return label if label and not label.startswith("unk__") else None

    def _infer_partial(self):
        produced = {o for n in self.nodes for o in n.output}
        inputs = list(self.input_infos)
        declared = {vi.name for vi in inputs}
        for name, (dtype, shape) in self.values.items():
            if name not in produced and name not in declared:
                inputs.append(helper.make_tensor_value_info(name, onnx_dtype(dtype),
                                                            list(shape)))
        hints = [helper.make_tensor_value_info(n, onnx_dtype(dt), dims)
                 for n, (dt, dims) in self.hints.items()]
        graph = helper.make_graph(self.nodes, "partial", inputs, [], value_info=hints)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = helper.find_min_ir_version_for(list(model.opset_import))
        inferred = None
        # data propagation resolves Shape/Gather/Concat arithmetic; onnx rejects some graphs
        # with it (small 1-d tensors taken for shapes), so retry without
        for data_prop in (True, False):
            try:
                inferred = onnx.shape_inference.infer_shapes(model, data_prop=data_prop)
                break
            except Exception:
                continue
        if inferred is None:
            return
        for vi in inferred.graph.value_info:
            t = vi.type.tensor_type
            if not t.HasField("shape"):
                continue
            self.sym_cache.setdefault(vi.name, tuple(
                None if d.HasField("dim_value") else d.dim_param for d in t.shape.dim))

    def sym_name(self, s):
        """The ONNX name of a 1-D int64 tensor holding size ``s`` (int or SymInt)."""
        if not isinstance(s, SymInt):
            return self.const(np.asarray([int(s)], np.int64))
        hit = self.sym_names.get(id(s))
        if hit is not None and hit[0] is s:
            return hit[1]
        expr = s._expr
        kind = expr[0]
        if kind == "dim":
            _, value, i = expr
            if self.opset >= 15:
                name = self.op("Shape", [value], 1, start=i, end=i + 1)
            else:
                name = self.op("Slice", [self.op("Shape", [value]),
                                         self.const(np.asarray([i], np.int64)),
                                         self.const(np.asarray([i + 1], np.int64))])
        elif kind == "Neg":
            name = self.op("Neg", [self.sym_name(expr[1])])
        else:
            name = self.op(kind, [self.sym_name(expr[1]), self.sym_name(expr[2])])
        self.sym_names[id(s)] = (s, name)
        return name

    # ---- traced values ----
    def new_value(self, plain, name, cls=TraceTensor):
        t = _new_trace(cls, plain, name, self)
        self.register(t)
        self.values[name] = (plain.dtype, tuple(plain.shape))
        return t

    def register(self, t):
        if t.numel() == 0:
            return
        key = t.untyped_storage().data_ptr()
        self.live.setdefault(key, {})[id(t)] = weakref.ref(t)

    def rename(self, t, name):
        t._onnx_name = name
        t._onnx_stale = None
        t._onnx_version = t._version
        self.values[name] = (t.dtype, tuple(t.shape))

    def mark_aliases_stale(self, t, by, keep=()):
        """``t``'s data was written by ``by``: every other live traced value overlapping it
        now names an outdated ONNX value."""
        if t.numel() == 0:
            return
        entries = self.live.get(t.untyped_storage().data_ptr())
        if not entries:
            return
        lo, hi = _span(t)
        for key, ref in list(entries.items()):
            u = ref()
            if u is None:
                del entries[key]
                continue
            if u is t or id(u) in keep or u.numel() == 0:
                continue
            ulo, uhi = _span(u)
            if ulo < hi and lo < uhi:
                u._onnx_stale = by
            else:
                # views of one storage share a version counter: the recorded write bumped
                # this one's too, but left its data alone
                u._onnx_version = u._version

    def name_of(self, x, where):
        """The ONNX name of tensor ``x`` for use by ``where``."""
        if isinstance(x, TraceTensor):
            if x._onnx_tracer() is not self:
                raise OnnxExportError(f"{where}: a tensor traced by another (finished) ONNX "
                                      "export is used; keep traced tensors inside forward")
            if x._onnx_stale is not None:
                raise OnnxExportError(
                    f"{where} reads a value that the in-place op {x._onnx_stale} changed "
                    "through an alias (a view, or the tensor a view was taken from); ONNX "
                    "graphs have no aliasing, so export needs the out-of-place op there "
                    "(e.g. `y = x + 1` instead of `x.add_(1)`, `F.relu(x)` instead of "
                    "inplace=True)")
            if x._version != x._onnx_version:
                raise OnnxExportError(
                    f"{where} reads a traced value whose data an op the exporter does not see "
                    f"changed in place {self.where()}: an rt_tensor kernel called directly "
                    "(`rt_tensor.Tensor.add_(x, 1)`, an unbound base-class method), or a write "
                    "through a tensor the tracer does not follow. Use the rt op "
                    "(`x.add_(1)`, or out of place `x + 1`)")
            pending = self.pending_init.pop(x._onnx_name, None)
            if pending is not None:
                self.add_initializer(x._onnx_name, pending)
            return x._onnx_name
        hit = self.traced_plain.get(id(x))
        if hit is not None and hit[0] is x:
            return hit[1]
        hit = self.poisoned.get(id(x))
        if hit is not None and hit[0] is x:
            raise OnnxExportError(f"{where} reads a tensor that {hit[1]} wrote in place with "
                                  "traced data; export needs the out-of-place op there")
        fn = x.grad_fn if isinstance(x, _Base) else None
        if fn is not None:
            context = (f" (inside {self.tracing_through[-1]}, which has no ONNX exporter and "
                       "was traced through)") if self.tracing_through else ""
            context += " " + self.where()
            raise OnnxExportError(
                f"{where} gets a tensor computed from traced values by an op the exporter "
                f"does not see (autograd node {fn.name()}){context}. That op ran outside the "
                "tracer's view: a layer computing with a kernel that has no ONNX exporter, a "
                "method of an untraced tensor (a constant made in forward) given a traced "
                "argument (`c.add_(x)`: write `c + x`), or an op reached through a reference "
                "the exporter cannot replace")
        hit = self.plain_consts.get(id(x))
        version = x._version if isinstance(x, _Base) else None
        if hit is not None and hit[0] is x and hit[1] == version:
            return hit[2]
        name = self.const(x)
        self.plain_consts[id(x)] = (x, version, name)
        return name

    # ---- recording ----
    def call(self, names, display, fn, args, kwargs):
        """Run op ``fn`` (known as ``names``) on ``args`` and record it."""
        leaves = _tensor_leaves((args, kwargs))
        traced = [x for x in leaves if isinstance(x, TraceTensor) and x._onnx_tracer() is self]
        if not traced and not any(id(x) in self.traced_plain for x in leaves):
            self._check_leaks(leaves, display)
            # an op of symbolic sizes only (rt.zeros(x.size(0), 4)) is recorded when it has
            # an exporter; otherwise its result is a constant of the example
            if not (self.dynamic and any(isinstance(v, SymInt)
                                         for v in _flatten((args, kwargs), []))
                    and any(n in EXPORTERS for n in names)):
                return fn(*args, **kwargs)
        if kwargs.get("out") is not None:
            raise OnnxExportError(f"{display}(..., out=...) cannot be exported to ONNX: write "
                                  "the result to a new tensor (drop out=)")
        exp = None
        for n in names:
            exp = EXPORTERS.get(n)
            if exp is not None:
                break
        if exp is None:
            # `op_` is `op` computed in self's dtype (the real output, self, has it) and
            # written into self: the recorder renames self to the new value
            for n in names:
                if n.endswith("_") and not n.endswith("__"):
                    exp = EXPORTERS.get(n[:-1])
                    if exp is not None:
                        break
        if exp is None:
            return self._trace_through(display, fn, args, kwargs)
        return self._record(exp, display, fn, args, kwargs, leaves)

    def _check_leaks(self, leaves, display):
        for x in leaves:
            if isinstance(x, _Base) and not isinstance(x, TraceTensor) and x.grad_fn is not None:
                self.name_of(x, display)      # raises with the autograd node's name

    def _record(self, exp, display, fn, args, kwargs, leaves):
        # snapshot the inputs before the op runs: an in-place op changes their data
        snapshot = {}
        for x in leaves:
            if id(x) not in snapshot:
                snapshot[id(x)] = self.name_of(x, display)
        versions = {id(x): (x, x._version) for x in leaves
                    if isinstance(x, _Base) and not isinstance(x, TraceTensor)}
        plain_of = {}

        def unwrap(x):
            if isinstance(x, TraceTensor):
                p = plain_of.get(id(x))
                if p is None:
                    p = _plain(x)
                    plain_of[id(x)] = p
                    versions[id(p)] = (p, p._version)
                return p
            return x
        back = {}
        pargs = _map(args, unwrap)
        pkwargs = _map(kwargs, unwrap)
        for tid, p in plain_of.items():
            back[id(p)] = next(x for x in leaves if id(x) == tid)
        self.depth += 1
        try:
            out = fn(*pargs, **pkwargs)
        finally:
            self.depth -= 1
        g = _Call(self, display, out, snapshot)
        self.depth += 1
        self.current_op = display
        try:
            result = exp(g, *args, **kwargs)
        except OnnxExportError:
            raise
        except Exception as exc:
            raise OnnxExportError(f"exporting {display} to ONNX failed: "
                                  f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.depth -= 1
            self.current_op = ""
        out_leaves = g.outs
        names = [result] if isinstance(result, str) else list(result)
        if len(names) != len(out_leaves):
            raise OnnxExportError(f"internal error: the exporter of {display} gave "
                                  f"{len(names)} values for {len(out_leaves)} outputs")
        # which inputs did the op write?
        written = []
        for key, (x, v) in versions.items():
            if x._version != v:
                written.append(back.get(key, x))
        new_leaves = []
        for o, name in zip(out_leaves, names):
            src = back.get(id(o))
            if src is None and any(o is x for x in leaves):
                src = o
            if isinstance(src, TraceTensor):
                self.rename(src, name)
                new_leaves.append(src)
            elif src is not None:
                # a constant tensor written with traced data: it is traced from now on
                self.traced_plain[id(src)] = (src, name)
                self.values[name] = (src.dtype, tuple(src.shape))
                new_leaves.append(src)
            else:
                new_leaves.append(self.new_value(o, name))
        # arguments the exporter says the op wrote (x[i] = v): they take the new value
        for x, name in g.writes:
            if isinstance(x, TraceTensor):
                self.rename(x, name)
            else:
                self.traced_plain[id(x)] = (x, name)
                self.values[name] = (x.dtype, tuple(x.shape))
            if not any(w is x for w in written):
                written.append(x)
        returned = {id(x) for x in new_leaves} | {id(x) for x, _ in g.writes}
        for x in written:
            self.mark_aliases_stale(x, display, keep=returned)
            if id(x) not in returned:
                if isinstance(x, TraceTensor):
                    x._onnx_stale = display
                else:
                    # a constant the op wrote with traced data, without returning it: no
                    # ONNX value holds its new contents
                    self.traced_plain.pop(id(x), None)
                    self.plain_consts.pop(id(x), None)
                    self.poisoned[id(x)] = (x, display)
        return _rebuild_like(out, new_leaves)

    def _trace_through(self, display, fn, args, kwargs):
        self.tracing_through.append(display)
        try:
            out = fn(*args, **kwargs)
        except OnnxExportError:
            raise
        except Exception as exc:
            raise OnnxExportError(
                f"{display} has no ONNX exporter, and running its implementation on traced "
                f"values failed ({type(exc).__name__}: {exc})") from exc
        finally:
            self.tracing_through.pop()
        for x in _flatten(out, []):
            if isinstance(x, TraceTensor) and x._onnx_tracer() is self and \
                    x._onnx_stale is None and x._version != x._onnx_version:
                raise OnnxExportError(
                    f"{display} cannot be exported to ONNX: it has no exporter, and its "
                    "implementation writes its result with kernels the tracer does not see "
                    "(in place, into a traced value). Add an exporter for it "
                    "(docs/adding-an-onnx-op.md) or use ops that have one")
            if isinstance(x, TraceTensor) or x is None:
                continue
            if isinstance(x, rtt.Tensor):
                if id(x) in self.traced_plain:
                    continue
                raise OnnxExportError(
                    f"{display} cannot be exported to ONNX: it has no exporter, and its "
                    "implementation computes its result with kernels the tracer does not "
                    "see. Add an exporter for it (docs/adding-an-onnx-op.md) or use ops that "
                    "have one")
            if isinstance(x, (bool, int, float, complex, np.generic)) and not isinstance(
                    x, (rtt.dtype, type)):
                raise OnnxExportError(
                    f"{display} cannot be exported to ONNX: it returns a Python value "
                    "computed from traced data, which the graph cannot follow")
        return out


@contextlib.contextmanager
def tracing(tracer):
    if _STATE.tracer is not None:
        raise RuntimeError("export_onnx() called while another export runs in this thread "
                           "(from inside a traced forward)")
    _STATE.tracer = tracer
    try:
        yield tracer
    finally:
        _STATE.tracer = None


@contextlib.contextmanager
def module_scopes(module, tracer):
    """Push each submodule's path while its forward runs (node names like
    ``/layer1/0/conv1/Conv``)."""
    handles = []

    def make(path):
        def pre(mod, args):
            tracer.scope.append(path)

        def post(mod, args, output):
            if tracer.scope and tracer.scope[-1] == path:
                tracer.scope.pop()
        return pre, post
    try:
        tracer.root_type = type(module).__name__
        for name, m in module.named_modules():
            if not name:
                continue
            tracer.scope_types[name.replace(".", "/")] = type(m).__name__
            pre, post = make(name.replace(".", "/"))
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post, always_call=True))
        yield
    finally:
        for h in handles:
            h.remove()
