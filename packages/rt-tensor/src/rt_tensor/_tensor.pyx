# cython: language_level=3
"""The Tensor class: metadata, views, basic indexing and numpy interop.

Everything here is stride arithmetic over a Storage (needle's design): views never copy.
Kernels live in other modules (_copy, _elementwise, _reduce, _index, _linalg, ...); the
operators reach them through hooks registered at import, and the methods delegate to the
module functions bound by ``_bind_modules`` (called from rt_tensor/__init__.py).
"""
include "build_stamp.pxi"
import warnings

import numpy as np

from cpython.object cimport Py_EQ
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_RECORDS_RO
from libc.string cimport memcpy
from rt_tensor._types cimport *
from rt_tensor._memory cimport Storage, new_storage, external_storage
from rt_tensor._dtype cimport dtype, dtype_of, ITEMSIZE, as_dtype, category, default_float_code
from rt_tensor._opcodes cimport *


# ---------------------------------------------------------------------------------------
# modules bound after import (methods delegate to their functions)
cdef object _creation = None, _elementwise = None, _reduce = None, _index = None
cdef object _linalg = None, _sort = None, _format = None, _random = None, _shape_ops = None
cdef object _dlpack = None


def _bind_modules(**mods):
    """Give Tensor's methods the modules that implement them (see rt_tensor/__init__.py)."""
    global _creation, _elementwise, _reduce, _index, _linalg, _sort, _format, _random
    global _shape_ops, _dlpack
    _creation = mods.get("creation", _creation)
    _elementwise = mods.get("elementwise", _elementwise)
    _reduce = mods.get("reduce", _reduce)
    _index = mods.get("index", _index)
    _linalg = mods.get("linalg", _linalg)
    _sort = mods.get("sort", _sort)
    _format = mods.get("format", _format)
    _random = mods.get("random", _random)
    _shape_ops = mods.get("shape_ops", _shape_ops)
    _dlpack = mods.get("dlpack", _dlpack)


# Until _elementwise and _copy register their kernels (rt_tensor/__init__.py imports them
# right after this module), operators raise instead of calling through a NULL pointer.
cdef object _no_binary(int op, object a, object b, object out, bint inplace):
    raise RuntimeError("rt_tensor._elementwise is not loaded: import rt_tensor, not its parts")

cdef object _no_unary(int op, object a, object out, bint inplace):
    raise RuntimeError("rt_tensor._elementwise is not loaded: import rt_tensor, not its parts")

cdef void _no_copy(Tensor dst, Tensor src) except *:
    raise RuntimeError("rt_tensor._copy is not loaded: import rt_tensor, not its parts")

cdef binary_hook_t _binary_hook = _no_binary
cdef unary_hook_t _unary_hook = _no_unary
cdef copy_hook_t _copy_hook = _no_copy

cdef void register_elementwise_hooks(binary_hook_t binary, unary_hook_t unary):
    global _binary_hook, _unary_hook
    _binary_hook = binary
    _unary_hook = unary

cdef void register_copy_hook(copy_hook_t copy):
    global _copy_hook
    _copy_hook = copy

cdef void copy_into(Tensor dst, Tensor src) except *:
    _copy_hook(dst, src)


# ---------------------------------------------------------------------------------------
class Size(tuple):
    """The shape of a tensor: a tuple of ints (``torch.Size``)."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"rt_tensor.Size({list(self)!r})"

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


class device:
    """Where a tensor lives. rt is a CPU library: only ``device('cpu')`` exists."""
    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if type not in ("cpu", "cpu:0"):
            raise RuntimeError(f"rt_tensor only supports the CPU device, got {type!r}")
        self.type = "cpu"
        self.index = index

    def __repr__(self):
        return "device(type='cpu')"

    def __str__(self):
        return "cpu"

    def __eq__(self, other):
        if isinstance(other, str):
            return other in ("cpu", "cpu:0")
        return isinstance(other, device)

    def __hash__(self):
        return hash("cpu")


_CPU = device("cpu")


def _check_device(dev):
    if dev is None or isinstance(dev, device):
        return
    if isinstance(dev, str) and dev.split(":")[0] == "cpu":
        return
    raise RuntimeError(f"rt_tensor only supports the CPU device, got device={dev!r}")


# ---------------------------------------------------------------------------------------
# shape helpers

cdef void contiguous_strides(int ndim, const index_t* shape, index_t* strides) noexcept nogil:
    cdef index_t acc = 1
    cdef int i
    for i in range(ndim - 1, -1, -1):
        strides[i] = acc
        acc *= shape[i] if shape[i] > 1 else 1


cdef index_t shape_numel(int ndim, const index_t* shape) noexcept nogil:
    cdef index_t n = 1
    cdef int i
    for i in range(ndim):
        n *= shape[i]
    return n


cdef str fmt_shape(int ndim, const index_t* shape):
    return "[" + ", ".join([str(shape[i]) for i in range(ndim)]) + "]"


cdef int wrap_dim(index_t dim, int ndim, bint allow_scalar=True) except -100:
    cdef int n = ndim
    if n == 0 and allow_scalar:
        n = 1
    if dim < -n or dim >= n:
        if n == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return <int>(dim + n if dim < 0 else dim)


cdef inline index_t _as_index(object v, str fname, str argname) except? -1:
    if isinstance(v, Tensor):
        if (<Tensor>v)._numel != 1 or category((<Tensor>v)._dtype) > 1:
            raise TypeError(f"{fname}(): argument '{argname}' must be an int, got a tensor")
        return int(v.item())
    try:
        return v.__index__()
    except AttributeError:
        raise TypeError(f"{fname}(): argument '{argname}' must be an int or a tuple of ints, "
                        f"but got {type(v).__name__}") from None


cdef int parse_shape(object args, index_t* out, str fname) except -1:
    """Sizes given as f(2, 3) or f((2, 3)) or f([2, 3]) or f(Size) -> ndim."""
    if len(args) == 1 and not isinstance(args[0], int) and not (
            isinstance(args[0], Tensor) and (<Tensor>args[0])._ndim == 0):
        if hasattr(args[0], "__index__") and not isinstance(args[0], Tensor):
            args = (args[0],)
        else:
            args = tuple(args[0])
    cdef int n = len(args)
    if n > MAX_DIMS:
        raise RuntimeError(f"{fname}: rt_tensor supports at most {MAX_DIMS} dimensions, got {n}")
    cdef int i
    for i in range(n):
        out[i] = _as_index(args[i], fname, "size")
    return n


cdef tuple shape_tuple(Tensor t):
    return tuple([t._shape[i] for i in range(t._ndim)])


cdef int _infer_size(Tensor t, object args, index_t* out, str fname) except -1:
    """Shape with at most one -1, checked against t's number of elements."""
    cdef int nd = parse_shape(args, out, fname)
    cdef int infer = -1, i
    cdef index_t prod = 1
    for i in range(nd):
        if out[i] == -1:
            if infer >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif out[i] < 0:
            raise RuntimeError(f"invalid shape dimension {out[i]}")
        else:
            prod *= out[i]
    if infer >= 0:
        if prod == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape "
                               f"{fmt_shape(nd, out)} because the unspecified dimension size -1 "
                               "can be any value and is ambiguous")
        if t._numel % prod == 0:
            out[infer] = t._numel // prod
            return nd
    elif prod == t._numel:
        return nd
    raise RuntimeError(f"shape '{fmt_shape(nd, out)}' is invalid for input of size {t._numel}")


