# cython: language_level=3, wraparound=True
"""Sorting and searching: ``sort``, ``argsort``, ``msort``, ``topk``, ``kthvalue``, ``unique``,
``unique_consecutive``, ``searchsorted``, ``bucketize``, ``histc``.

The engine is numpy's stable sort (timsort/radix sort, C loops) run on a zero-copy numpy view
of the tensor with the sorted dim moved last; bfloat16 is sorted through an exact float32 key
and its values are gathered as raw bits. PyTorch's order is kept: NaN is the largest value
(last ascending, first descending), and ties keep their input order (``stable=True``) in
both directions: a descending sort is the ascending stable sort of the reversed row, read
backwards.
"""
include "build_stamp.pxi"

import numpy as np

from rt_tensor._types cimport *
from rt_tensor._dtype cimport dtype_of, ITEMSIZE, promote_types_code, can_cast_code, category
from rt_tensor._tensor cimport (Tensor, new_tensor, new_tensor_from_tuple, wrap_dim, shape_tuple,
                                copy_into, to_tensor, contiguous_strides, shape_numel)
from rt_tensor._memory cimport new_storage
from rt_tensor import _dtype as _dtmod

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique", "unique_consecutive",
           "searchsorted", "bucketize", "histc"]


from rt_tensor import return_types

_SortResult = return_types.sort
_TopkResult = return_types.topk
_KthResult = return_types.kthvalue


# ---------------------------------------------------------------------------------------
# numpy bridges

cdef inline Tensor _as_t(object x, str fname, str argname):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument '{argname}' (position 1) must be Tensor, not "
                    f"{type(x).__name__}")


cdef object _np_raw(Tensor t):
    """Zero-copy numpy view of t's stored values (bfloat16: its bits as uint16)."""
    if t._dtype == DT_BFLOAT16:
        return t._view_dtype(_dtmod.int16).numpy(force=True).view(np.uint16)
    return t.numpy(force=True)


cdef object _np_key(Tensor t):
    """numpy array ordering like t's values (zero-copy except bfloat16 -> exact float32)."""
    if t._dtype == DT_BFLOAT16:
        bits = _np_raw(t)
        return (bits.astype(np.uint32) << 16).view(np.float32)
    return t.numpy(force=True)


cdef Tensor _from_np(object arr, int dt):
    """A new contiguous rt tensor of dtype dt holding arr (for bfloat16, arr holds bits)."""
    cdef Tensor res = new_tensor_from_tuple(dt, tuple(arr.shape), False)
    if res._numel:
        np.copyto(_np_raw(res), arr, casting="unsafe")
    return res


cdef Tensor _from_np_float(object arr, int dt):
    """A new rt tensor of dtype dt from float values (converted like ``to(dtype)``)."""
    cdef Tensor res = new_tensor_from_tuple(dt, tuple(arr.shape), False)
    if res._numel:
        if dt == DT_BFLOAT16:
            tmp = new_tensor_from_tuple(DT_FLOAT32, tuple(arr.shape), False)
            np.copyto(tmp.numpy(force=True), arr, casting="unsafe")
            copy_into(res, tmp)
        else:
            np.copyto(res.numpy(force=True), arr, casting="unsafe")
    return res


cdef void _check_real(Tensor t, str what) except *:
    if category(t._dtype) == 3:
        raise NotImplementedError(f"\"{what}\" not implemented for '{dtype_of(t._dtype).scalar_name}'")


cdef object _argsort_last(object key, bint descending):
    """Stable argsort along the last axis; NaN largest; ties in input order."""
    return _argsort_axis(key, key.ndim - 1, descending)


cdef object _argsort_axis(object key, int axis, bint descending):
    """Stable argsort along ``axis``; NaN largest; ties in input order. Descending: the
    ascending stable sort of the reversed row, read backwards."""
    cdef tuple rev
    if descending:
        n = key.shape[axis]
        rev = (slice(None),) * axis + (slice(None, None, -1),)
        idx = np.argsort(key[rev], axis=axis, kind="stable")[rev]
        return np.subtract(n - 1, idx, out=np.empty(idx.shape, np.int64))
    return np.argsort(key, axis=axis, kind="stable")


