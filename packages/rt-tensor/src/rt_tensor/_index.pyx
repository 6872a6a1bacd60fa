# cython: language_level=3
"""Indexing ops: advanced ``__getitem__``/``__setitem__`` (integer tensors, lists, numpy
arrays, boolean masks, Python bools), ``index_put_``, ``index_select``, ``gather``,
``scatter*``, ``index_add/copy/fill``, ``masked_fill/select/scatter``, ``where``,
``nonzero``, ``argwhere``, ``take``, ``take_along_dim``, ``put``.

Every op follows one pattern: the Python-facing layer checks arguments and turns the index
tensors into int64 BYTE offsets in a checking pass (``_offsets``: bounds errors are raised
there, with PyTorch's messages), then a kernel runs over an NdIter whose operands are the
output, a "restrided" view of the source/destination (stride 0 along the indexed dims) and
the offsets. The copy kernels depend only on the item size; reducing scatters have one loop
per dtype (``_index_loops.pxi.in``) and run serially, so duplicate targets accumulate
correctly.
"""
include "build_stamp.pxi"
import numbers
import warnings

import numpy as np

from libc.string cimport memcpy, memset, memmove
from rt_tensor._types cimport *
from rt_tensor._dtype cimport (ITEMSIZE, dtype_of, category, promote_types_code, as_dtype,
                               ResultState, state_init, state_update_tensor,
                               state_update_scalar, state_result)
from rt_tensor._tensor cimport (Tensor, new_tensor, make_view, shape_numel, shape_tuple,
                                wrap_dim, to_tensor, contiguous_tensor, copy_into,
                                contiguous_strides, new_tensor_from_tuple)
from rt_tensor._iter cimport (NdIter, inner_loop_t, iter_init, iter_add, iter_add_raw,
                              iter_coalesce, iter_run, broadcast_shapes)
from rt_tensor._copy cimport copy_loop, check_no_internal_overlap
from rt_tensor._parallel cimport GRAIN_ELEMENTWISE
from rt_tensor import _creation

include "_index_loops.pxi"

__all__ = ["index_select", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add",
           "index_copy", "index_fill", "index_put", "index_put_", "masked_fill",
           "masked_select", "masked_scatter", "where", "nonzero", "argwhere", "take",
           "take_along_dim", "put"]

cdef index_t SERIAL = <index_t>1 << 62      # a grain no tensor reaches: run on one thread
cdef index_t RAW_SIZE = <index_t>1 << 62    # 'size' of a mask's precomputed byte offsets


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------

cdef inline str _name(int code):
    return dtype_of(code).scalar_name


# caffe2::TypeMeta names, which some PyTorch messages print (``mask.dtype()``)
cdef tuple _META_NAMES = ("bool", "unsigned char", "signed char", "short int", "int", "long int",
                          "c10::Half", "c10::BFloat16", "float", "double",
                          "c10::complex<float>", "c10::complex<double>")


cdef str _fmt(int n, const index_t* s):
    return "[" + ", ".join([str(s[i]) for i in range(n)]) + "]"


cdef inline str _tfmt(Tensor t):
    return _fmt(t._ndim, t._shape)


cdef Tensor _fast_scalar(object v, int code):
    """A 0-d tensor of dtype code holding the Python number v (converted like a copy);
    None when v is not a plain bool/int/float/complex (the caller falls back)."""
    cdef unsigned char buf[16]
    cdef int src
    cdef char* data[2]
    cdef index_t st[2]
    if isinstance(v, bool):
        src = DT_BOOL
        (<bool_t*>buf)[0] = 1 if v else 0
    elif isinstance(v, int):
        if not (-9223372036854775808 <= v <= 9223372036854775807):
            return None
        src = DT_INT64
        (<int64_t*>buf)[0] = v
    elif isinstance(v, float):
        src = DT_FLOAT64
        (<double*>buf)[0] = v
    elif isinstance(v, complex):
        src = DT_COMPLEX128
        (<double*>buf)[0] = v.real
        (<double*>buf)[1] = v.imag
    else:
        return None
    cdef Tensor out = new_tensor(code, 0, NULL, False)
    data[0] = out.ptr()
    data[1] = <char*>buf
    st[0] = 0
    st[1] = 0
    copy_loop(src, code)(data, st, 1, NULL)
    return out


cdef Tensor _int_list_tensor(list obj):
    """A flat list of Python ints as an int64 tensor without numpy; None otherwise."""
    cdef index_t n = len(obj), i
    cdef index_t shp[1]
    shp[0] = n
    if n == 0:
        return None
    for x in obj:
        if type(x) is not int:
            return None
    cdef Tensor out = new_tensor(DT_INT64, 1, shp, False)
    cdef int64_t* p = <int64_t*>out.ptr()
    try:
        for i in range(n):
            p[i] = obj[i]
    except OverflowError:
        return None
    return out


cdef Tensor _as_index_tensor(object obj):
    """A list / numpy array / tensor used inside an index -> bool or int64/int32 tensor
    (PyTorch's indexing_tensor_from_data: sequences become Long unless bool/byte)."""
    cdef Tensor t
    if isinstance(obj, Tensor):
        t = <Tensor>obj
    else:
        if type(obj) is list:
            t = _int_list_tensor(<list>obj)
            if t is not None:
                return t
        t = _creation.tensor(obj)
        if t._dtype != DT_BOOL and t._dtype != DT_UINT8 and t._dtype != DT_INT64:
            if category(t._dtype) == 3:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            t = t.to(dtype_of(DT_INT64))
        return t
    if t._dtype == DT_UINT8:
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                      "torch.bool instead.", UserWarning, stacklevel=3)
        return t.to(dtype_of(DT_BOOL))
    if t._dtype != DT_BOOL and t._dtype != DT_INT64 and t._dtype != DT_INT32:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return t


cdef Tensor _scalar_value(object value, int code, str fname):
    """A number or 0-d tensor -> a 0-d tensor of dtype code."""
    cdef Tensor v
    if isinstance(value, Tensor):
        v = <Tensor>value
        if v._ndim != 0:
            raise RuntimeError(f"{fname} only supports a 0-dimensional value tensor, but got "
                               f"tensor with {v._ndim} dimension(s).")
        if v._dtype != code:
            v = v.to(dtype_of(code))
        return v
    if not isinstance(value, numbers.Number):
        raise TypeError(f"{fname}(): argument 'value' must be a Number or a 0-d Tensor, not "
                        f"{type(value).__name__}")
    if isinstance(value, complex) and category(code) != 3:
        raise RuntimeError(f"value cannot be converted to type {dtype_of(code).name} without overflow")
    v = _fast_scalar(value, code)
    return v if v is not None else _creation.tensor(value, dtype=dtype_of(code))


cdef Tensor _offsets(int nd, const index_t* shape, list idx, list sizes, list strides, list dims,
                     bint wrap, object exc, str msg):
    """int64 byte offsets (contiguous, shape `shape`) = sum_k wrap(idx[k]) * strides[k], each
    idx[k] broadcast to `shape`; raises exc(msg.format(bad=, dim=, size=)) on a bad index."""
    cdef Tensor ix
    cdef NdIter it
    cdef OffCtx ctx
    cdef inner_loop_t fn
    cdef int k
    if len(idx) == 1 and sizes[0] == RAW_SIZE:
        ix = <Tensor>idx[0]
        if ix._ndim == nd and ix.is_contig():
            return ix        # a mask alone: its byte offsets are the answer
    cdef Tensor offs = new_tensor(DT_INT64, nd, shape, True)
    if offs._numel == 0:
        return offs
    for k in range(len(idx)):
        ix = <Tensor>idx[k]
        ctx.size = sizes[k]
        ctx.stride = strides[k]
        ctx.wrap = wrap
        ctx.err = 0
        ctx.bad = 0
        fn = offsets_int64_t if ix._dtype == DT_INT64 else offsets_int32_t
        iter_init(&it, nd, shape)
        iter_add(&it, offs)
        iter_add(&it, ix)
        iter_coalesce(&it)
        with nogil:
            iter_run(&it, fn, &ctx, GRAIN_ELEMENTWISE)
        if ctx.err:
            raise exc(msg.format(bad=ctx.bad, dim=dims[k], size=sizes[k]))
    return offs