cdef bint _view_strides(Tensor t, int nd, const index_t* newshape, index_t* newstride):
    """PyTorch's computeStride: strides that view t as newshape, or False."""
    cdef int view_d, tensor_d
    cdef index_t chunk_base_stride, tensor_numel, view_numel
    if t._ndim == 0:
        for view_d in range(nd):
            newstride[view_d] = 1
        return True
    if t._numel == 0:
        contiguous_strides(nd, newshape, newstride)
        return True
    view_d = nd - 1
    chunk_base_stride = t._strides[t._ndim - 1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(t._ndim - 1, -1, -1):
        tensor_numel *= t._shape[tensor_d]
        if tensor_d == 0 or (t._shape[tensor_d - 1] != 1 and
                             t._strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                newstride[view_d] = view_numel * chunk_base_stride
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if tensor_d > 0:
                chunk_base_stride = t._strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    return view_d == -1


# ---------------------------------------------------------------------------------------
# construction

cdef extern from *:
    """
    static PyObject *rt_call_tp_new(PyObject *cls, PyObject *args) {
        return ((PyTypeObject *)cls)->tp_new((PyTypeObject *)cls, args, NULL);
    }
    """
    object rt_call_tp_new(object cls, object args)

# The class of the tensors ops create. rt_tensor.Tensor unless a layer above registers a
# subclass (rt_autograd does), so every op returns that layer's tensors at no extra cost.
cdef object _tensor_class = None
cdef tuple _EMPTY_ARGS = ()


def _set_tensor_class(cls):
    """Make every op create instances of ``cls`` (a subclass of Tensor), or of Tensor again
    with ``None``. For the layer above rt_tensor; not for users."""
    global _tensor_class
    if cls is not None and not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"_set_tensor_class: expected a subclass of Tensor, got {cls!r}")
    _tensor_class = None if cls is Tensor else cls


cdef Tensor wrap_storage(Storage s, int dt, int ndim, const index_t* shape, const index_t* strides,
                         index_t offset):
    cdef Tensor t
    if _tensor_class is None:
        t = Tensor.__new__(Tensor)
    else:
        t = <Tensor>rt_call_tp_new(_tensor_class, _EMPTY_ARGS)
    cdef int i
    cdef index_t n = 1
    t._storage = s
    t._dtype = dt
    t._ndim = ndim
    t._offset = offset
    for i in range(ndim):
        t._shape[i] = shape[i]
        t._strides[i] = strides[i]
        n *= shape[i]
    t._numel = n
    return t


cdef Tensor new_tensor(int dt, int ndim, const index_t* shape, bint zero):
    cdef index_t strides[MAX_DIMS]
    cdef index_t n = shape_numel(ndim, shape)
    contiguous_strides(ndim, shape, strides)
    return wrap_storage(new_storage(n * ITEMSIZE[dt], zero), dt, ndim, shape, strides, 0)


cdef Tensor new_tensor_from_tuple(int dt, tuple shape, bint zero):
    cdef index_t sh[MAX_DIMS]
    cdef int nd = len(shape), i
    if nd > MAX_DIMS:
        raise RuntimeError(f"rt_tensor supports at most {MAX_DIMS} dimensions, got {nd}")
    for i in range(nd):
        sh[i] = shape[i]
        if sh[i] < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {sh[i]}: "
                               f"{list(shape)}")
    return new_tensor(dt, nd, sh, zero)


cdef Tensor make_view(Tensor base, int ndim, const index_t* shape, const index_t* strides,
                      index_t offset):
    return wrap_storage(base._storage, base._dtype, ndim, shape, strides, offset)


cdef Tensor to_tensor(object obj):
    if isinstance(obj, Tensor):
        return <Tensor>obj
    return _creation.tensor(obj)


cdef Tensor contiguous_tensor(Tensor t):
    if t.is_contig():
        return t
    cdef Tensor out = new_tensor(t._dtype, t._ndim, t._shape, False)
    copy_into(out, t)
    out._storage.version = 0
    return out


cdef Tensor resize_out(Tensor out, int nd, const index_t* shape):
    cdef bint same = out._ndim == nd
    cdef int i
    if same:
        for i in range(nd):
            if out._shape[i] != shape[i]:
                same = False
                break
    if same:
        return out
    if out._numel != 0:
        warnings.warn(f"An output with one or more elements was resized since it had shape "
                      f"{fmt_shape(out._ndim, out._shape)}, which does not match the required "
                      f"output shape {fmt_shape(nd, shape)}. This behavior is deprecated, and in "
                      "a future PyTorch release outputs will not be resized unless they have zero "
                      "elements. You can explicitly reuse an out tensor t by resizing it, "
                      "inplace, to zero elements with t.resize_(0).", UserWarning, stacklevel=3)
    # fresh memory: the old storage may be an input of the op that writes out
    _resize(out, nd, shape, False)
    return out


cdef void _resize(Tensor t, int nd, const index_t* shape, bint keep_storage) except *:
    """Give t the shape (contiguous strides); with keep_storage its storage stays when it is
    contiguous and large enough, as ``Tensor.resize_``."""
    cdef index_t n = shape_numel(nd, shape)
    cdef int i
    for i in range(nd):
        if shape[i] < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {shape[i]}: "
                               f"{fmt_shape(nd, shape)}")
    if not (keep_storage and t.is_contig() and (t._offset + n) * ITEMSIZE[t._dtype] <= t._storage.nbytes):
        t._storage = new_storage(n * ITEMSIZE[t._dtype], False)
        t._offset = 0
    t._ndim = nd
    for i in range(nd):
        t._shape[i] = shape[i]
    contiguous_strides(nd, t._shape, t._strides)
    t._numel = n


cdef object _scalar_of(Tensor t):
    """The single element of t as a Python bool/int/float/complex."""
    cdef char* p = t.ptr()
    cdef int dt = t._dtype
    if dt == DT_BOOL:
        return (<bool_t*>p)[0] != 0
    if dt == DT_UINT8:
        return (<uint8_t*>p)[0]
    if dt == DT_INT8:
        return (<int8_t*>p)[0]
    if dt == DT_INT16:
        return (<int16_t*>p)[0]
    if dt == DT_INT32:
        return (<int32_t*>p)[0]
    if dt == DT_INT64:
        return (<int64_t*>p)[0]
    if dt == DT_FLOAT16:
        return <double>rt_f16_to_f32((<uint16_t*>p)[0])
    if dt == DT_BFLOAT16:
        return <double>rt_bf16_to_f32((<uint16_t*>p)[0])
    if dt == DT_FLOAT32:
        return <double>(<float*>p)[0]
    if dt == DT_FLOAT64:
        return (<double*>p)[0]
    if dt == DT_COMPLEX64:
        return complex((<float*>p)[0], (<float*>p)[1])
    return complex((<double*>p)[0], (<double*>p)[1])


