"""Op table lines for the reductions and scans (rt_tensor/_reduce.pyx).

numpy references take the same keyword names as rt (``dim``, ``keepdim``); ``_axis`` maps
them to numpy's (a 0-d input reduces over "all" of its single element, as in PyTorch).
Ops with no identity (max, argmax, ...) skip the empty layout here: test_reduce.py checks
their errors. median/var and friends with special cases live in test_reduce.py too.
"""
import warnings

import numpy as np

import rt_tensor as rtt
from opinfo import OpInfo, ALL, BOOL, INTS, FLOATS, COMPLEX, REAL, FLOAT_AND_COMPLEX, LAYOUTS

DIMS = [{}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"dim": [0], "keepdim": False}]
DIM1 = [{}, {"dim": 0}, {"dim": -1, "keepdim": True}]
SCAN_DIMS = [{"dim": 0}, {"dim": -1}]
NO_EMPTY = tuple(x for x in LAYOUTS if x != "empty")
NO_EMPTY_0D = tuple(x for x in LAYOUTS if x not in ("empty", "zero_dim"))


def _axis(a, dim):
    if dim is None or a.ndim == 0:
        return None
    if isinstance(dim, (list, tuple)):
        return tuple(dim)
    return dim


def _red(fn):
    def ref(a, dim=None, keepdim=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(a, axis=_axis(a, dim), keepdims=keepdim)
    return ref


def _int64_for_ints(d):
    return d if (d.is_floating_point or d.is_complex) else rtt.int64


def _real(d):
    return {rtt.complex64: rtt.float32, rtt.complex128: rtt.float64}.get(d, d)


def _bool_or_uint8(d):
    return rtt.uint8 if d == rtt.uint8 else rtt.bool


def _maxdim(fn, argfn):
    def ref(a, dim=None, keepdim=False):
        if dim is None:
            return fn(a)
        ax = _axis(a, dim)
        return fn(a, axis=ax, keepdims=keepdim), argfn(a, axis=ax, keepdims=keepdim)
    return ref


def _argref(fn):
    def ref(a, dim=None, keepdim=False):
        if dim is None:
            r = fn(a.reshape(-1))
            return np.reshape(r, (1,) * a.ndim) if keepdim else r
        return fn(a, axis=_axis(a, dim), keepdims=keepdim)
    return ref


def _aminmax(a, dim=None, keepdim=False):
    ax = _axis(a, dim)
    return np.min(a, axis=ax, keepdims=keepdim), np.max(a, axis=ax, keepdims=keepdim)


def _count_nonzero(a, dim=None):
    return np.count_nonzero(a, axis=_axis(a, dim))


def _var(ddof, sqrt=False):
    def ref(a, dim=None, keepdim=False, correction=1):
        r = np.var(a, axis=_axis(a, dim), keepdims=keepdim, ddof=correction)
        return np.sqrt(r) if sqrt else r
    return ref


def _norm(a, p="fro", dim=None, keepdim=False):
    ax = _axis(a, dim)
    x = np.abs(a).astype(np.float64)
    if p == "fro" or p == 2:
        return np.sqrt(np.sum(x * x, axis=ax, keepdims=keepdim))
    if p == np.inf:
        return np.max(x, axis=ax, keepdims=keepdim)
    if p == 1:
        return np.sum(x, axis=ax, keepdims=keepdim)
    return np.sum(x ** p, axis=ax, keepdims=keepdim) ** (1.0 / p)


def _logsumexp(a, dim, keepdim=False):
    ax = _axis(a, dim)
    a = a.astype(np.float64)
    m = np.max(a, axis=ax, keepdims=True)
    r = m + np.log(np.sum(np.exp(a - m), axis=ax, keepdims=True))
    return r if keepdim else (np.squeeze(r, axis=ax) if ax is not None else r.reshape(()))


def _scan(fn):
    def ref(a, dim):
        if a.ndim == 0:
            return fn(a.reshape(1), axis=0).reshape(())
        return fn(a, axis=dim)
    return ref


def _cumext(ufunc):
    def ref(a, dim):
        flat = a.reshape(1) if a.ndim == 0 else a
        ax = 0 if a.ndim == 0 else dim
        vals = ufunc.accumulate(flat, axis=ax)
        moved = np.moveaxis(flat, ax, -1)
        mv = np.moveaxis(vals, ax, -1)
        idx = np.zeros(moved.shape, dtype=np.int64)
        for pos in np.ndindex(moved.shape[:-1]):
            best = 0
            for i in range(moved.shape[-1]):
                if moved[pos + (i,)] == mv[pos + (i,)]:
                    best = i
                idx[pos + (i,)] = best
        idx = np.moveaxis(idx, -1, ax)
        if a.ndim == 0:
            return vals.reshape(()), idx.reshape(())
        return vals, idx
    return ref


def _logcumsumexp(a, dim):
    flat = a.reshape(1) if a.ndim == 0 else a
    r = np.logaddexp.accumulate(flat.astype(np.float64), axis=0 if a.ndim == 0 else dim)
    return r.reshape(a.shape)


OPS = [
    OpInfo("sum", _red(np.sum), dtypes=ALL, result=_int64_for_ints, kwargs=DIMS),
    OpInfo("nansum", _red(np.nansum), dtypes=BOOL + REAL, result=_int64_for_ints, kwargs=DIMS),
    OpInfo("mean", _red(np.mean), dtypes=FLOAT_AND_COMPLEX, kwargs=DIMS),
    OpInfo("nanmean", _red(np.nanmean), dtypes=FLOAT_AND_COMPLEX, kwargs=DIMS),
    OpInfo("prod", _red(np.prod), dtypes=ALL, result=_int64_for_ints, kwargs=DIM1,
           domain=(-1.5, 1.5), int_domain=(-3, 4)),
    OpInfo("amax", _red(np.max), dtypes=BOOL + REAL, kwargs=DIMS, layouts=NO_EMPTY),
    OpInfo("amin", _red(np.min), dtypes=BOOL + REAL, kwargs=DIMS, layouts=NO_EMPTY),
    OpInfo("max", _maxdim(np.max, np.argmax), dtypes=BOOL + REAL, kwargs=DIM1, layouts=NO_EMPTY),
    OpInfo("min", _maxdim(np.min, np.argmin), dtypes=BOOL + REAL, kwargs=DIM1, layouts=NO_EMPTY),
    OpInfo("aminmax", _aminmax, dtypes=BOOL + REAL, kwargs=DIM1, layouts=NO_EMPTY, method=True),
    OpInfo("argmax", _argref(np.argmax), dtypes=REAL, result="int64", kwargs=DIM1,
           layouts=NO_EMPTY),
    OpInfo("argmin", _argref(np.argmin), dtypes=REAL, result="int64", kwargs=DIM1,
           layouts=NO_EMPTY),
    OpInfo("all", _red(np.all), dtypes=ALL, result=_bool_or_uint8, kwargs=DIMS),
    OpInfo("any", _red(np.any), dtypes=ALL, result=_bool_or_uint8, kwargs=DIMS),
    OpInfo("count_nonzero", _count_nonzero, dtypes=ALL, result="int64",
           kwargs=[{}, {"dim": 0}, {"dim": -1}]),
    OpInfo("var", _var(1), dtypes=FLOAT_AND_COMPLEX, result=_real, layouts=NO_EMPTY_0D,
           kwargs=DIMS + [{"dim": 0, "correction": 0}]),
    OpInfo("std", _var(1, True), dtypes=FLOAT_AND_COMPLEX, result=_real, layouts=NO_EMPTY_0D,
           kwargs=DIMS + [{"dim": 0, "correction": 0}]),
    OpInfo("norm", _norm, dtypes=FLOAT_AND_COMPLEX, result=_real,
           kwargs=[{}, {"dim": 0}, {"p": 1, "dim": -1, "keepdim": True}, {"p": 3.0},
                   {"p": float("inf"), "dim": 0}],
           layouts=NO_EMPTY),
    OpInfo("logsumexp", _logsumexp, dtypes=REAL, result="float",
           kwargs=[{"dim": 0}, {"dim": -1, "keepdim": True}, {"dim": [0, -1]}],
           layouts=NO_EMPTY_0D),
    OpInfo("cumsum", _scan(np.cumsum), dtypes=ALL, result=_int64_for_ints, kwargs=SCAN_DIMS),
    OpInfo("cumprod", _scan(np.cumprod), dtypes=ALL, result=_int64_for_ints, kwargs=SCAN_DIMS,
           domain=(-1.5, 1.5), int_domain=(-3, 4)),
    OpInfo("cummax", _cumext(np.maximum), dtypes=BOOL + REAL, kwargs=SCAN_DIMS),
    OpInfo("cummin", _cumext(np.minimum), dtypes=BOOL + REAL, kwargs=SCAN_DIMS),
    OpInfo("logcumsumexp", _logcumsumexp, dtypes=FLOATS, kwargs=SCAN_DIMS),
]