cdef void _run3(inner_loop_t fn, void* extra, index_t grain, int nd, const index_t* shape,
                char* p0, const index_t* s0, int isz0, char* p1, const index_t* s1, int isz1,
                char* p2, const index_t* s2, int isz2) noexcept nogil:
    """An NdIter over `shape` with three raw operands (element strides over `shape`)."""
    cdef NdIter it
    iter_init(&it, nd, shape)
    iter_add_raw(&it, p0, nd, shape, s0, isz0)
    iter_add_raw(&it, p1, nd, shape, s1, isz1)
    iter_add_raw(&it, p2, nd, shape, s2, isz2)
    iter_coalesce(&it)
    iter_run(&it, fn, extra, grain)


cdef Tensor _broadcast_to(Tensor v, int nd, const index_t* shape):
    """v as a view broadcast (right-aligned) to shape; leading size-1 dims of v beyond nd are
    dropped first (PyTorch's slicePrefix1sSize). None when they do not broadcast."""
    cdef index_t st[MAX_DIMS]
    cdef int i, j, lead
    while v._ndim > nd:
        if v._shape[0] != 1:
            return None
        v = make_view(v, v._ndim - 1, v._shape + 1, v._strides + 1, v._offset)
    lead = nd - v._ndim
    for i in range(nd):
        j = i - lead
        if j < 0:
            st[i] = 0
        elif v._shape[j] == shape[i]:
            st[i] = v._strides[j]
        elif v._shape[j] == 1:
            st[i] = 0
        else:
            return None
    return make_view(v, nd, shape, st, v._offset)


cdef Tensor _unalias(Tensor src, Tensor dst):
    """src, cloned when it shares dst's storage (the write must not read what it wrote)."""
    if src._storage is dst._storage and src._numel > 0 and dst._numel > 0:
        return src.clone()
    return src


# ---------------------------------------------------------------------------------------
# advanced indexing: parse, then gather / scatter through offsets
# ---------------------------------------------------------------------------------------

cdef class _MaskOffs:
    """A bool mask over k dims of a view, already turned into the byte offsets of its True
    elements (1-D, row-major): one entry in an index list standing for k index tensors;
    the other k-1 dims hold _COVERED."""
    cdef Tensor offs


cdef object _COVERED = object()


cdef list _mask_entries(Tensor mask, Tensor view, int pos):
    """[_MaskOffs, _COVERED, ...] for a mask (ndim >= 1) over view dims pos.. (shapes checked)."""
    cdef Tensor b = _to_bool_contig(mask)
    cdef bool_t* p = <bool_t*>b.ptr()
    cdef index_t n = b._numel, i, cnt = 0, row, j, rowoff = 0
    cdef int k = mask._ndim, d, isz = ITEMSIZE[view._dtype]
    cdef index_t coord[MAX_DIMS]
    cdef index_t shp[MAX_DIMS]
    cdef index_t bst[MAX_DIMS]
    cdef index_t one[1]
    cdef index_t st1[1]
    with nogil:
        for i in range(n):
            cnt += p[i] != 0
    one[0] = cnt + 1          # one spare slot: the branch-free loop writes ahead
    cdef Tensor buf = new_tensor(DT_INT64, 1, one, False)
    one[0] = cnt
    st1[0] = 1
    cdef _MaskOffs m = _MaskOffs.__new__(_MaskOffs)
    m.offs = make_view(buf, 1, one, st1, 0)
    cdef int64_t* o = <int64_t*>buf.ptr()
    cdef index_t inner = mask._shape[k - 1], sl = view._strides[pos + k - 1] * isz
    for d in range(k):
        coord[d] = 0
        shp[d] = mask._shape[d]
        bst[d] = view._strides[pos + d] * isz
    if cnt > 0:
        with nogil:
            for row in range(n // inner):
                for j in range(inner):
                    o[0] = rowoff + j * sl
                    o += p[row * inner + j] != 0
                d = k - 2
                while d >= 0:
                    coord[d] += 1
                    rowoff += bst[d]
                    if coord[d] < shp[d]:
                        break
                    rowoff -= coord[d] * bst[d]
                    coord[d] = 0
                    d -= 1
    return [m] + [_COVERED] * (k - 1)


cdef tuple _prepare(Tensor t, object index):
    """Apply the basic part of an index (ints, slices, None, ...) as a view and collect the
    advanced parts: returns (view, list of length view.ndim holding None or an index
    tensor (int64/int32) per dim, has_advanced)."""
    cdef tuple items
    cdef list conv = []
    cdef list basic = []
    cdef list adv = []        # (view dim, tensor or ("bool", value))
    cdef Tensor it
    cdef int consumed = 0, vd = 0, k, j, nell = 0
    if isinstance(index, tuple):
        items = <tuple>index
    elif isinstance(index, list) and len(index) < 32 and any(
            isinstance(x, (Tensor, list, tuple, slice)) or x is None or x is Ellipsis
            for x in index):
        items = tuple(index)          # PyTorch's treatSequenceAsTuple
    else:
        items = (index,)
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, slice):
            if item is Ellipsis:
                nell += 1
                if nell > 1:
                    raise IndexError("an index can only have a single ellipsis ('...')")
            else:
                consumed += item is not None
            conv.append(item)
        elif isinstance(item, bool) or isinstance(item, np.bool_):
            conv.append(("bool", bool(item)))
        elif isinstance(item, (Tensor, list, tuple, np.ndarray)):
            it = _as_index_tensor(item)
            if it._ndim == 0 and it._dtype == DT_BOOL:
                conv.append(("bool", bool(it.item())))
            elif it._ndim == 0 and isinstance(item, Tensor):
                conv.append(int(it.item()))     # a 0-d integer tensor selects (a view)
                consumed += 1
            else:
                conv.append(it)
                consumed += it._ndim if it._dtype == DT_BOOL else 1
        elif hasattr(item, "__index__"):
            conv.append(item.__index__())
            consumed += 1
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(item).__name__})")
    if consumed > t._ndim:
        raise IndexError(f"too many indices for tensor of dimension {t._ndim}")
    for item in conv:
        if item is None:
            basic.append(None)
            vd += 1
        elif item is Ellipsis:
            basic.append(Ellipsis)
            vd += t._ndim - consumed
        elif isinstance(item, slice):
            basic.append(item)
            vd += 1
        elif isinstance(item, tuple):
            basic.append(None)
            adv.append((vd, item))
            vd += 1
        elif isinstance(item, Tensor):
            it = <Tensor>item
            k = it._ndim if it._dtype == DT_BOOL else 1
            adv.append((vd, it))
            for j in range(k):
                basic.append(slice(None))
            vd += k
        else:
            basic.append(item)
    if nell == 0:
        vd += t._ndim - consumed
    cdef Tensor view = Tensor.__getitem__(t, tuple(basic))   # the base class: views only
    cdef list idx = [None] * view._ndim
    cdef Tensor m
    for pos, item in adv:
        if isinstance(item, tuple):
            m = _creation.tensor([0] if item[1] else [], dtype=dtype_of(DT_INT64))
            idx[pos] = m
            continue
        it = <Tensor>item
        if it._dtype != DT_BOOL:
            idx[pos] = it
            continue
        for j in range(it._ndim):
            if it._shape[j] != view._shape[pos + j]:
                raise IndexError(f"The shape of the mask {_tfmt(it)} at index {j} does not match "
                                 f"the shape of the indexed tensor {_tfmt(view)} at index {pos + j}")
        if it._ndim == 0:
            idx[pos] = _creation.tensor([0] if it.item() else [], dtype=dtype_of(DT_INT64))
            continue
        ents = _mask_entries(it, view, pos)
        for j in range(it._ndim):
            idx[pos + j] = ents[j]
    return view, idx, len(adv) > 0