cdef dict _NUMPY_DTYPE_CODES = {}


cdef int _numpy_dtype_code(object npdtype) except -1:
    cdef object code = _NUMPY_DTYPE_CODES.get(npdtype)
    if code is None:
        from rt_tensor._dtype import from_numpy_dtype
        code = (<dtype>from_numpy_dtype(npdtype)).code
        if npdtype.isnative:
            _NUMPY_DTYPE_CODES[npdtype] = code
    return code


def from_numpy(ndarray):
    """A tensor sharing memory with a numpy array (``torch.from_numpy``).

    Writes through either are seen by the other; the array stays alive as long as the
    tensor. Negative or non-element-multiple strides are refused, as in PyTorch.

    >>> a = np.arange(3.0); t = from_numpy(a); a[0] = 5; t[0].item()
    5.0
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    cdef int code = _numpy_dtype_code(ndarray.dtype)
    if not ndarray.dtype.isnative:
        raise TypeError("from_numpy: non-native byte order arrays are not supported")
    cdef Py_buffer view
    # the buffer protocol gives pointer, shape and byte strides without building dicts
    PyObject_GetBuffer(ndarray, &view, PyBUF_RECORDS_RO)
    cdef index_t shape[MAX_DIMS]
    cdef index_t strides[MAX_DIMS]
    cdef int i, nd = view.ndim
    cdef index_t isz = ITEMSIZE[code], hi = 0, bst
    cdef bint empty = False
    cdef char* data = <char*>view.buf
    cdef bint readonly = view.readonly
    try:
        if nd > MAX_DIMS:
            raise RuntimeError(f"from_numpy: at most {MAX_DIMS} dimensions are supported")
        for i in range(nd):
            shape[i] = view.shape[i]
            bst = view.strides[i]
            if shape[i] == 0:
                empty = True
            if bst < 0:
                raise ValueError("At least one stride in the given numpy array is negative, and "
                                 "tensors with negative strides are not currently supported. (You "
                                 "can probably work around this by making a copy of your array "
                                 " with array.copy().) ")
            if bst % isz:
                raise ValueError("given numpy array strides not a multiple of the element byte "
                                 "size. Copy the numpy array to reallocate the memory.")
            strides[i] = bst // isz
            if shape[i] > 0:
                hi += (shape[i] - 1) * strides[i]
    finally:
        PyBuffer_Release(&view)
    if readonly:
        warnings.warn("The given NumPy array is not writable, and rt_tensor does not support "
                      "non-writable tensors. Writing to this tensor will write to the array.",
                      UserWarning, stacklevel=2)
    cdef Storage s = external_storage(data, 0 if empty else (hi + 1) * isz, ndarray)
    return wrap_storage(s, code, nd, shape, strides, 0)


class _ArrayInterface:
    """Hands numpy a zero-copy view of a tensor; keeps the tensor alive."""
    __slots__ = ("__array_interface__", "tensor")

    def __init__(self, interface, tensor):
        self.__array_interface__ = interface
        self.tensor = tensor


_TYPESTR = ["|b1", "|u1", "|i1", "<i2", "<i4", "<i8", "<f2", None, "<f4", "<f8", "<c8", "<c16"]


# ---------------------------------------------------------------------------------------
cdef class Tensor:
    """An n-dimensional array of one dtype, like ``torch.Tensor`` on the CPU.

    ``Tensor(*sizes)`` gives an uninitialised float tensor and ``Tensor(sequence)`` a float
    tensor of the data, as PyTorch's legacy constructor; use the factories
    (``rt_tensor.tensor``, ``zeros``, ...) in new code.
    """
    __array_priority__ = 1000    # numpy defers to our reflected operators

    def __init__(self, *args, **kwargs):
        if self._storage is not None:
            return
        cdef Tensor src
        cdef index_t shape[MAX_DIMS]
        cdef int nd
        if kwargs:
            raise TypeError(f"Tensor(): unexpected keyword arguments {sorted(kwargs)}")
        if len(args) == 1 and not isinstance(args[0], int) and not isinstance(args[0], Size):
            src = _creation.tensor(args[0], dtype=dtype_of(default_float_code()))
        else:
            nd = parse_shape(args, shape, "Tensor") if args else 0
            if not args:
                nd = 1
                shape[0] = 0
            src = new_tensor(default_float_code(), nd, shape, False)
        self._storage = src._storage
        self._dtype = src._dtype
        self._ndim = src._ndim
        self._offset = src._offset
        self._numel = src._numel
        memcpy(self._shape, src._shape, sizeof(index_t) * src._ndim)
        memcpy(self._strides, src._strides, sizeof(index_t) * src._ndim)

    cdef inline char* ptr(self) noexcept nogil:
        return self._storage.data + self._offset * ITEMSIZE[self._dtype]

    cdef bint is_contig(self) noexcept nogil:
        cdef index_t expected = 1
        cdef int i
        if self._numel == 0:
            return True            # as PyTorch: a tensor without elements is contiguous
        for i in range(self._ndim - 1, -1, -1):
            if self._shape[i] != 1:
                if self._strides[i] != expected:
                    return False
                expected *= self._shape[i]
        return True

    # ---- metadata ---------------------------------------------------------------------
    @property
    def shape(self):
        return Size(shape_tuple(self))

    def size(self, dim=None):
        """The shape, or the size of one dimension."""
        if dim is None:
            return Size(shape_tuple(self))
        return self._shape[wrap_dim(dim, self._ndim, False)]

    def stride(self, dim=None):
        """Strides in elements, or the stride of one dimension."""
        if dim is None:
            return tuple([self._strides[i] for i in range(self._ndim)])
        return self._strides[wrap_dim(dim, self._ndim, False)]

    @property
    def dtype(self):
        return dtype_of(self._dtype)

    @property
    def ndim(self):
        return self._ndim

    def dim(self):
        return self._ndim

    def ndimension(self):
        return self._ndim

    def numel(self):
        return self._numel

    def nelement(self):
        return self._numel

    def storage_offset(self):
        return self._offset

    def is_contiguous(self, memory_format=None):
        return self.is_contig()

    def data_ptr(self):
        """Address of the first element (PyTorch: 0 for a tensor with no elements)."""
        if self._numel == 0 and self._storage.nbytes == 0:
            return 0
        return <size_t>self.ptr()

    def element_size(self):
        return ITEMSIZE[self._dtype]

    @property
    def itemsize(self):
        return ITEMSIZE[self._dtype]

    @property
    def nbytes(self):
        return self._numel * ITEMSIZE[self._dtype]

    @property
    def device(self):
        return _CPU

    @property
    def is_cpu(self):
        return True

    @property
    def is_cuda(self):
        return False

    @property
    def layout(self):
        return "strided"

    @property
    def _version(self):
        return self._storage.version

    def _bump_version(self):
        self._storage.version += 1

    def untyped_storage(self):
        """The Storage shared by this tensor and its views."""
        return self._storage

    def is_floating_point(self):
        return category(self._dtype) == 2

    def is_complex(self):
        return category(self._dtype) == 3

    def is_signed(self):
        return dtype_of(self._dtype).is_signed

    def _is_view_of(self, Tensor other):
        return self._storage is other._storage

    def __len__(self):
        if self._ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    # ---- Python scalars ------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._numel != 1:
            raise RuntimeError(f"a Tensor with {self._numel} elements cannot be converted to Scalar")
        return _scalar_of(self)

    def tolist(self):
        """Nested lists of Python numbers (a Python number for a 0-d tensor)."""
        if self._ndim == 0:
            return _scalar_of(self)
        if self._dtype == DT_BFLOAT16:
            return self.to(dtype_of(DT_FLOAT32)).numpy(force=True).tolist()
        return self.numpy(force=True).tolist()

    def __bool__(self):
        if self._numel != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'more than one' if self._numel > 1 else 'no'} "
                               "value is ambiguous")
        return bool(_scalar_of(self))

    def __float__(self):
        if self._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        v = _scalar_of(self)
        if isinstance(v, complex):
            raise TypeError("can't convert complex to float")
        return float(v)

    def __int__(self):
        if self._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        v = _scalar_of(self)
        if isinstance(v, complex):
            raise TypeError("can't convert complex to int")
        return int(v)

    def __complex__(self):
        if self._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return complex(_scalar_of(self))

    def __index__(self):
        if self._numel != 1 or category(self._dtype) > 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(_scalar_of(self))

    # ---- numpy interop ---------------------------------------------------------------------
    @property
    def __array_interface__(self):
        typestr = _TYPESTR[self._dtype]
        if typestr is None:
            raise TypeError(f"Got unsupported ScalarType BFloat16: numpy has no bfloat16; "
                            "convert with .float() first")
        cdef int isz = ITEMSIZE[self._dtype]
        return {"version": 3, "typestr": typestr, "descr": [("", typestr)],
                "shape": shape_tuple(self),
                "strides": tuple([self._strides[i] * isz for i in range(self._ndim)]),
                "data": (<size_t>self.ptr(), False)}

    def numpy(self, *, force=False):
        """A numpy array sharing memory with this tensor (``Tensor.numpy``)."""
        return np.asarray(_ArrayInterface(self.__array_interface__, self))

    def __array__(self, dtype=None, copy=None):
        if copy is True:
            arr = np.array(self.numpy(), copy=True)
        else:
            arr = self.numpy()
        if dtype is not None and arr.dtype != np.dtype(dtype):
            if copy is False:
                raise ValueError("__array__: a dtype change needs a copy but copy=False")
            arr = arr.astype(dtype)
        return arr

    # ---- DLPack ----------------------------------------------------------------------------
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return _dlpack.to_dlpack(self, stream=stream, max_version=max_version,
                                 dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        return (1, 0)      # kDLCPU, device 0

    # ---- repr ------------------------------------------------------------------------------
    def __repr__(self):
        return _format.tensor_repr(self)

    def __str__(self):
        return _format.tensor_repr(self)

    def __format__(self, spec):
        if self._ndim == 0 and spec:
            return format(self.item(), spec)
        return object.__format__(self, spec) if spec else repr(self)

    # ---- views -----------------------------------------------------------------------------
    def view(self, *shape):
        """A view with another shape (one size may be -1) or, given a dtype, another dtype
        of the same size. Raises RuntimeError when the strides do not allow it: use
        ``reshape``."""
        if len(shape) == 1 and (isinstance(shape[0], dtype) or shape[0] in (float, int, bool)):
            return self._view_dtype(as_dtype(shape[0]))
        cdef index_t newshape[MAX_DIMS]
        cdef index_t newstride[MAX_DIMS]
        cdef int nd = _infer_size(self, shape, newshape, "view")
        if not _view_strides(self, nd, newshape, newstride):
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.")
        return make_view(self, nd, newshape, newstride, self._offset)

    def _view_dtype(self, dtype d):
        if d.itemsize != ITEMSIZE[self._dtype]:
            if self._ndim == 0 or self._strides[self._ndim - 1] != 1:
                raise RuntimeError(f"self.dim() cannot be 0 and self.stride(-1) must be 1 to view "
                                   f"{dtype_of(self._dtype).scalar_name} as {d.scalar_name} "
                                   "(different element sizes)")
            raise RuntimeError(f"view({d!r}): viewing {dtype_of(self._dtype)!r} as a dtype of "
                               "another element size is not supported")
        cdef Tensor t = make_view(self, self._ndim, self._shape, self._strides, self._offset)
        t._dtype = d.code
        return t

    def view_as(self, Tensor other):
        return self.view(shape_tuple(other))

    def reshape(self, *shape):
        """A view when the strides allow one, else a contiguous copy (``Tensor.reshape``)."""
        cdef index_t newshape[MAX_DIMS]
        cdef index_t newstride[MAX_DIMS]
        cdef int nd = _infer_size(self, shape, newshape, "reshape")
        if _view_strides(self, nd, newshape, newstride):
            return make_view(self, nd, newshape, newstride, self._offset)
        cdef Tensor c = contiguous_tensor(self)
        contiguous_strides(nd, newshape, newstride)
        return make_view(c, nd, newshape, newstride, c._offset)

    def reshape_as(self, Tensor other):
        return self.reshape(shape_tuple(other))

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims start_dim..end_dim into one (a view when possible)."""
        if self._ndim == 0:
            return self.reshape(1)
        cdef int s = wrap_dim(start_dim, self._ndim), e = wrap_dim(end_dim, self._ndim)
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if s == e:
            return self
        shape = list(shape_tuple(self))
        merged = 1
        for i in range(s, e + 1):
            merged *= shape[i]
        return self.reshape(shape[:s] + [merged] + shape[e + 1:])

    def unflatten(self, dim, sizes):
        """Split one dim into ``sizes`` (one may be -1)."""
        cdef int d = wrap_dim(dim, self._ndim, False)
        sizes = list(sizes)
        if len(sizes) == 0:
            raise RuntimeError("unflatten: sizes must be non-empty")
        known = 1
        infer = -1
        for i, s in enumerate(sizes):
            if s == -1:
                if infer >= 0:
                    raise RuntimeError("only one dimension can be inferred")
                infer = i
            else:
                known *= s
        if infer >= 0:
            if known == 0 or self._shape[d] % known:
                raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the "
                                   f"size of dim {dim} ({self._shape[d]}) in the input tensor")
            sizes[infer] = self._shape[d] // known
        elif known != self._shape[d]:
            raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size "
                               f"of dim {dim} ({self._shape[d]}) in the input tensor")
        shape = list(shape_tuple(self))
        return self.view(shape[:d] + sizes + shape[d + 1:])

    def squeeze(self, dim=None):
        """Remove size-1 dims (all, or those named by ``dim``: an int or a tuple)."""
        cdef index_t shape[MAX_DIMS]
        cdef index_t strides[MAX_DIMS]
        cdef bint drop[MAX_DIMS]
        cdef int i, nd = 0
        for i in range(self._ndim):
            drop[i] = False
        if dim is None:
            for i in range(self._ndim):
                drop[i] = self._shape[i] == 1
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            for d in dims:
                i = wrap_dim(d, self._ndim)
                if self._ndim > 0 and self._shape[i] == 1:
                    drop[i] = True
        for i in range(self._ndim):
            if not drop[i]:
                shape[nd] = self._shape[i]
                strides[nd] = self._strides[i]
                nd += 1
        return make_view(self, nd, shape, strides, self._offset)

    def unsqueeze(self, dim):
        """Insert a size-1 dim at ``dim`` (in range [-ndim-1, ndim])."""
        cdef int d = wrap_dim(dim, self._ndim + 1)
        if self._ndim + 1 > MAX_DIMS:
            raise RuntimeError(f"unsqueeze: at most {MAX_DIMS} dimensions are supported")
        cdef index_t shape[MAX_DIMS]
        cdef index_t strides[MAX_DIMS]
        cdef int i, j = 0
        for i in range(self._ndim + 1):
            if i == d:
                shape[i] = 1
                strides[i] = self._strides[d] * self._shape[d] if d < self._ndim else 1
            else:
                shape[i] = self._shape[j]
                strides[i] = self._strides[j]
                j += 1
        return make_view(self, self._ndim + 1, shape, strides, self._offset)

    def transpose(self, dim0, dim1):
        """Swap two dims (a view)."""
        cdef int a = wrap_dim(dim0, self._ndim), b = wrap_dim(dim1, self._ndim)
        cdef Tensor t = make_view(self, self._ndim, self._shape, self._strides, self._offset)
        if self._ndim == 0:
            return t
        t._shape[a], t._shape[b] = self._shape[b], self._shape[a]
        t._strides[a], t._strides[b] = self._strides[b], self._strides[a]
        return t

    swapaxes = transpose
    swapdims = transpose

    def t(self):
        """Transpose a tensor of at most 2 dims."""
        if self._ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self._ndim}D")
        return self.transpose(0, 1) if self._ndim == 2 else self

    @property
    def T(self):
        return self.permute(tuple(range(self._ndim - 1, -1, -1)))

    @property
    def mT(self):
        if self._ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self._ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def mH(self):
        t = self.mT
        return t.conj() if self.is_complex() else t

    @property
    def H(self):
        if self._ndim > 2:
            raise RuntimeError("tensor.H is only supported on matrices (2-D tensors).")
        t = self.t()
        return t.conj() if self.is_complex() else t

    def permute(self, *dims):
        """Reorder the dims (a view)."""
        if len(dims) == 1 and not isinstance(dims[0], int):
            dims = tuple(dims[0])
        if len(dims) != self._ndim:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                               f"does not match the length of the desired ordering of dimensions "
                               f"i.e. input.dim() = {self._ndim} is not equal to len(dims) = {len(dims)}")
        cdef index_t shape[MAX_DIMS]
        cdef index_t strides[MAX_DIMS]
        cdef bint seen[MAX_DIMS]
        cdef int i, d
        for i in range(self._ndim):
            seen[i] = False
        for i in range(self._ndim):
            d = wrap_dim(dims[i], self._ndim)
            if seen[d]:
                raise RuntimeError("permute(): duplicate dims are not allowed.")
            seen[d] = True
            shape[i] = self._shape[d]
            strides[i] = self._strides[d]
        return make_view(self, self._ndim, shape, strides, self._offset)

    def movedim(self, source, destination):
        """Move dims from ``source`` to ``destination`` positions (a view)."""
        src = [source] if isinstance(source, int) else list(source)
        dst = [destination] if isinstance(destination, int) else list(destination)
        if len(src) != len(dst):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                               f"should contain the same number of dims as destination ({dst} dims)")
        n = self._ndim
        src = [wrap_dim(s, n) for s in src]
        dst = [wrap_dim(d, n) for d in dst]
        if len(set(src)) != len(src):
            raise RuntimeError(f"movedim: repeated dim in `source` ({list(source) if not isinstance(source, int) else source})")
        if len(set(dst)) != len(dst):
            raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination) if not isinstance(destination, int) else destination})")
        order = [-1] * n
        for s, d in zip(src, dst):
            order[d] = s
        rest = iter([i for i in range(n) if i not in src])
        for i in range(n):
            if order[i] == -1:
                order[i] = next(rest)
        return self.permute(order)

    moveaxis = movedim

    def expand(self, *sizes):
        """Broadcast to ``sizes`` by stride 0 (-1 keeps a size). A view, never a copy."""
        cdef index_t shape[MAX_DIMS]
        cdef index_t strides[MAX_DIMS]
        cdef int nd = parse_shape(sizes, shape, "expand")
        cdef int i, j
        if nd < self._ndim:
            raise RuntimeError(f"expand({dtype_of(self._dtype).scalar_name}Type{{{list(shape_tuple(self))}}}, "
                               f"size={fmt_shape(nd, shape)}): the number of sizes provided ({nd}) must "
                               f"be greater or equal to the number of dimensions in the tensor ({self._ndim})")
        for i in range(nd - 1, -1, -1):
            j = i - (nd - self._ndim)
            if j >= 0:
                if shape[i] == -1:
                    shape[i] = self._shape[j]
                if self._shape[j] == shape[i]:
                    strides[i] = self._strides[j]
                elif self._shape[j] == 1:
                    if shape[i] < 0:
                        raise RuntimeError(f"expand: invalid size {shape[i]}")
                    strides[i] = 0
                else:
                    raise RuntimeError(f"The expanded size of the tensor ({shape[i]}) must match the "
                                       f"existing size ({self._shape[j]}) at non-singleton dimension {i}.  "
                                       f"Target sizes: {fmt_shape(nd, shape)}.  Tensor sizes: "
                                       f"{fmt_shape(self._ndim, self._shape)}")
            else:
                if shape[i] < 0:
                    raise RuntimeError(f"The expanded size of the tensor ({shape[i]}) isn't allowed in "
                                       f"a leading, non-existing dimension {i}")
                strides[i] = 0
        return make_view(self, nd, shape, strides, self._offset)

    def expand_as(self, Tensor other):
        return self.expand(shape_tuple(other))

    def broadcast_to(self, *shape):
        return self.expand(*shape)

    def narrow(self, dim, start, length):
        """Elements start..start+length-1 of ``dim`` (a view)."""
        if self._ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        cdef int d = wrap_dim(dim, self._ndim)
        cdef index_t st = _as_index(start, "narrow", "start"), ln = _as_index(length, "narrow", "length")
        cdef index_t size = self._shape[d]
        if st < -size or st > size:
            raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {st})")
        if st < 0:
            st += size
        if ln < 0 or st > size - ln:
            raise RuntimeError(f"start ({st}) + length ({ln}) exceeds dimension size ({size}).")
        cdef Tensor t = make_view(self, self._ndim, self._shape, self._strides,
                                  self._offset + st * self._strides[d])
        t._shape[d] = ln
        t._numel = shape_numel(t._ndim, t._shape)
        return t

    def select(self, dim, index):
        """The slice at ``index`` of ``dim``, with that dim removed (a view)."""
        if self._ndim == 0:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        cdef int d = wrap_dim(dim, self._ndim)
        cdef index_t i = _as_index(index, "select", "index")
        cdef index_t size = self._shape[d]
        if i < -size or i >= size:
            raise IndexError(f"select(): index {i} out of range for tensor of size "
                             f"{list(shape_tuple(self))} at dimension {d}")
        if i < 0:
            i += size
        return _drop_dim(self, d, self._offset + i * self._strides[d])

    def unbind(self, dim=0):
        """All slices along ``dim``, as a tuple of views."""
        cdef int d = wrap_dim(dim, self._ndim, False)
        cdef index_t i
        return tuple([_drop_dim(self, d, self._offset + i * self._strides[d])
                      for i in range(self._shape[d])])

    def split(self, split_size_or_sections, dim=0):
        """Views of ``split_size`` along ``dim`` (the last may be smaller), or of the given
        section sizes."""
        cdef int d = wrap_dim(dim, self._ndim, False)
        size = self._shape[d]
        if isinstance(split_size_or_sections, int) or (
                isinstance(split_size_or_sections, Tensor) and split_size_or_sections.ndim == 0):
            step = int(split_size_or_sections)
            if step < 0 or (step == 0 and size != 0):
                raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
            if size == 0:
                return (self,) if step == 0 else (self.narrow(d, 0, 0),)
            return tuple(self.narrow(d, s, min(step, size - s)) for s in range(0, size, step))
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != size or any(s < 0 for s in sections):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {d}), but got split_sizes={sections}")
        result = []
        start = 0
        for s in sections:
            result.append(self.narrow(d, start, s))
            start += s
        return tuple(result)

    def split_with_sizes(self, split_sizes, dim=0):
        return self.split(list(split_sizes), dim)

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` views of equal size along ``dim`` (``torch.chunk``)."""
        if chunks <= 0:
            raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
        cdef int d = wrap_dim(dim, self._ndim, False)
        size = self._shape[d]
        step = -(-size // chunks) if size else 0
        if size == 0:
            return self.split(0, d) if chunks else ()
        return self.split(step, d)

    def tensor_split(self, indices_or_sections, dim=0):
        cdef int d = wrap_dim(dim, self._ndim, False)
        size = self._shape[d]
        if isinstance(indices_or_sections, int):
            n = indices_or_sections
            if n <= 0:
                raise RuntimeError(f"number of sections must be larger than 0, got {n}")
            q, r = divmod(size, n)
            sizes = [q + 1] * r + [q] * (n - r)
            return self.split(sizes, d)
        bounds = [0] + [min(max(int(i) if i >= 0 else int(i) + size, 0), size)
                        for i in indices_or_sections] + [size]
        return tuple(self.narrow(d, a, max(b - a, 0)) for a, b in zip(bounds[:-1], bounds[1:]))

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The diagonal of the (dim1, dim2) planes as the last dim (a view)."""
        cdef int a = wrap_dim(dim1, self._ndim, False), b = wrap_dim(dim2, self._ndim, False)
        if a == b:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        cdef index_t off = offset, length, start = self._offset
        if off >= 0:
            length = max(min(self._shape[a], self._shape[b] - off), 0)
            start += off * self._strides[b] if length > 0 else 0
        else:
            length = max(min(self._shape[a] + off, self._shape[b]), 0)
            start -= off * self._strides[a] if length > 0 else 0
        cdef index_t shape[MAX_DIMS]
        cdef index_t strides[MAX_DIMS]
        cdef int i, nd = 0
        for i in range(self._ndim):
            if i != a and i != b:
                shape[nd] = self._shape[i]
                strides[nd] = self._strides[i]
                nd += 1
        shape[nd] = length
        strides[nd] = self._strides[a] + self._strides[b]
        return make_view(self, nd + 1, shape, strides, start)

    def as_strided(self, size, stride, storage_offset=None):
        """A view with the given sizes, strides and offset into the same storage. Checked
        against the storage's bounds."""
        cdef index_t shape[MAX_DIMS]
        cdef index_t strides[MAX_DIMS]
        cdef int nd = parse_shape((tuple(size),), shape, "as_strided")
        cdef int ns = parse_shape((tuple(stride),), strides, "as_strided")
        cdef int i
        if nd != ns:
            raise RuntimeError(f"mismatch in length of strides and shape")
        cdef index_t off = self._offset if storage_offset is None else storage_offset
        cdef index_t hi = off
        if off < 0:
            raise RuntimeError(f"as_strided: Negative storage offset {off}")
        for i in range(nd):
            if shape[i] < 0:
                raise RuntimeError(f"as_strided: Negative size {shape[i]}")
            if strides[i] < 0:
                raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                                   f"got strides: {list(stride)}")
            if shape[i] == 0:
                hi = -1
                break
            hi += (shape[i] - 1) * strides[i]
        if hi >= 0 and (hi + 1) * ITEMSIZE[self._dtype] > self._storage.nbytes:
            raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                               f"offset {off}, and itemsize {ITEMSIZE[self._dtype]} requiring a "
                               f"storage size of {(hi + 1) * ITEMSIZE[self._dtype]} are out of "
                               f"bounds for storage of size {self._storage.nbytes}")
        return make_view(self, nd, shape, strides, off)

    def unfold(self, dimension, size, step):
        """Windows of ``size`` every ``step`` along ``dimension`` as a new last dim (a view)."""
        cdef int d = wrap_dim(dimension, self._ndim)
        cdef index_t sz = size, st = step
        cdef index_t dimsize = self._shape[d] if self._ndim else 1
        if sz > dimsize:
            raise RuntimeError(f"maximum size for tensor at dimension {d} is {dimsize} but size is {sz}")
        if st <= 0:
            raise RuntimeError(f"step is {st} but must be > 0")
        if self._ndim == 0:
            return self.reshape(1)
        cdef Tensor t = make_view(self, self._ndim + 1, self._shape, self._strides, self._offset)
        t._shape[d] = (dimsize - sz) // st + 1
        t._strides[d] = self._strides[d] * st
        t._shape[self._ndim] = sz
        t._strides[self._ndim] = self._strides[d]
        t._numel = shape_numel(t._ndim, t._shape)
        return t

    def resize_(self, *sizes, memory_format=None):
        """Give this tensor the shape ``sizes`` in place (contiguous strides); the storage is
        kept when it is large enough, new memory is uninitialised (``Tensor.resize_``)."""
        cdef index_t shape[MAX_DIMS]
        cdef int nd = parse_shape(sizes, shape, "resize_")
        _resize(self, nd, shape, True)
        return self

    def resize_as_(self, Tensor other):
        return self.resize_(shape_tuple(other))

    def detach(self):
        """A new tensor sharing this one's storage (no autograd in rt_tensor)."""
        return make_view(self, self._ndim, self._shape, self._strides, self._offset)

    def alias(self):
        return make_view(self, self._ndim, self._shape, self._strides, self._offset)

    def cpu(self):
        return self

    def contiguous(self, memory_format=None):
        """This tensor if already contiguous, else a contiguous copy."""
        return contiguous_tensor(self)

    def clone(self, *, memory_format=None):
        """A contiguous copy with its own storage."""
        cdef Tensor out = new_tensor(self._dtype, self._ndim, self._shape, False)
        copy_into(out, self)
        out._storage.version = 0
        return out

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast to this shape, converted to this dtype) into self."""
        copy_into(self, to_tensor(src))
        return self

    def fill_(self, value):
        """Set every element to ``value`` (a number or a one-element tensor)."""
        if isinstance(value, Tensor):
            if (<Tensor>value)._ndim != 0:
                raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                                   f"with {(<Tensor>value)._ndim} dimensions.")
            copy_into(self, <Tensor>value)
        else:
            copy_into(self, _creation.scalar_tensor(value, dtype_of(self._dtype)))
        return self

    def zero_(self):
        return self.fill_(0)

    def to(self, *args, **kwargs):
        """Convert to a dtype (``to(dtype)``, ``to(other)``, ``to('cpu', dtype)``); returns
        self when nothing changes unless ``copy=True``."""
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        target = kwargs.pop("dtype", None)
        _check_device(kwargs.pop("device", None))
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                target = dtype_of((<Tensor>a)._dtype)
            elif isinstance(a, (str, device)) and not (isinstance(a, str) and a in ("float32", "float64")):
                _check_device(a)
            elif a is not None:
                target = a
        cdef dtype d = as_dtype(target) if target is not None else dtype_of(self._dtype)
        if d.code == self._dtype and not copy:
            return self
        cdef Tensor out = new_tensor(d.code, self._ndim, self._shape, False)
        copy_into(out, self)
        out._storage.version = 0
        return out

    def type(self, dtype=None):
        if dtype is None:
            return "rt_tensor." + dtype_of(self._dtype).scalar_name + "Tensor"
        return self.to(dtype)

    def type_as(self, Tensor other):
        return self.to(dtype_of(other._dtype))

    def float(self):
        return self.to(dtype_of(DT_FLOAT32))

    def double(self):
        return self.to(dtype_of(DT_FLOAT64))

    def half(self):
        return self.to(dtype_of(DT_FLOAT16))

    def bfloat16(self):
        return self.to(dtype_of(DT_BFLOAT16))

    def long(self):
        return self.to(dtype_of(DT_INT64))

    def int(self):
        return self.to(dtype_of(DT_INT32))

    def short(self):
        return self.to(dtype_of(DT_INT16))

    def char(self):
        return self.to(dtype_of(DT_INT8))

    def byte(self):
        return self.to(dtype_of(DT_UINT8))

    def bool(self):
        return self.to(dtype_of(DT_BOOL))

    def cfloat(self):
        return self.to(dtype_of(DT_COMPLEX64))

    def cdouble(self):
        return self.to(dtype_of(DT_COMPLEX128))

    # ---- indexing --------------------------------------------------------------------------
    def __getitem__(self, index):
        cdef Tensor r = _basic_index(self, index)
        if r is not None:
            return r
        return _index.getitem(self, index)

    def __setitem__(self, index, value):
        cdef Tensor dst = _basic_index(self, index)
        if dst is None:
            _index.setitem(self, index, value)
            return
        if isinstance(value, Tensor):
            copy_into(dst, <Tensor>value)
        else:
            copy_into(dst, _creation.scalar_or_tensor(value, dtype_of(self._dtype)))

    # ---- operators (kernels registered by _elementwise) -----------------------------------
    def __add__(self, other):
        return _binary_hook(OP_ADD, self, other, None, False)

    def __radd__(self, other):
        return _binary_hook(OP_ADD, other, self, None, False)

    def __iadd__(self, other):
        return _binary_hook(OP_ADD, self, other, self, True)

    def __sub__(self, other):
        return _binary_hook(OP_SUB, self, other, None, False)

    def __rsub__(self, other):
        return _binary_hook(OP_SUB, other, self, None, False)

    def __isub__(self, other):
        return _binary_hook(OP_SUB, self, other, self, True)

    def __mul__(self, other):
        return _binary_hook(OP_MUL, self, other, None, False)

    def __rmul__(self, other):
        return _binary_hook(OP_MUL, other, self, None, False)

    def __imul__(self, other):
        return _binary_hook(OP_MUL, self, other, self, True)

    def __truediv__(self, other):
        return _binary_hook(OP_DIV, self, other, None, False)

    def __rtruediv__(self, other):
        return _binary_hook(OP_DIV, other, self, None, False)

    def __itruediv__(self, other):
        return _binary_hook(OP_DIV, self, other, self, True)

    def __floordiv__(self, other):
        return _binary_hook(OP_FLOOR_DIV, self, other, None, False)

    def __rfloordiv__(self, other):
        return _binary_hook(OP_FLOOR_DIV, other, self, None, False)

    def __ifloordiv__(self, other):
        return _binary_hook(OP_FLOOR_DIV, self, other, self, True)

    def __mod__(self, other):
        return _binary_hook(OP_REMAINDER, self, other, None, False)

    def __rmod__(self, other):
        return _binary_hook(OP_REMAINDER, other, self, None, False)

    def __imod__(self, other):
        return _binary_hook(OP_REMAINDER, self, other, self, True)

    def __pow__(self, other, mod):
        return _binary_hook(OP_POW, self, other, None, False)

    def __rpow__(self, other, mod):
        return _binary_hook(OP_POW, other, self, None, False)

    def __ipow__(self, other):
        return _binary_hook(OP_POW, self, other, self, True)

    def __and__(self, other):
        return _binary_hook(OP_AND, self, other, None, False)

    def __rand__(self, other):
        return _binary_hook(OP_AND, other, self, None, False)

    def __iand__(self, other):
        return _binary_hook(OP_AND, self, other, self, True)

    def __or__(self, other):
        return _binary_hook(OP_OR, self, other, None, False)

    def __ror__(self, other):
        return _binary_hook(OP_OR, other, self, None, False)

    def __ior__(self, other):
        return _binary_hook(OP_OR, self, other, self, True)

    def __xor__(self, other):
        return _binary_hook(OP_XOR, self, other, None, False)

    def __rxor__(self, other):
        return _binary_hook(OP_XOR, other, self, None, False)

    def __ixor__(self, other):
        return _binary_hook(OP_XOR, self, other, self, True)

    def __lshift__(self, other):
        return _binary_hook(OP_LSHIFT, self, other, None, False)

    def __rlshift__(self, other):
        return _binary_hook(OP_LSHIFT, other, self, None, False)

    def __ilshift__(self, other):
        return _binary_hook(OP_LSHIFT, self, other, self, True)

    def __rshift__(self, other):
        return _binary_hook(OP_RSHIFT, self, other, None, False)

    def __rrshift__(self, other):
        return _binary_hook(OP_RSHIFT, other, self, None, False)

    def __irshift__(self, other):
        return _binary_hook(OP_RSHIFT, self, other, self, True)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __neg__(self):
        return _unary_hook(OP_NEG, self, None, False)

    def __pos__(self):
        return _unary_hook(OP_POS, self, None, False)

    def __abs__(self):
        return _unary_hook(OP_ABS, self, None, False)

    def __invert__(self):
        return _unary_hook(OP_INVERT, self, None, False)

    def __richcmp__(self, other, int op):
        if other is None:
            return op != Py_EQ
        return _binary_hook(_RICHCMP[op], self, other, None, False)

    def __contains__(self, element):
        return bool((self == element).any())

    def __reduce_ex__(self, proto):
        # pickle the raw bytes of a contiguous copy: exact for every dtype, fast
        cdef Tensor c = contiguous_tensor(self)
        cdef bytes raw = (<char*>c.ptr())[:c._numel * ITEMSIZE[c._dtype]]
        return (_rebuild_tensor, (raw, c._dtype, shape_tuple(c)))


def _rebuild_tensor(bytes raw, int dt, tuple shape):
    """Unpickle a tensor written by Tensor.__reduce_ex__."""
    if dt < 0 or dt >= NUM_DTYPES:
        raise ValueError(f"invalid dtype code {dt} in pickled tensor")
    cdef Tensor t = new_tensor_from_tuple(dt, shape, False)
    if len(raw) != t._numel * ITEMSIZE[dt]:
        raise ValueError("pickled tensor data does not match its shape and dtype")
    if len(raw):
        memcpy(t.ptr(), <char*>raw, len(raw))
    return t


# Py_LT, Py_LE, Py_EQ, Py_NE, Py_GT, Py_GE -> op codes
cdef int _RICHCMP[6]
_RICHCMP[0] = OP_LT
_RICHCMP[1] = OP_LE
_RICHCMP[2] = OP_EQ
_RICHCMP[3] = OP_NE
_RICHCMP[4] = OP_GT
_RICHCMP[5] = OP_GE


cdef extern from "Python.h":
    ctypedef struct PyTypeObject:
        PyObject* tp_dict
    ctypedef struct PyObject
    void PyType_Modified(PyTypeObject* t)


def _register_methods(mapping):
    """Install ``Tensor.<name>`` for each name -> function given, where ``fn(self, ...)``
    implements the method (an op module's TENSOR_METHODS). Methods the class defines itself
    are never replaced. Done once at import by rt_tensor/__init__.py, so the methods are
    real attributes of the type (found by ``dir``, overridable by subclasses)."""
    cdef dict type_dict = <dict><object>(<PyTypeObject*>Tensor).tp_dict
    for name, fn in mapping.items():
        if name in type_dict:
            continue
        if not hasattr(fn, "__get__"):
            fn = _as_method(fn, name)
        type_dict[name] = fn
    PyType_Modified(<PyTypeObject*>Tensor)


cdef extern from "Python.h":
    object PyMethod_New(object func, object self)


cdef class _Method:
    """Makes a builtin function ``fn(self, ...)`` a method: ``t.name`` is a bound method
    object (``PyMethod_New``), which calls ``fn(t, ...)`` through vectorcall."""
    cdef object fn

    def __init__(self, fn):
        self.fn = fn

    def __get__(self, obj, objtype):
        if obj is None:
            return self.fn
        return PyMethod_New(self.fn, obj)


def _as_method(fn, name):
    """A descriptor that binds self, for builtin (non-binding) functions."""
    return _Method(fn)


cdef Tensor _drop_dim(Tensor t, int d, index_t offset):
    cdef index_t shape[MAX_DIMS]
    cdef index_t strides[MAX_DIMS]
    cdef int i, nd = 0
    for i in range(t._ndim):
        if i != d:
            shape[nd] = t._shape[i]
            strides[nd] = t._strides[i]
            nd += 1
    return make_view(t, nd, shape, strides, offset)


cdef Tensor _basic_index(Tensor t, object index):
    """The view for an index made of ints, slices, None and Ellipsis; None when the index
    holds anything else (tensors, lists, bools), which _index handles."""
    cdef tuple items
    if isinstance(index, tuple):
        items = <tuple>index
    else:
        items = (index,)
    cdef int n_consumed = 0, ell = -1, k = 0
    for item in items:
        if item is None:
            pass
        elif item is Ellipsis:
            if ell >= 0:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ell = k
        elif isinstance(item, slice):
            n_consumed += 1
        elif isinstance(item, bool) or isinstance(item, (Tensor, list, np.ndarray)):
            return None
        elif isinstance(item, int) or hasattr(item, "__index__"):
            n_consumed += 1
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(item).__name__})")
        k += 1
    if n_consumed > t._ndim:
        raise IndexError(f"too many indices for tensor of dimension {t._ndim}")
    cdef index_t shape[MAX_DIMS]
    cdef index_t strides[MAX_DIMS]
    cdef index_t offset = t._offset
    cdef int src = 0, nd = 0, j
    cdef index_t size, start, stop, step, length, i
    for item in items:
        if item is None:
            if nd >= MAX_DIMS:
                raise IndexError(f"at most {MAX_DIMS} dimensions are supported")
            shape[nd] = 1
            strides[nd] = 1
            nd += 1
        elif item is Ellipsis:
            for j in range(t._ndim - n_consumed):
                shape[nd] = t._shape[src]
                strides[nd] = t._strides[src]
                nd += 1
                src += 1
        elif isinstance(item, slice):
            size = t._shape[src]
            sl = <slice>item
            step = 1 if sl.step is None else _as_index(sl.step, "slice", "step")
            if step <= 0:
                raise ValueError("step must be greater than zero")
            start = 0 if sl.start is None else _as_index(sl.start, "slice", "start")
            stop = size if sl.stop is None else _as_index(sl.stop, "slice", "stop")
            if start < 0:
                start = max(start + size, 0)
            if stop < 0:
                stop = max(stop + size, 0)
            start = min(start, size)
            stop = min(stop, size)
            length = (stop - start + step - 1) // step if stop > start else 0
            if length > 0:
                offset += start * t._strides[src]
            shape[nd] = length
            strides[nd] = t._strides[src] * step
            nd += 1
            src += 1
        else:
            i = item.__index__()
            size = t._shape[src]
            if i < -size or i >= size:
                raise IndexError(f"index {i} is out of bounds for dimension {src} with size {size}")
            if i < 0:
                i += size
            offset += i * t._strides[src]
            src += 1
    if ell < 0:
        while src < t._ndim:
            shape[nd] = t._shape[src]
            strides[nd] = t._strides[src]
            nd += 1
            src += 1
    return make_view(t, nd, shape, strides, offset)