cdef void _write_out(object out, int k, Tensor src) except *:
    """Copy src into the k-th tensor of an ``out=`` tuple, resizing it as PyTorch does."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError("out must be a tuple of two tensors (values, indices)")
    cdef Tensor o = _as_t(out[k], "out", "out")
    cdef int i
    cdef bint same = o._ndim == src._ndim
    if same:
        for i in range(o._ndim):
            if o._shape[i] != src._shape[i]:
                same = False
    if o._dtype != src._dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {dtype_of(src._dtype).scalar_name}, "
                           f"but got {dtype_of(o._dtype).scalar_name} instead")
    if not same:
        o._storage = new_storage(src._numel * ITEMSIZE[o._dtype], False)
        o._ndim = src._ndim
        o._offset = 0
        for i in range(src._ndim):
            o._shape[i] = src._shape[i]
        contiguous_strides(src._ndim, o._shape, o._strides)
        o._numel = src._numel
    copy_into(o, src)


cdef tuple _sort_impl(Tensor t, object dim, bint descending, str fname):
    """(values, indices) of t sorted along dim."""
    cdef int d = wrap_dim(dim, t._ndim)
    cdef Tensor vals, idxs
    if t._ndim == 0 or t._numel == 0:
        vals = t.clone()
        idxs = new_tensor(DT_INT64, t._ndim, t._shape, True)
        return vals, idxs
    idx = _argsort_axis(_np_key(t), d, descending)
    vals = _from_np(np.take_along_axis(_np_raw(t), idx, d), t._dtype)
    idxs = _from_np(idx, DT_INT64)
    return vals, idxs


# ---------------------------------------------------------------------------------------

def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sort along ``dim``; returns ``(values, indices)``. NaN sorts as the largest value;
    the sort is stable (ties keep their order), as PyTorch's with ``stable=True``."""
    cdef Tensor t = _as_t(input, "sort", "input")
    if category(t._dtype) == 3:
        raise RuntimeError("sort(): input tensor must be of non-complex type")
    vals, idxs = _sort_impl(t, dim, descending, "sort")
    if out is not None:
        _write_out(out, 0, vals)
        _write_out(out, 1, idxs)
        return _SortResult(out[0], out[1])
    return _SortResult(vals, idxs)


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (int64)."""
    cdef Tensor t = _as_t(input, "argsort", "input")
    if category(t._dtype) == 3:
        raise RuntimeError("sort(): input tensor must be of non-complex type")
    cdef int d = wrap_dim(dim, t._ndim)
    if t._ndim == 0 or t._numel == 0:
        return new_tensor(DT_INT64, t._ndim, t._shape, True)
    return _from_np(_argsort_axis(_np_key(t), d, descending), DT_INT64)


def msort(input, *, out=None):
    """``sort(input, dim=0).values``."""
    cdef Tensor t = _as_t(input, "msort", "input")
    if category(t._dtype) == 3:
        raise RuntimeError("sort(): input tensor must be of non-complex type")
    vals = _sort_impl(t, 0, False, "msort")[0]
    if out is not None:
        _write_out((out, out), 0, vals)
        return out
    return vals


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, largest
    first (smallest first when ``largest=False``). NaN counts as the largest value."""
    cdef Tensor t = _as_t(input, "topk", "input")
    _check_real(t, "topk_cpu")
    if t._dtype == DT_BOOL:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    cdef int d = wrap_dim(dim, t._ndim)
    cdef index_t kk = k
    cdef index_t n = t._shape[d] if t._ndim else 1
    if kk < 0 or kk > n:
        raise RuntimeError("selected index k out of range")
    cdef Tensor vals, idxs
    if t._ndim == 0:
        vals, idxs = t.clone(), new_tensor(DT_INT64, 0, t._shape, True)
    elif kk == 0 or t._numel == 0:
        shape = list(shape_tuple(t))
        shape[d] = kk
        vals = new_tensor_from_tuple(t._dtype, tuple(shape), False)
        idxs = new_tensor_from_tuple(DT_INT64, tuple(shape), False)
    else:
        key = np.moveaxis(_np_key(t), d, -1)
        if kk * 8 < n and largest is not None:
            # partition first, then sort the k candidates (stable on the original positions)
            if largest:
                cand = np.argpartition(key, n - kk, axis=-1)[..., n - kk:]
            else:
                cand = np.argpartition(key, kk - 1, axis=-1)[..., :kk]
            cand = np.sort(cand, axis=-1)
            sub = np.take_along_axis(key, cand, -1)
            order = _argsort_last(sub, bool(largest))
            idx = np.take_along_axis(cand, order, -1)
        else:
            idx = _argsort_last(key, bool(largest))[..., :kk]
        raw = np.moveaxis(_np_raw(t), d, -1)
        vals = _from_np(np.moveaxis(np.take_along_axis(raw, idx, -1), -1, d), t._dtype)
        idxs = _from_np(np.moveaxis(idx, -1, d), DT_INT64)
    if out is not None:
        _write_out(out, 0, vals)
        _write_out(out, 1, idxs)
        return _TopkResult(out[0], out[1])
    return _TopkResult(vals, idxs)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest element (1-based) along ``dim`` and its index."""
    cdef Tensor t = _as_t(input, "kthvalue", "input")
    _check_real(t, "kthvalue_cpu")
    if t._dtype == DT_BOOL:
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    cdef int d = wrap_dim(dim, t._ndim)
    cdef index_t kk = k
    cdef index_t n = t._shape[d] if t._ndim else 1
    if kk < 1 or kk > n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    cdef Tensor vals, idxs
    if t._ndim == 0:
        vals, idxs = t.clone(), new_tensor(DT_INT64, 0, t._shape, True)
    else:
        shape = list(shape_tuple(t))
        if t._numel == 0:
            if keepdim:
                shape[d] = 1
            else:
                del shape[d]
            vals = new_tensor_from_tuple(t._dtype, tuple(shape), False)
            idxs = new_tensor_from_tuple(DT_INT64, tuple(shape), False)
        else:
            key = np.moveaxis(_np_key(t), d, -1)
            idx = _argsort_last(key, False)[..., kk - 1:kk]
            raw = np.moveaxis(_np_raw(t), d, -1)
            v = np.take_along_axis(raw, idx, -1)
            if keepdim:
                v = np.moveaxis(v, -1, d)
                idx = np.moveaxis(idx, -1, d)
            else:
                v = v[..., 0]
                idx = idx[..., 0]
            vals = _from_np(np.ascontiguousarray(v), t._dtype)
            idxs = _from_np(np.ascontiguousarray(idx), DT_INT64)
    if out is not None:
        _write_out(out, 0, vals)
        _write_out(out, 1, idxs)
        return _KthResult(out[0], out[1])
    return _KthResult(vals, idxs)


# ---------------------------------------------------------------------------------------
# unique

def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements (sorted), and optionally the inverse indices (input shape) and
    counts. With ``dim``, unique slices along that dim. NaNs are all distinct, as in
    PyTorch."""
    cdef Tensor t = _as_t(input, "unique", "input")
    _check_real(t, "unique_cpu_sorted" if dim is None else "unique_dim_cpu")
    key = _np_key(t)
    if dim is None:
        flat = key.reshape(-1)
        if flat.size == 0:
            u = flat[:0]
            inv = np.zeros(key.shape, np.int64)
            cnt = np.zeros(0, np.int64)
        else:
            order = np.argsort(flat, kind="stable")
            s = flat[order]
            if s.dtype.kind == "f":
                new = np.empty(s.shape, bool)
                new[0] = True
                new[1:] = s[1:] != s[:-1]     # NaN != NaN: every NaN is its own group
            else:
                new = np.empty(s.shape, bool)
                new[0] = True
                new[1:] = s[1:] != s[:-1]
            starts = np.flatnonzero(new)
            u = s[starts]
            group = np.cumsum(new) - 1
            inv = np.empty(flat.shape, np.int64)
            inv[order] = group
            inv = inv.reshape(key.shape)
            cnt = np.diff(np.append(starts, flat.size)).astype(np.int64)
        ures = _from_np_float(u, t._dtype) if t._dtype == DT_BFLOAT16 else _from_np(u, t._dtype)
    else:
        if t._ndim == 0:
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
        d = wrap_dim(dim, t._ndim)
        moved = np.moveaxis(key, d, 0)
        n = moved.shape[0]
        if n == 0:
            ures = t.clone()
            inv = np.zeros(0, np.int64)
            cnt = np.zeros(0, np.int64)
        else:
            rows = np.ascontiguousarray(moved.reshape(n, -1))
            if rows.shape[1] == 0:
                order = np.arange(n)
                new = np.zeros(n, bool)
                new[0] = True
            else:
                order = np.lexsort(rows.T[::-1])
                srt = rows[order]
                new = np.empty(n, bool)
                new[0] = True
                new[1:] = (srt[1:] != srt[:-1]).any(axis=1)
            starts = np.flatnonzero(new)
            group = np.cumsum(new) - 1
            inv = np.empty(n, np.int64)
            inv[order] = group
            cnt = np.diff(np.append(starts, n)).astype(np.int64)
            pick = order[starts]
            raw = np.moveaxis(_np_raw(t), d, 0)[pick]
            ures = _from_np(np.ascontiguousarray(np.moveaxis(raw, 0, d)), t._dtype)
    result = [ures]
    if return_inverse:
        result.append(_from_np(np.asarray(inv, np.int64), DT_INT64))
    if return_counts:
        result.append(_from_np(np.asarray(cnt, np.int64), DT_INT64))
    return result[0] if len(result) == 1 else tuple(result)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    cdef Tensor t = _as_t(input, "unique_consecutive", "input")
    key = _np_key(t)
    if dim is None:
        flat = key.reshape(-1)
        n = flat.size
        new = np.empty(n, bool)
        if n:
            new[0] = True
            new[1:] = flat[1:] != flat[:-1]
        starts = np.flatnonzero(new)
        raw = _np_raw(t).reshape(-1)
        ures = _from_np(np.ascontiguousarray(raw[starts]), t._dtype)
        inv = (np.cumsum(new) - 1).reshape(key.shape)
    else:
        d = wrap_dim(dim, t._ndim, False)
        moved = np.moveaxis(key, d, 0)
        n = moved.shape[0]
        rows = moved.reshape(n, -1)
        new = np.empty(n, bool)
        if n:
            new[0] = True
            new[1:] = (rows[1:] != rows[:-1]).any(axis=1) if rows.shape[1] else False
        starts = np.flatnonzero(new)
        raw = np.moveaxis(_np_raw(t), d, 0)[starts]
        ures = _from_np(np.ascontiguousarray(np.moveaxis(raw, 0, d)), t._dtype)
        inv = np.cumsum(new) - 1
    cnt = np.diff(np.append(starts, n))
    result = [ures]
    if return_inverse:
        result.append(_from_np(np.asarray(inv, np.int64), DT_INT64))
    if return_counts:
        result.append(_from_np(np.asarray(cnt, np.int64), DT_INT64))
    return result[0] if len(result) == 1 else tuple(result)