cdef int _index_layout(Tensor view, list idx, index_t* out_shape, index_t* src_st,
                       index_t* off_st, index_t* bshape, int* bnd_out, list tensors,
                       list sizes, list strides, list dims) except -1:
    """The result shape of view[idx] and, over it, the element strides of the restrided
    source (0 along the broadcast index dims) and of the offsets tensor (contiguous over the
    index dims, 0 elsewhere). Returns the result ndim."""
    cdef int d, k, first = -1, last = -1, nidx = 0, bnd = 0, nd = 0, i
    cdef index_t tmp[MAX_DIMS]
    cdef index_t bst[MAX_DIMS]
    cdef Tensor ix
    cdef int isz = ITEMSIZE[view._dtype]
    cdef bint raw
    for d in range(view._ndim):
        e = idx[d]
        if e is not None:
            if first < 0:
                first = d
            last = d
            if e is _COVERED:
                nidx += 1
                continue
            raw = isinstance(e, _MaskOffs)
            ix = (<_MaskOffs>e).offs if raw else <Tensor>e
            if not tensors:
                bnd = ix._ndim
                for i in range(bnd):
                    bshape[i] = ix._shape[i]
            else:
                try:
                    bnd = broadcast_shapes(bnd, bshape, ix._ndim, ix._shape, tmp)
                except RuntimeError:
                    raise IndexError("shape mismatch: indexing tensors could not be broadcast "
                                     "together with shapes " + ", ".join(
                                         [_tfmt(<Tensor>x) for x in tensors + [ix]])) from None
                for i in range(bnd):
                    bshape[i] = tmp[i]
            tensors.append(ix)
            sizes.append(RAW_SIZE if raw else view._shape[d])
            strides.append(1 if raw else view._strides[d] * isz)
            dims.append(nidx)
            nidx += 1
    if view._ndim - nidx + bnd > MAX_DIMS:
        raise IndexError(f"indexing result would have more than {MAX_DIMS} dimensions")
    contiguous_strides(bnd, bshape, bst)
    bnd_out[0] = bnd
    if last - first + 1 == nidx:
        # adjacent advanced indices: their result dims replace them in place
        for d in range(first):
            out_shape[nd] = view._shape[d]; src_st[nd] = view._strides[d]; off_st[nd] = 0; nd += 1
        for i in range(bnd):
            out_shape[nd] = bshape[i]; src_st[nd] = 0; off_st[nd] = bst[i]; nd += 1
        for d in range(last + 1, view._ndim):
            out_shape[nd] = view._shape[d]; src_st[nd] = view._strides[d]; off_st[nd] = 0; nd += 1
    else:
        # separated by a slice: the index dims go first
        for i in range(bnd):
            out_shape[nd] = bshape[i]; src_st[nd] = 0; off_st[nd] = bst[i]; nd += 1
        for d in range(view._ndim):
            if idx[d] is None:
                out_shape[nd] = view._shape[d]; src_st[nd] = view._strides[d]; off_st[nd] = 0; nd += 1
    return nd


cdef Tensor _index_get(Tensor view, list idx, bint wrap, object exc, str msg):
    cdef index_t out_shape[MAX_DIMS]
    cdef index_t src_st[MAX_DIMS]
    cdef index_t off_st[MAX_DIMS]
    cdef index_t bshape[MAX_DIMS]
    cdef int bnd, nd
    cdef list tensors = [], sizes = [], strides = [], dims = []
    nd = _index_layout(view, idx, out_shape, src_st, off_st, bshape, &bnd, tensors, sizes,
                       strides, dims)
    cdef Tensor offs = _offsets(bnd, bshape, tensors, sizes, strides, dims, wrap, exc, msg)
    cdef Tensor out = new_tensor(view._dtype, nd, out_shape, False)
    cdef int isz = ITEMSIZE[view._dtype]
    if out._numel == 0:
        return out
    cdef index_t ost[MAX_DIMS]
    contiguous_strides(nd, out_shape, ost)
    with nogil:
        _run3(GATHER_LOOPS[isz], NULL, GRAIN_ELEMENTWISE, nd, out_shape,
              out.ptr(), ost, isz, view.ptr(), src_st, isz, offs.ptr(), off_st, 8)
    return out


cdef void _index_put(Tensor view, list idx, Tensor value, bint accumulate, bint wrap,
                     object exc, str msg) except *:
    cdef index_t out_shape[MAX_DIMS]
    cdef index_t dst_st[MAX_DIMS]
    cdef index_t off_st[MAX_DIMS]
    cdef index_t bshape[MAX_DIMS]
    cdef int bnd, nd
    cdef list tensors = [], sizes = [], strides = [], dims = []
    cdef AlphaCtx alpha
    nd = _index_layout(view, idx, out_shape, dst_st, off_st, bshape, &bnd, tensors, sizes,
                       strides, dims)
    cdef Tensor offs = _offsets(bnd, bshape, tensors, sizes, strides, dims, wrap, exc, msg)
    cdef Tensor v = _broadcast_to(value, nd, out_shape)
    if v is None:
        raise RuntimeError(f"shape mismatch: value tensor of shape {_tfmt(value)} cannot be "
                           f"broadcast to indexing result of shape {_fmt(nd, out_shape)}")
    if offs._numel == 0 or shape_numel(nd, out_shape) == 0:
        return
    check_no_internal_overlap(view)
    v = _unalias(v, view)
    cdef int isz = ITEMSIZE[view._dtype]
    view._storage.version += 1
    alpha.ival = 1
    alpha.fval = 1.0
    alpha.cval = 1.0
    with nogil:
        if accumulate:
            _run3(SCATTER_ADD_LOOPS[view._dtype], &alpha, SERIAL, nd, out_shape,
                  view.ptr(), dst_st, isz, offs.ptr(), off_st, 8, v.ptr(), v._strides, isz)
        else:
            _run3(SCATTER_ASSIGN_LOOPS[isz], NULL, GRAIN_ELEMENTWISE, nd, out_shape,
                  view.ptr(), dst_st, isz, offs.ptr(), off_st, 8, v.ptr(), v._strides, isz)


cdef str _ADV_MSG = "index {bad} is out of bounds for dimension {dim} with size {size}"


def getitem(Tensor t, index):
    """``t[index]`` for indices with tensors, lists, numpy arrays or bools (a copy)."""
    view, idx, has_adv = _prepare(t, index)
    if not has_adv:
        return view
    return _index_get(<Tensor>view, <list>idx, True, IndexError, _ADV_MSG)


cdef Tensor _value_tensor(object value, int code):
    cdef Tensor v
    if isinstance(value, Tensor):
        v = <Tensor>value
        if v._dtype != code:
            v = v.to(dtype_of(code))
        return v
    if isinstance(value, complex) and category(code) != 3:
        raise TypeError(f"can't assign a complex number to a tensor of dtype {dtype_of(code)!r}")
    v = _fast_scalar(value, code)
    if v is not None:
        return v
    return _creation.scalar_or_tensor(value, dtype_of(code)).to(dtype_of(code))


def setitem(Tensor t, index, value):
    """``t[index] = value`` for indices with tensors, lists, numpy arrays or bools
    (``index_put_`` semantics: value broadcast to the indexed shape, converted to t's dtype)."""
    view, idx, has_adv = _prepare(t, index)
    cdef Tensor v = _value_tensor(value, t._dtype)
    if not has_adv:
        copy_into(<Tensor>view, v)
        return
    _index_put(<Tensor>view, <list>idx, v, False, True, IndexError, _ADV_MSG)


def index_put_(Tensor input, indices, values, accumulate=False):
    """``input[indices] = values`` (or ``+=`` with ``accumulate=True``, duplicates summed),
    in place. ``indices`` is a tuple of index tensors (None skips a dim)."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put_(): argument 'indices' must be tuple of Tensors")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put_(): argument 'values' must be Tensor, not {type(values).__name__}")
    cdef Tensor v = <Tensor>values
    if v._dtype != input._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_name(input._dtype)} for the destination and {_name(v._dtype)} "
                           f"for the source.")
    cdef list idx = []
    cdef Tensor it
    cdef int j
    for x in indices:
        if x is None:
            idx.append(None)
            continue
        it = _as_index_tensor(x)
        if it._dtype == DT_BOOL:
            if len(idx) + it._ndim > input._ndim:
                raise IndexError(f"too many indices for tensor of dimension {input._ndim}")
            for j in range(it._ndim):
                if it._shape[j] != input._shape[len(idx) + j]:
                    raise IndexError(f"The shape of the mask {_tfmt(it)} at index {j} does not "
                                     f"match the shape of the indexed tensor {_tfmt(input)} at "
                                     f"index {len(idx) + j}")
            if it._ndim == 0:
                raise IndexError("index_put_(): 0-dimensional boolean masks are not supported "
                                 "in the indices tuple; use input[True] = ...")
            idx.extend(_mask_entries(it, input, len(idx)))
        else:
            idx.append(it)
    if len(idx) > input._ndim:
        raise IndexError(f"too many indices for tensor of dimension {input._ndim} (got {len(idx)})")
    idx.extend([None] * (input._ndim - len(idx)))
    if all(x is None for x in idx):
        if accumulate:
            raise RuntimeError("index_put_(): at least one index tensor is required with accumulate=True")
        copy_into(input, v)
        return input
    _index_put(input, idx, v, bool(accumulate), True, IndexError, _ADV_MSG)
    return input


def index_put(Tensor input, indices, values, accumulate=False):
    """Out-of-place ``index_put_``: a copy of input with ``values`` put at ``indices``."""
    return index_put_(input.clone(), indices, values, accumulate)


# ---------------------------------------------------------------------------------------
# nonzero
# ---------------------------------------------------------------------------------------

cdef Tensor _to_bool_contig(Tensor t):
    """t converted to bool (x != 0) as a contiguous tensor (t itself when it already is)."""
    if t._dtype == DT_BOOL and t.is_contig():
        return t
    cdef Tensor b = new_tensor(DT_BOOL, t._ndim, t._shape, False)
    cdef NdIter it
    if t._numel == 0:
        return b
    iter_init(&it, t._ndim, t._shape)
    iter_add(&it, b)
    iter_add(&it, t)
    iter_coalesce(&it)
    with nogil:
        iter_run(&it, copy_loop(t._dtype, DT_BOOL), NULL, GRAIN_ELEMENTWISE)
    return b


cdef Tensor _nonzero_2d(Tensor t):
    """(n, ndim) int64 coordinates of the nonzero elements of t, in row-major order."""
    cdef Tensor b = _to_bool_contig(t)
    cdef bool_t* p = <bool_t*>b.ptr()
    cdef index_t n = b._numel, i, cnt = 0
    cdef int nd = t._ndim, d
    cdef index_t coord[MAX_DIMS]
    cdef index_t shp[MAX_DIMS]
    cdef index_t oshape[2]
    with nogil:
        for i in range(n):
            cnt += p[i] != 0
    oshape[0] = cnt + 1          # one spare row: the branch-free loop below writes ahead
    oshape[1] = nd
    cdef Tensor buf = new_tensor(DT_INT64, 2, oshape, False)
    oshape[0] = cnt
    cdef index_t ost[2]
    ost[0] = nd
    ost[1] = 1
    cdef Tensor out = make_view(buf, 2, oshape, ost, 0)
    cdef int64_t* o = <int64_t*>out.ptr()
    if cnt == 0 or nd == 0:
        return out
    for d in range(nd):
        coord[d] = 0
        shp[d] = t._shape[d]
    cdef index_t inner = shp[nd - 1], row, j
    cdef bool_t* q
    with nogil:
        # rows of the last dim; coord[] holds the outer coordinates of the current row
        for row in range(n // inner if inner > 0 else 0):
            q = p + row * inner
            if nd == 1:
                for j in range(inner):
                    o[0] = j
                    o += q[j] != 0
            elif nd == 2:
                for j in range(inner):
                    o[0] = coord[0]
                    o[1] = j
                    o += 2 * (q[j] != 0)
            else:
                for j in range(inner):
                    for d in range(nd - 1):
                        o[d] = coord[d]
                    o[nd - 1] = j
                    o += nd * (q[j] != 0)
            d = nd - 2
            while d >= 0:
                coord[d] += 1
                if coord[d] < shp[d]:
                    break
                coord[d] = 0
                d -= 1
    return out


cdef tuple _nonzero_tuple(Tensor t):
    cdef Tensor nz = _nonzero_2d(t)
    cdef int nd = t._ndim if t._ndim > 0 else 1
    cdef index_t shp[1]
    cdef index_t st[1]
    cdef int d
    if t._ndim == 0:
        shp[0] = nz._shape[0]
        st[0] = 1
        return (make_view(_creation.tensor([0] * nz._shape[0], dtype=dtype_of(DT_INT64)), 1, shp, st, 0),)
    shp[0] = nz._shape[0]
    st[0] = nd
    res = []
    for d in range(nd):
        res.append(contiguous_tensor(make_view(nz, 1, shp, st, d)))
    return tuple(res)


def nonzero(Tensor input, *, out=None, bool as_tuple=False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or with
    ``as_tuple=True`` a tuple of ndim 1-D tensors (one for a 0-d input)."""
    if as_tuple:
        return _nonzero_tuple(input)
    cdef Tensor r = _nonzero_2d(input)
    if out is not None:
        return _write_out(out, r, "nonzero")
    return r


def argwhere(Tensor input):
    """``nonzero(input)``: an (n, ndim) int64 tensor of the coordinates of nonzero elements."""
    return _nonzero_2d(input)


cdef object _write_out(object out, Tensor r, str fname):
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor")
    cdef Tensor o = <Tensor>out
    if o._dtype != r._dtype:
        raise RuntimeError(f"{fname}: Expected out tensor to have dtype {dtype_of(r._dtype).name}, "
                           f"but got {dtype_of(o._dtype).name} instead")
    if shape_tuple(o) != shape_tuple(r):
        o.resize_(shape_tuple(r)) if hasattr(o, "resize_") else None
        if shape_tuple(o) != shape_tuple(r):
            raise RuntimeError(f"{fname}: out tensor has shape {_tfmt(o)}, expected {_tfmt(r)}")
    copy_into(o, r)
    return o


# ---------------------------------------------------------------------------------------
# index_select / gather / take / take_along_dim
# ---------------------------------------------------------------------------------------

cdef Tensor _vec_index(Tensor index, str fname, bint allow_int32, str kind_msg):
    if index._dtype != DT_INT64 and not (allow_int32 and index._dtype == DT_INT32):
        raise RuntimeError(kind_msg)
    if index._ndim > 1:
        raise IndexError(f"{fname}(): Index is supposed to be a vector")
    return index