# ---------------------------------------------------------------------------------------
# searchsorted / bucketize / histc

def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where ``input`` values would be inserted into the innermost dim of
    ``sorted_sequence`` to keep it sorted (first such place, or last with ``right=True`` /
    ``side='right'``)."""
    cdef Tensor seq = _as_t(sorted_sequence, "searchsorted", "sorted_sequence"), vals
    scalar = not isinstance(input, Tensor)
    if seq._dtype == DT_BOOL or (not scalar and (<Tensor>input)._dtype == DT_BOOL):
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    if scalar:
        if seq._ndim != 1:
            raise RuntimeError("torch.searchsorted(): input value can be a scalar only when "
                               f"boundaries tensor dimension is 1, but we got boundaries tensor "
                               f"dim({seq._ndim}) and input value's dim(0) numel(1)")
        vals = to_tensor(input)
    else:
        vals = <Tensor>input
    if category(seq._dtype) == 3 or category(vals._dtype) == 3:
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'ComplexFloat'")
    if seq._ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if seq._ndim != 1:
        if vals._ndim != seq._ndim or shape_tuple(vals)[:-1] != shape_tuple(seq)[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                               "the first N-1 dimensions of boundaries tensor and input value "
                               "tensor must match, but we got boundaries tensor "
                               f"{list(shape_tuple(seq))} and input value tensor "
                               f"{list(shape_tuple(vals))}")
    side_s = "right" if right else "left"
    s = _np_key(seq)
    v = _np_key(vals)
    if sorter is not None:
        srt = _as_t(sorter, "searchsorted", "sorter")
        if shape_tuple(srt) != shape_tuple(seq):
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, "
                               f"but got boundary tensor {list(shape_tuple(seq))}and got sorter "
                               f"tensor {list(shape_tuple(srt))}")
        s = np.take_along_axis(s, srt.numpy(force=True).astype(np.int64), -1)
    ct = np.result_type(s.dtype, v.dtype)
    s = s.astype(ct, copy=False)
    v = v.astype(ct, copy=False)
    if seq._ndim == 1:
        res = np.searchsorted(s, v, side=side_s)
    else:
        lead = s.shape[:-1]
        s2 = s.reshape(-1, s.shape[-1])
        v2 = v.reshape(-1, v.shape[-1])
        res = np.empty(v2.shape, np.int64)
        for i in range(s2.shape[0]):
            res[i] = np.searchsorted(s2[i], v2[i], side=side_s)
        res = res.reshape(v.shape)
    cdef Tensor r = _from_np(np.asarray(res), DT_INT32 if out_int32 else DT_INT64)
    if out is not None:
        _write_out((out, out), 0, r)
        return out
    return r


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value of ``input`` for 1-D ``boundaries``
    (``searchsorted(boundaries, input, right=right)``)."""
    cdef Tensor b = _as_t(boundaries, "bucketize", "boundaries")
    if b._ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b._ndim})")
    return searchsorted(b, input, out_int32=out_int32, right=right, out=out)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of ``bins`` equal-width bins between ``min`` and ``max`` (the data's range
    when both are 0); values outside are ignored. Floating dtypes only."""
    cdef Tensor t = _as_t(input, "histc", "input")
    if category(t._dtype) != 2:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{dtype_of(t._dtype).scalar_name}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    a = _np_key(t).astype(np.float64).reshape(-1)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError(f"torch.histc(): max must be larger than min, but got min {lo} max {hi}")
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo -= 1
        hi += 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc(): range of [{lo}, {hi}] is not finite")
    a = a[(a >= lo) & (a <= hi)]
    counts = np.histogram(a, bins=bins, range=(lo, hi))[0].astype(np.float64)
    cdef Tensor r = _from_np_float(counts, t._dtype)
    if out is not None:
        _write_out((out, out), 0, r)
        return out
    return r


TENSOR_METHODS = {
    "sort": sort, "argsort": argsort, "msort": msort, "topk": topk, "kthvalue": kthvalue,
    "unique": unique, "unique_consecutive": unique_consecutive, "histc": histc,
}