def index_select(Tensor input, dim, Tensor index, *, out=None):
    """Elements of ``input`` along ``dim`` at the positions in the 1-D ``index`` (a copy)."""
    _vec_index(index, "index_select", True,
               "index_select(): Expected dtype int32 or int64 for index")
    cdef int d = wrap_dim(dim, input._ndim)
    cdef Tensor view = input
    cdef index_t one[1]
    cdef index_t st[1]
    if input._ndim == 0:
        one[0] = 1
        st[0] = 1
        view = make_view(input, 1, one, st, input._offset)
    cdef Tensor ix = index
    if index._ndim == 0:
        one[0] = 1
        st[0] = 1
        ix = make_view(index, 1, one, st, index._offset)
    cdef list idx = [None] * view._ndim
    idx[d] = ix
    cdef Tensor r = _index_get(view, idx, False, IndexError, "index out of range in self")
    if input._ndim == 0:
        r = r.reshape(())
    if out is not None:
        return _write_out(out, r, "index_select")
    return r


cdef Tensor _as1d(Tensor t):
    cdef index_t one[1]
    cdef index_t st[1]
    if t._ndim > 0:
        return t
    one[0] = 1
    st[0] = 1
    return make_view(t, 1, one, st, t._offset)


def gather(Tensor input, dim, Tensor index, *, sparse_grad=False, out=None):
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` for dim 0 (and likewise for other
    dims); ``index`` is int64 with input's number of dims; the result has index's shape."""
    cdef int d = wrap_dim(dim, input._ndim)
    cdef int i
    if index._dtype != DT_INT64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    cdef Tensor src = _as1d(input), ix = _as1d(index)
    if src._ndim != ix._ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if index._numel > 0:
        for i in range(src._ndim):
            if i != d and ix._shape[i] > src._shape[i]:
                raise RuntimeError(f"Size does not match at dimension {i} expected index "
                                   f"{_tfmt(index)} to be no larger than self {_tfmt(input)} "
                                   f"apart from dimension {d}")
    cdef Tensor r = new_tensor(input._dtype, index._ndim, index._shape, False)
    if r._numel == 0:
        return r if out is None else _write_out(out, r, "gather")
    cdef int isz = ITEMSIZE[input._dtype]
    cdef Tensor offs = _offsets(ix._ndim, ix._shape, [ix], [src._shape[d]],
                                [src._strides[d] * isz], [d], False, RuntimeError, _ADV_MSG)
    cdef index_t sst[MAX_DIMS]
    cdef index_t ost[MAX_DIMS]
    cdef index_t rst[MAX_DIMS]
    for i in range(ix._ndim):
        sst[i] = 0 if i == d else src._strides[i]
    contiguous_strides(ix._ndim, ix._shape, ost)
    contiguous_strides(ix._ndim, ix._shape, rst)
    with nogil:
        _run3(GATHER_LOOPS[isz], NULL, GRAIN_ELEMENTWISE, ix._ndim, ix._shape,
              r.ptr(), rst, isz, src.ptr(), sst, isz, offs.ptr(), ost, 8)
    if out is not None:
        return _write_out(out, r, "gather")
    return r


def take(Tensor input, Tensor index):
    """``input`` read as 1-D (row-major) at ``index`` (int64, negatives wrap); the result
    has index's shape."""
    if index._dtype != DT_INT64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_name(index._dtype)}")
    cdef Tensor r = new_tensor(input._dtype, index._ndim, index._shape, False)
    if r._numel == 0:
        return r
    if input._numel == 0:
        raise IndexError("take(): tried to take from an empty tensor")
    cdef Tensor src = contiguous_tensor(input)
    cdef int isz = ITEMSIZE[input._dtype]
    cdef Tensor offs = _offsets(index._ndim, index._shape, [index], [input._numel], [isz], [0],
                                True, IndexError, "out of range: tried to access index {bad} "
                                "on a tensor of {size} elements.")
    cdef index_t zst[MAX_DIMS]
    cdef index_t cst[MAX_DIMS]
    cdef int i
    for i in range(index._ndim):
        zst[i] = 0
    contiguous_strides(index._ndim, index._shape, cst)
    with nogil:
        _run3(GATHER_LOOPS[isz], NULL, GRAIN_ELEMENTWISE, index._ndim, index._shape,
              r.ptr(), cst, isz, src.ptr(), zst, isz, offs.ptr(), cst, 8)
    return r


def take_along_dim(Tensor input, Tensor indices, dim=None):
    """Values of ``input`` at ``indices`` along ``dim`` (``gather`` with broadcasting of the
    other dims); with ``dim=None`` both are flattened first."""
    if indices._dtype != DT_INT64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_name(indices._dtype)}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    cdef int d = wrap_dim(dim, input._ndim)
    if input._ndim != indices._ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input._ndim} dimensions for input, "
                           f"and {indices._ndim} dimensions for indices")
    if input._ndim == 0:
        return gather(input, 0, indices)
    cdef index_t s1[MAX_DIMS]
    cdef index_t b[MAX_DIMS]
    cdef int i, nd
    for i in range(input._ndim):
        s1[i] = input._shape[i]
    s1[d] = indices._shape[d]
    nd = broadcast_shapes(input._ndim, s1, indices._ndim, indices._shape, b)
    ib = indices.expand(tuple([b[i] for i in range(nd)]))
    b[d] = input._shape[d]
    sb = input.expand(tuple([b[i] for i in range(nd)]))
    return gather(sb, d, ib)


# ---------------------------------------------------------------------------------------
# scatter family
# ---------------------------------------------------------------------------------------

cdef inline int _nonempty_dim(Tensor t):
    return t._ndim if t._ndim > 0 else 1


cdef void _scatter_core(Tensor self, int d, Tensor index, Tensor src, inner_loop_t fn,
                        void* extra, index_t grain, str fname) except *:
    """self[index[i..]] along d op= src[i..], iterating over index's shape. self, index and
    src have the same ndim (>= 1 after _as1d); src has been checked to cover index."""
    cdef int isz = ITEMSIZE[self._dtype], i
    cdef Tensor offs = _offsets(index._ndim, index._shape, [index], [self._shape[d]],
                                [self._strides[d] * isz], [d], False, RuntimeError, _ADV_MSG)
    cdef index_t dst[MAX_DIMS]
    cdef index_t ost[MAX_DIMS]
    for i in range(index._ndim):
        dst[i] = 0 if i == d else self._strides[i]
    contiguous_strides(index._ndim, index._shape, ost)
    self._storage.version += 1
    with nogil:
        _run3(fn, extra, grain, index._ndim, index._shape, self.ptr(), dst, isz,
              offs.ptr(), ost, 8, src.ptr(), src._strides, isz)


cdef tuple _scatter_args(Tensor self, dim, Tensor index, object src, str fname, bint src_is_tensor_only):
    """Checks shared by scatter/scatter_add/scatter_reduce; returns (self1d, d, index1d, src1d)."""
    cdef int d = wrap_dim(dim, self._ndim)
    cdef Tensor s
    cdef int i
    if index._dtype != DT_INT64:
        raise RuntimeError(f"{fname}(): Expected dtype int64 for index")
    if isinstance(src, Tensor):
        s = <Tensor>src
        if s._dtype != self._dtype:
            raise RuntimeError(f"{fname}(): Expected self.dtype to be equal to src.dtype")
    else:
        if src_is_tensor_only:
            raise TypeError(f"{fname}(): argument 'src' must be Tensor, not {type(src).__name__}")
        s = _scalar_value(src, self._dtype, fname)
    if _nonempty_dim(index) != _nonempty_dim(self):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    cdef Tensor st = _as1d(self), ix = _as1d(index), sx
    if isinstance(src, Tensor):
        if _nonempty_dim(s) != _nonempty_dim(index):
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        sx = _as1d(s)
        if index._numel > 0:
            for i in range(ix._ndim):
                if ix._shape[i] > sx._shape[i] or (i != d and ix._shape[i] > st._shape[i]):
                    raise RuntimeError(f"Expected index {_tfmt(index)} to be no larger than self "
                                       f"{_tfmt(self)} apart from dimension {d} and to be no "
                                       f"larger size than src {_tfmt(s)}")
        sx = _unalias(sx, self)
    else:
        if index._numel > 0:
            for i in range(ix._ndim):
                if i != d and ix._shape[i] > st._shape[i]:
                    raise RuntimeError(f"Expected index {_tfmt(index)} to be no larger than self "
                                       f"{_tfmt(self)} apart from dimension {d}")
        sx = _broadcast_to(s, ix._ndim, ix._shape)
    check_no_internal_overlap(self)
    return st, d, ix, sx


def scatter_(Tensor self, dim, Tensor index, src=None, *, value=None, reduce=None):
    """In place: ``self[index[i][j]][j] = src[i][j]`` (dim 0; likewise for other dims).
    ``src`` is a tensor of self's dtype or a number (also accepted as ``value=``);
    ``reduce='add'|'multiply'`` combines instead of overwriting."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter_(): missing argument 'src' (or 'value')")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    st, d, ix, sx = _scatter_args(self, dim, index, src, "scatter", False)
    if reduce is not None and isinstance(src, Tensor):
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
                      "will be removed in a future PyTorch release. Use torch.scatter_reduce "
                      "instead for more reduction options.", UserWarning, stacklevel=2)
    if (<Tensor>ix)._numel == 0:
        return self
    cdef AlphaCtx alpha
    alpha.ival = 1
    alpha.fval = 1.0
    alpha.cval = 1.0
    if reduce is None:
        _scatter_core(st, d, ix, sx, SCATTER_ASSIGN_LOOPS[ITEMSIZE[self._dtype]], NULL,
                      GRAIN_ELEMENTWISE, "scatter")
    elif reduce == "add":
        _scatter_core(st, d, ix, sx, SCATTER_ADD_LOOPS[self._dtype], &alpha, SERIAL, "scatter")
    else:
        _scatter_core(st, d, ix, sx, SCATTER_MUL_LOOPS[self._dtype], NULL, SERIAL, "scatter")
    return self


def scatter(Tensor input, dim, Tensor index, src=None, *, value=None, reduce=None):
    """Out-of-place ``scatter_``: a copy of input with src written at index along dim."""
    return scatter_(input.clone(), dim, index, src, value=value, reduce=reduce)


def scatter_add_(Tensor self, dim, Tensor index, Tensor src):
    """In place: ``self[index[i][j]][j] += src[i][j]`` (dim 0); duplicates accumulate."""
    st, d, ix, sx = _scatter_args(self, dim, index, src, "scatter_add", True)
    if (<Tensor>ix)._numel == 0:
        return self
    cdef AlphaCtx alpha
    alpha.ival = 1
    alpha.fval = 1.0
    alpha.cval = 1.0
    _scatter_core(st, d, ix, sx, SCATTER_ADD_LOOPS[self._dtype], &alpha, SERIAL, "scatter_add")
    return self


def scatter_add(Tensor input, dim, Tensor index, Tensor src):
    """Out-of-place ``scatter_add_``."""
    return scatter_add_(input.clone(), dim, index, src)


cdef object _identity(int code, str reduce):
    cdef int cat = category(code)
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if cat == 0:
        return reduce == "amin"
    if cat == 1:
        info = np.iinfo(dtype_of(code).name)
        return int(info.min) if reduce == "amax" else int(info.max)
    return float("-inf") if reduce == "amax" else float("inf")


def scatter_reduce_(Tensor self, dim, Tensor index, Tensor src, str reduce, *, include_self=True):
    """In place: reduce ``src`` into ``self`` at ``index`` along ``dim`` with
    ``reduce`` in 'sum', 'prod', 'mean', 'amax', 'amin'; ``include_self=False`` ignores
    self's values at the positions scattered to. Integer 'mean' rounds down."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if reduce in ("amax", "amin") and category(self._dtype) == 3:
        raise RuntimeError(f"scatter_reduce(): reduce '{reduce}' is not supported for complex inputs")
    st, d, ix, sx = _scatter_args(self, dim, index, src, "scatter_reduce", True)
    cdef Tensor s1 = <Tensor>st, i1 = <Tensor>ix, x1 = <Tensor>sx
    if i1._numel == 0:
        return self
    cdef AlphaCtx alpha
    alpha.ival = 1
    alpha.fval = 1.0
    alpha.cval = 1.0
    cdef Tensor ident, count = None, one, cview
    if not include_self:
        ident = _creation.tensor(_identity(self._dtype, reduce), dtype=dtype_of(self._dtype))
        _scatter_core(s1, d, i1, _broadcast_to(ident, i1._ndim, i1._shape),
                      SCATTER_ASSIGN_LOOPS[ITEMSIZE[self._dtype]], NULL, GRAIN_ELEMENTWISE,
                      "scatter_reduce")
    if reduce == "sum" or reduce == "mean":
        _scatter_core(s1, d, i1, x1, SCATTER_ADD_LOOPS[self._dtype], &alpha, SERIAL, "scatter_reduce")
    elif reduce == "prod":
        _scatter_core(s1, d, i1, x1, SCATTER_MUL_LOOPS[self._dtype], NULL, SERIAL, "scatter_reduce")
    elif reduce == "amax":
        _scatter_core(s1, d, i1, x1, SCATTER_MAX_LOOPS[self._dtype], NULL, SERIAL, "scatter_reduce")
    else:
        _scatter_core(s1, d, i1, x1, SCATTER_MIN_LOOPS[self._dtype], NULL, SERIAL, "scatter_reduce")
    cdef NdIter it
    if reduce == "mean":
        count = new_tensor(DT_INT64, s1._ndim, s1._shape, True)
        if include_self:
            count.fill_(1)
        one = _creation.tensor(1, dtype=dtype_of(DT_INT64))
        _scatter_core(count, d, i1, _broadcast_to(one, i1._ndim, i1._shape),
                      SCATTER_ADD_LOOPS[<int>DT_INT64], &alpha, SERIAL, "scatter_reduce")
        iter_init(&it, s1._ndim, s1._shape)
        iter_add(&it, s1)
        iter_add(&it, count)
        iter_coalesce(&it)
        with nogil:
            iter_run(&it, DIV_COUNT_LOOPS[self._dtype], NULL, GRAIN_ELEMENTWISE)
    return self


def scatter_reduce(Tensor input, dim, Tensor index, Tensor src, str reduce, *, include_self=True):
    """Out-of-place ``scatter_reduce_``."""
    return scatter_reduce_(input.clone(), dim, index, src, reduce, include_self=include_self)


# ---------------------------------------------------------------------------------------
# index_add / index_copy / index_fill
# ---------------------------------------------------------------------------------------

cdef tuple _index_along_args(Tensor self, dim, Tensor index, Tensor source, str fname):
    """Checks for index_add_/index_copy_; returns (self1d, d, index1d, source1d)."""
    cdef int d = wrap_dim(dim, self._ndim)
    cdef int i
    if index._ndim > 1:
        if fname == "index_copy_":
            raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index._ndim})")
        raise IndexError(f"{fname}(): Index is supposed to be a vector")
    if index._dtype != DT_INT64 and index._dtype != DT_INT32:
        raise RuntimeError(f"{fname}(): Expected dtype int32/int64 for index")
    if source._dtype != self._dtype:
        if fname == "index_copy_":
            raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                               f"but got (self) {_name(self._dtype)} and (source) {_name(source._dtype)}")
        raise RuntimeError(f"{fname}(): self ({_name(self._dtype)}) and source "
                           f"({_name(source._dtype)}) must have the same scalar type")
    cdef Tensor s1 = _as1d(self), x1 = _as1d(source), i1 = _as1d(index)
    if x1._ndim != s1._ndim:
        raise RuntimeError(f"{fname}(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension. Got self.shape = {_tfmt(self)} "
                           f"source.shape = {_tfmt(source)}")
    if x1._shape[d] != index._numel:
        raise RuntimeError(f"{fname}(): Number of indices ({index._numel}) should be equal to "
                           f"source.size(dim) ({x1._shape[d]})")
    for i in range(s1._ndim):
        if i != d and x1._shape[i] != s1._shape[i]:
            raise RuntimeError(f"{fname}(): source tensor shape must match self tensor shape, "
                               f"excluding the specified dimension. Got self.shape = {_tfmt(self)} "
                               f"source.shape = {_tfmt(source)}")
    check_no_internal_overlap(self)
    return s1, d, i1, _unalias(x1, self)


cdef void _index_along(Tensor s1, int d, Tensor i1, Tensor x1, inner_loop_t fn, void* extra,
                       index_t grain, bint wrap, object exc, str msg) except *:
    """self[..., index[k], ...] (along d) op= source[..., k, ...], iterating over x1's shape."""
    cdef int isz = ITEMSIZE[s1._dtype], i
    cdef Tensor offs = _offsets(1, i1._shape, [i1], [s1._shape[d]], [s1._strides[d] * isz], [d],
                                wrap, exc, msg)
    cdef index_t dst[MAX_DIMS]
    cdef index_t ost[MAX_DIMS]
    cdef index_t slice_numel = 1, k, n = x1._shape[d]
    cdef index_t rshape[MAX_DIMS]
    cdef index_t rdst[MAX_DIMS]
    cdef index_t rsrc[MAX_DIMS]
    cdef index_t rzero[MAX_DIMS]
    cdef int r = 0
    for i in range(x1._ndim):
        dst[i] = 0 if i == d else s1._strides[i]
        ost[i] = 1 if i == d else 0
        if i != d:
            slice_numel *= x1._shape[i]
            rshape[r] = x1._shape[i]
            rdst[r] = s1._strides[i]
            rsrc[r] = x1._strides[i]
            rzero[r] = 0
            r += 1
    s1._storage.version += 1
    cdef char* optr = offs.ptr()
    cdef char* xptr = x1.ptr()
    cdef index_t xst = x1._strides[d] * isz
    with nogil:
        if grain == SERIAL and slice_numel >= GRAIN_ELEMENTWISE:
            # accumulation: serial over the indexed dim (repeated indices), each slice
            # (distinct destinations) split across threads
            for k in range(n):
                _run3(fn, extra, GRAIN_ELEMENTWISE, r, rshape, s1.ptr(), rdst, isz,
                      optr + k * 8, rzero, 8, xptr + k * xst, rsrc, isz)
        else:
            _run3(fn, extra, grain, x1._ndim, x1._shape, s1.ptr(), dst, isz,
                  offs.ptr(), ost, 8, x1.ptr(), x1._strides, isz)


def index_add_(Tensor self, dim, Tensor index, Tensor source, *, alpha=1):
    """In place: ``self[..., index[k], ...] += alpha * source[..., k, ...]`` along ``dim``;
    repeated indices accumulate."""
    s1, d, i1, x1 = _index_along_args(self, dim, index, source, "index_add_")
    cdef AlphaCtx a
    if isinstance(alpha, Tensor):
        alpha = alpha.item()
    if category(self._dtype) < 2 and not isinstance(alpha, numbers.Integral):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, complex) and category(self._dtype) != 3:
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")
    a.ival = int(alpha) if isinstance(alpha, numbers.Integral) else 0
    a.fval = float(alpha.real) if isinstance(alpha, complex) else float(alpha)
    a.cval = complex(alpha)
    if (<Tensor>x1)._numel == 0:
        return self
    _index_along(s1, d, i1, x1, SCATTER_ADD_LOOPS[self._dtype], &a, SERIAL, False, IndexError,
                 "index out of range in self")
    return self


def index_add(Tensor input, dim, Tensor index, Tensor source, *, alpha=1):
    """Out-of-place ``index_add_``."""
    return index_add_(input.clone(), dim, index, source, alpha=alpha)


def index_copy_(Tensor self, dim, Tensor index, Tensor source):
    """In place: ``self[..., index[k], ...] = source[..., k, ...]`` along ``dim``."""
    s1, d, i1, x1 = _index_along_args(self, dim, index, source, "index_copy_")
    if (<Tensor>x1)._numel == 0:
        return self
    _index_along(s1, d, i1, x1, SCATTER_ASSIGN_LOOPS[ITEMSIZE[self._dtype]], NULL,
                 GRAIN_ELEMENTWISE, False, IndexError,
                 "index_copy_(): index {bad} is out of bounds for dimension {dim} with size {size}")
    return self


def index_copy(Tensor input, dim, Tensor index, Tensor source):
    """Out-of-place ``index_copy_``."""
    return index_copy_(input.clone(), dim, index, source)


def index_fill_(Tensor self, dim, Tensor index, value):
    """In place: every element of ``self`` whose ``dim`` coordinate is in ``index`` becomes
    ``value`` (a number or a 0-d tensor). Negative indices count from the end."""
    cdef int d = wrap_dim(dim, self._ndim)
    if index._dtype != DT_INT64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index._ndim > 1:
        raise IndexError("index_fill_(): Index is supposed to be a vector")
    cdef Tensor v = _scalar_value(value, self._dtype, "index_fill_")
    cdef Tensor s1 = _as1d(self), i1 = _as1d(index)
    check_no_internal_overlap(self)
    cdef index_t shp[MAX_DIMS]
    cdef int i
    for i in range(s1._ndim):
        shp[i] = s1._shape[i]
    shp[d] = i1._shape[0]
    cdef Tensor vb = _broadcast_to(v, s1._ndim, shp)
    if vb._numel == 0:
        return self
    _index_along(s1, d, i1, vb, SCATTER_ASSIGN_LOOPS[ITEMSIZE[self._dtype]], NULL,
                 GRAIN_ELEMENTWISE, True, IndexError, _ADV_MSG)
    return self


def index_fill(Tensor input, dim, Tensor index, value):
    """Out-of-place ``index_fill_``."""
    return index_fill_(input.clone(), dim, index, value)


# ---------------------------------------------------------------------------------------
# masked ops, where
# ---------------------------------------------------------------------------------------

cdef Tensor _broadcast_copy(Tensor t, int nd, const index_t* shape):
    """A new contiguous tensor: t broadcast to shape."""
    cdef Tensor out = new_tensor(t._dtype, nd, shape, False)
    copy_into(out, t)
    return out


def masked_fill_(Tensor self, Tensor mask, value):
    """In place: elements where ``mask`` (bool, broadcast to self) is True become ``value``
    (a number or a 0-d tensor)."""
    if mask._dtype != DT_BOOL:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_META_NAMES[mask._dtype]}")
    cdef Tensor v = _scalar_value(value, self._dtype, "masked_fill_")
    cdef Tensor m = _broadcast_to(mask, self._ndim, self._shape)
    if m is None or mask._ndim > self._ndim:
        raise RuntimeError(f"The expanded size of the mask {_tfmt(mask)} must match the shape of "
                           f"self {_tfmt(self)} (mask must be broadcastable to self)")
    if self._numel == 0:
        return self
    check_no_internal_overlap(self)
    m = _unalias(m, self)
    cdef unsigned char buf[16]
    memcpy(buf, v.ptr(), ITEMSIZE[self._dtype])
    cdef NdIter it
    iter_init(&it, self._ndim, self._shape)
    iter_add(&it, self)
    iter_add(&it, m)
    iter_coalesce(&it)
    self._storage.version += 1
    with nogil:
        iter_run(&it, MFILL_LOOPS[ITEMSIZE[self._dtype]], buf, GRAIN_ELEMENTWISE)
    return self


def masked_fill(Tensor input, Tensor mask, value):
    """Out-of-place ``masked_fill_``; the result has the broadcast shape of input and mask."""
    if mask._dtype != DT_BOOL:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_META_NAMES[mask._dtype]}")
    cdef index_t shp[MAX_DIMS]
    cdef int nd = broadcast_shapes(input._ndim, input._shape, mask._ndim, mask._shape, shp)
    return masked_fill_(_broadcast_copy(input, nd, shp), mask, value)


def masked_select(Tensor input, Tensor mask, *, out=None):
    """A 1-D tensor of the elements of ``input`` where ``mask`` is True (both broadcast)."""
    if mask._dtype != DT_BOOL:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask")
    cdef index_t shp[MAX_DIMS]
    cdef int nd = broadcast_shapes(input._ndim, input._shape, mask._ndim, mask._shape, shp)
    cdef Tensor ib = _broadcast_to(input, nd, shp), mb = _broadcast_to(mask, nd, shp)
    cdef Tensor r
    if nd == 0:
        r = _index_get(_as1d(ib), [_creation.tensor([0] if mb.item() else [],
                                                    dtype=dtype_of(DT_INT64))],
                       True, IndexError, _ADV_MSG)
    else:
        r = _index_get(ib, _mask_entries(mb, ib, 0), True, IndexError, _ADV_MSG)
    if out is not None:
        return _write_out(out, r, "masked_select")
    return r


def masked_scatter_(Tensor self, Tensor mask, Tensor source):
    """In place: the positions where ``mask`` (broadcast to self) is True receive the
    elements of ``source`` in row-major order."""
    if mask._dtype != DT_BOOL:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_META_NAMES[mask._dtype]}")
    if source._dtype != self._dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                           f"{_name(self._dtype)} and {_name(source._dtype)}")
    cdef Tensor m = _broadcast_to(mask, self._ndim, self._shape)
    if m is None or mask._ndim > self._ndim:
        raise RuntimeError(f"masked_scatter_: the mask {_tfmt(mask)} must be broadcastable to "
                           f"self {_tfmt(self)}")
    cdef Tensor s1 = _as1d(self), m1 = _as1d(m)
    cdef list ents = _mask_entries(m1, s1, 0)
    cdef index_t n = (<_MaskOffs>ents[0]).offs._shape[0]
    if source._numel < n:
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as "
                           f"ones in mask ({n}), got {source._numel}")
    if n == 0:
        return self
    cdef Tensor vals = source.reshape(-1)[:n]
    _index_put(s1, ents, vals, False, True, IndexError, _ADV_MSG)
    return self


def masked_scatter(Tensor input, Tensor mask, Tensor source):
    """Out-of-place ``masked_scatter_``; the result has the broadcast shape of input and mask."""
    cdef index_t shp[MAX_DIMS]
    cdef int nd = broadcast_shapes(input._ndim, input._shape, mask._ndim, mask._shape, shp)
    return masked_scatter_(_broadcast_copy(input, nd, shp), mask, source)


cdef int _scalar_code(object v) except -1:
    if isinstance(v, (bool, np.bool_)):
        return DT_BOOL
    if isinstance(v, numbers.Integral):
        return DT_INT64
    if isinstance(v, numbers.Real):
        return DT_FLOAT64
    if isinstance(v, numbers.Complex):
        return DT_COMPLEX128
    raise TypeError(f"where(): expected a Tensor or a number, got {type(v).__name__}")


def where(Tensor condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` is True else ``other`` (all three broadcast; input and
    other may be numbers; the result dtype is their promotion). ``where(condition)`` is
    ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return _nonzero_tuple(condition)
    if input is None or other is None:
        raise TypeError("where(): expected both 'input' and 'other' (or neither)")
    if condition._dtype != DT_BOOL:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_name(condition._dtype)}")
    cdef ResultState rs
    state_init(&rs)
    for v in (input, other):
        if isinstance(v, Tensor):
            state_update_tensor(&rs, (<Tensor>v)._dtype, (<Tensor>v)._ndim)
        else:
            state_update_scalar(&rs, _scalar_code(v))
    cdef int code = state_result(&rs)
    cdef Tensor a = _value_for(input, code), b = _value_for(other, code)
    cdef index_t s1[MAX_DIMS]
    cdef index_t s2[MAX_DIMS]
    cdef int nd = broadcast_shapes(condition._ndim, condition._shape, a._ndim, a._shape, s1)
    nd = broadcast_shapes(nd, s1, b._ndim, b._shape, s2)
    cdef Tensor r = new_tensor(code, nd, s2, False)
    cdef NdIter it
    if r._numel > 0:
        iter_init(&it, nd, s2)
        iter_add(&it, r)
        iter_add(&it, condition)
        iter_add(&it, a)
        iter_add(&it, b)
        iter_coalesce(&it)
        with nogil:
            iter_run(&it, WHERE_LOOPS[ITEMSIZE[code]], NULL, GRAIN_ELEMENTWISE)
    if out is not None:
        return _write_out(out, r, "where")
    return r


cdef Tensor _value_for(object v, int code):
    cdef Tensor t
    if isinstance(v, Tensor):
        t = <Tensor>v
        return t if t._dtype == code else t.to(dtype_of(code))
    t = _fast_scalar(v, code)
    return t if t is not None else _creation.tensor(v, dtype=dtype_of(code))


# ---------------------------------------------------------------------------------------
# put
# ---------------------------------------------------------------------------------------

def put_(Tensor self, Tensor index, Tensor source, accumulate=False):
    """In place: ``self`` read as 1-D (row-major) gets ``source`` at ``index`` (int64,
    negatives wrap); with ``accumulate=True`` repeated indices add up."""
    if index._dtype != DT_INT64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_name(index._dtype)}")
    if source._dtype != self._dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_name(self._dtype)} and source.dtype = {_name(source._dtype)}")
    if index._numel != source._numel:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source._numel}, index.numel() = "
                           f"{index._numel}")
    if index._numel == 0:
        return self
    if self._numel == 0:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    check_no_internal_overlap(self)
    cdef Tensor target = self if self.is_contig() else self.clone()
    cdef Tensor flat = target.reshape(-1)
    cdef Tensor src = _unalias(source.reshape(-1), self)
    cdef Tensor ix = index.reshape(-1)
    cdef list idx = [ix]
    _index_put(flat, idx, src, bool(accumulate), True, IndexError,
               "out of range: tried to access index {bad} on a tensor of {size} elements.")
    if target is not self:
        copy_into(self, target)
    return self


def put(Tensor input, Tensor index, Tensor source, accumulate=False):
    """Out-of-place ``put_``."""
    return put_(input.clone(), index, source, accumulate)


def _where_method(self, condition, other):
    """``Tensor.where(condition, other)`` = ``where(condition, self, other)``."""
    return where(condition, self, other)


TENSOR_METHODS = {
    "index_select": index_select, "gather": gather, "take": take,
    "take_along_dim": take_along_dim, "scatter": scatter, "scatter_": scatter_,
    "scatter_add": scatter_add, "scatter_add_": scatter_add_, "scatter_reduce": scatter_reduce,
    "scatter_reduce_": scatter_reduce_, "index_add": index_add, "index_add_": index_add_,
    "index_copy": index_copy, "index_copy_": index_copy_, "index_fill": index_fill,
    "index_fill_": index_fill_, "index_put": index_put, "index_put_": index_put_,
    "masked_fill": masked_fill, "masked_fill_": masked_fill_, "masked_select": masked_select,
    "masked_scatter": masked_scatter, "masked_scatter_": masked_scatter_, "where": _where_method,
    "nonzero": nonzero, "argwhere": argwhere, "put": put, "put_": put_,
}
