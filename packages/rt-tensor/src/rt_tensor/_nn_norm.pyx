# cython: language_level=3
"""Normalization kernels for rt_nn (private: not in rt_tensor.__all__): batch norm (with
the running-statistics update), layer norm, RMS norm and group norm, forward and backward,
float32 and float64, on contiguous tensors. rt_nn.functional wraps them in autograd
Functions and gives PyTorch's argument checks and messages; the checks here only keep bad
input from crashing the process.

Statistics are accumulated in double (per lane in float32 for at most 512 elements, see
_nn_norm_kernels.pxi.in) with two passes (mean, then squared deviations). Backward formulas
are PyTorch's (batch_norm_backward, layer_norm_backward, GroupNorm's backward) written with
centred sums.
"""
include "build_stamp.pxi"

from libc.stdlib cimport malloc, free
from libc.stdint cimport int64_t
from rt_tensor._types cimport *
from rt_tensor._tensor cimport Tensor, new_tensor
from rt_tensor._parallel cimport parallel_for, GRAIN_ELEMENTWISE

include "_nn_norm_kernels.pxi"

__all__ = []


cdef int _float_code(Tensor t, str what) except -1:
    if t._dtype == DT_FLOAT32:
        return 0
    if t._dtype == DT_FLOAT64:
        return 1
    raise TypeError(f"{what}: expected a float32 or float64 tensor")


cdef Tensor _check(object obj, int dt, index_t n, str what):
    """A contiguous tensor of the kernel's dtype with n elements, or None."""
    if obj is None:
        return None
    if not isinstance(obj, Tensor):
        raise TypeError(f"{what}: expected a Tensor or None")
    cdef Tensor t = <Tensor>obj
    if t._dtype != <int>(DT_FLOAT64 if dt else DT_FLOAT32):
        raise TypeError(f"{what}: dtype must match the input")
    if not t.is_contig():
        raise ValueError(f"{what}: must be contiguous")
    if t._numel != n:
        raise ValueError(f"{what}: expected {n} elements, got {t._numel}")
    return t


cdef inline const char* _cptr(Tensor t) noexcept:
    return NULL if t is None else t.ptr()


cdef inline char* _ptr(Tensor t) noexcept:
    return NULL if t is None else t.ptr()


cdef inline index_t _grain(index_t row) noexcept nogil:
    return GRAIN_ELEMENTWISE // row + 1 if row > 0 else 1


cdef Tensor _vec(int dt, index_t n):
    cdef index_t shape[1]
    shape[0] = n
    return new_tensor(DT_FLOAT64 if dt else DT_FLOAT32, 1, shape, False)


cdef Tensor _like(Tensor x):
    return new_tensor(x._dtype, x._ndim, x._shape, False)


cdef void _ncl(Tensor x, index_t* N, index_t* C, index_t* L) except *:
    if x._ndim < 2:
        raise ValueError("expected an input with at least 2 dimensions")
    cdef int i
    N[0] = x._shape[0]
    C[0] = x._shape[1]
    L[0] = 1
    for i in range(2, x._ndim):
        L[0] *= x._shape[i]


cdef rtn_pfor_t PFOR = <rtn_pfor_t>parallel_for


def batch_norm_forward(Tensor input, weight, bias, running_mean, running_var, bint training,
                       double momentum, double eps):
    """Batch norm over a contiguous (N, C, *) input: returns (output, save_mean, save_invstd).

    training: batch statistics (biased variance) normalise, and running_mean/running_var
    (when given) are updated in place: running = (1 - momentum) * running + momentum * stat,
    with the unbiased batch variance. Otherwise the running statistics normalise.
    save_mean/save_invstd are the statistics used (for the backward).
    """
    cdef int dt = _float_code(input, "batch_norm")
    if not input.is_contig():
        raise ValueError("batch_norm: input must be contiguous")
    cdef index_t N = 0, C = 0, L = 0
    _ncl(input, &N, &C, &L)
    cdef Tensor w = _check(weight, dt, C, "batch_norm weight")
    cdef Tensor b = _check(bias, dt, C, "batch_norm bias")
    cdef Tensor rm = _check(running_mean, dt, C, "batch_norm running_mean")
    cdef Tensor rv = _check(running_var, dt, C, "batch_norm running_var")
    if not training and (rm is None or rv is None):
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    cdef Tensor out = _like(input)
    cdef Tensor mean = _vec(dt, C)
    cdef Tensor invstd = _vec(dt, C)
    cdef rtn_ctx p
    cdef int rc
    p.dt = dt
    p.x = input.ptr()
    p.y = out.ptr()
    p.w = _cptr(w)
    p.b = _cptr(b)
    p.mean = mean.ptr()
    p.rstd = invstd.ptr()
    p.N = N
    p.C = C
    p.L = L
    p.eps = eps
    cdef char* rmp = _ptr(rm)
    cdef char* rvp = _ptr(rv)
    with nogil:
        rc = rtn_bn_forward(&p, PFOR, rmp, rvp, training, momentum)
    if rc:
        raise MemoryError()
    if training and N * L > 0:
        if rm is not None:
            rm._storage.version += 1
        if rv is not None:
            rv._storage.version += 1
    return out, mean, invstd


def batch_norm_backward(Tensor grad_out, Tensor input, Tensor mean, Tensor invstd, weight,
                        bint training, bint need_input, bint need_weight, bint need_bias):
    """Gradients of batch norm: (grad_input, grad_weight, grad_bias), None where not asked.
    mean/invstd: the statistics the forward used (batch ones when training)."""
    cdef int dt = _float_code(input, "batch_norm_backward")
    if not input.is_contig() or not grad_out.is_contig():
        raise ValueError("batch_norm_backward: tensors must be contiguous")
    if grad_out._dtype != input._dtype or grad_out._numel != input._numel:
        raise ValueError("batch_norm_backward: grad_out must match the input")
    cdef index_t N = 0, C = 0, L = 0
    _ncl(input, &N, &C, &L)
    _check(mean, dt, C, "batch_norm_backward mean")
    _check(invstd, dt, C, "batch_norm_backward invstd")
    cdef Tensor w = _check(weight, dt, C, "batch_norm_backward weight")
    cdef Tensor dx = _like(input) if need_input else None
    cdef Tensor dw = _vec(dt, C) if need_weight else None
    cdef Tensor db = _vec(dt, C) if need_bias else None
    cdef rtn_ctx p
    cdef int rc
    p.dt = dt
    p.x = input.ptr()
    p.dy = grad_out.ptr()
    p.dx = _ptr(dx)
    p.w = _cptr(w)
    p.mean = mean.ptr()
    p.rstd = invstd.ptr()
    p.N = N
    p.C = C
    p.L = L
    cdef char* dwp = _ptr(dw)
    cdef char* dbp = _ptr(db)
    with nogil:
        rc = rtn_bn_backward(&p, PFOR, training, need_input, dwp, dbp)
    if rc:
        raise MemoryError()
    return dx, dw, db


cdef void _rows_cols(Tensor x, index_t D, index_t* M) except *:
    if D <= 0 or x._numel % D != 0:
        raise ValueError("normalized size must divide the input's size")
    M[0] = x._numel // D


def layer_norm_forward(Tensor input, index_t D, weight, bias, double eps):
    """Layer norm over the last D elements (rows of a contiguous input): (output, mean, rstd),
    mean and rstd with one entry per row."""
    cdef int dt = _float_code(input, "layer_norm")
    if not input.is_contig():
        raise ValueError("layer_norm: input must be contiguous")
    cdef index_t M = 0
    _rows_cols(input, D, &M)
    cdef Tensor w = _check(weight, dt, D, "layer_norm weight")
    cdef Tensor b = _check(bias, dt, D, "layer_norm bias")
    cdef Tensor out = _like(input)
    cdef Tensor mean = _vec(dt, M)
    cdef Tensor rstd = _vec(dt, M)
    cdef rtn_ctx p
    p.dt = dt
    p.x = input.ptr()
    p.y = out.ptr()
    p.w = _cptr(w)
    p.b = _cptr(b)
    p.mean = mean.ptr()
    p.rstd = rstd.ptr()
    p.M = M
    p.D = D
    p.eps = eps
    with nogil:
        parallel_for(M, _grain(D), rtn_ln_fwd, &p)
    return out, mean, rstd


def rms_norm_forward(Tensor input, index_t D, weight, double eps):
    """RMS norm over the last D elements: (output, rstd), rstd = 1 / sqrt(mean(x^2) + eps)."""
    cdef int dt = _float_code(input, "rms_norm")
    if not input.is_contig():
        raise ValueError("rms_norm: input must be contiguous")
    cdef index_t M = 0
    _rows_cols(input, D, &M)
    cdef Tensor w = _check(weight, dt, D, "rms_norm weight")
    cdef Tensor out = _like(input)
    cdef Tensor rstd = _vec(dt, M)
    cdef rtn_ctx p
    p.dt = dt
    p.x = input.ptr()
    p.y = out.ptr()
    p.w = _cptr(w)
    p.b = NULL
    p.mean = NULL
    p.rstd = rstd.ptr()
    p.M = M
    p.D = D
    p.eps = eps
    with nogil:
        parallel_for(M, _grain(D), rtn_ln_fwd, &p)
    return out, rstd


cdef tuple _rows_backward(Tensor grad_out, Tensor input, Tensor mean, Tensor rstd, object weight,
                          index_t D, bint need_input, bint need_weight, bint need_bias, str what):
    cdef int dt = _float_code(input, what)
    if not input.is_contig() or not grad_out.is_contig():
        raise ValueError(f"{what}: tensors must be contiguous")
    if grad_out._dtype != input._dtype or grad_out._numel != input._numel:
        raise ValueError(f"{what}: grad_out must match the input")
    cdef index_t M = 0
    _rows_cols(input, D, &M)
    if mean is not None:
        _check(mean, dt, M, what + " mean")
    _check(rstd, dt, M, what + " rstd")
    cdef Tensor w = _check(weight, dt, D, what + " weight")
    cdef Tensor dx = None, dw = None, db = None
    cdef rtn_ctx p
    cdef double* acc = NULL
    p.dt = dt
    p.x = input.ptr()
    p.dy = grad_out.ptr()
    p.w = _cptr(w)
    p.mean = _ptr(mean)
    p.rstd = rstd.ptr()
    p.M = M
    p.D = D
    if need_input:
        dx = _like(input)
        p.dx = dx.ptr()
        with nogil:
            parallel_for(M, _grain(D), rtn_ln_bwd_dx, &p)
    if need_weight or need_bias:
        dw = _vec(dt, D) if need_weight else None
        db = _vec(dt, D) if need_bias else None
        acc = <double*>malloc(2 * (D + 1) * sizeof(double))
        if acc == NULL:
            raise MemoryError()
        p.acc1 = acc
        p.acc2 = acc + D + 1
        p.dw = _ptr(dw)
        p.db = _ptr(db)
        try:
            with nogil:
                parallel_for(D, max(64, _grain(M)), rtn_ln_bwd_dw, &p)
        finally:
            free(acc)
    return dx, dw, db


def layer_norm_backward(Tensor grad_out, Tensor input, Tensor mean, Tensor rstd, weight,
                        index_t D, bint need_input, bint need_weight, bint need_bias):
    """Gradients of layer norm: (grad_input, grad_weight, grad_bias), None where not asked."""
    return _rows_backward(grad_out, input, mean, rstd, weight, D, need_input, need_weight,
                          need_bias, "layer_norm_backward")


def rms_norm_backward(Tensor grad_out, Tensor input, Tensor rstd, weight, index_t D,
                      bint need_input, bint need_weight):
    """Gradients of RMS norm: (grad_input, grad_weight), None where not asked."""
    dx, dw, _ = _rows_backward(grad_out, input, None, rstd, weight, D, need_input, need_weight,
                               False, "rms_norm_backward")
    return dx, dw


def group_norm_forward(Tensor input, index_t G, weight, bias, double eps):
    """Group norm of a contiguous (N, C, *) input with G groups: (output, mean, rstd), the
    statistics with N * G entries."""
    cdef int dt = _float_code(input, "group_norm")
    if not input.is_contig():
        raise ValueError("group_norm: input must be contiguous")
    cdef index_t N = 0, C = 0, L = 0
    _ncl(input, &N, &C, &L)
    if G <= 0 or C % G != 0:
        raise ValueError("group_norm: groups must divide the channels")
    cdef Tensor w = _check(weight, dt, C, "group_norm weight")
    cdef Tensor b = _check(bias, dt, C, "group_norm bias")
    cdef Tensor out = _like(input)
    cdef Tensor mean = _vec(dt, N * G)
    cdef Tensor rstd = _vec(dt, N * G)
    cdef rtn_ctx p
    p.dt = dt
    p.x = input.ptr()
    p.y = out.ptr()
    p.w = _cptr(w)
    p.b = _cptr(b)
    p.mean = mean.ptr()
    p.rstd = rstd.ptr()
    p.N = N
    p.C = C
    p.L = L
    p.G = G
    p.eps = eps
    with nogil:
        parallel_for(N * G, _grain(C // G * L), rtn_gn_fwd, &p)
    return out, mean, rstd


def group_norm_backward(Tensor grad_out, Tensor input, Tensor mean, Tensor rstd, weight,
                        index_t G, bint need_input, bint need_weight, bint need_bias):
    """Gradients of group norm: (grad_input, grad_weight, grad_bias), None where not asked."""
    cdef int dt = _float_code(input, "group_norm_backward")
    if not input.is_contig() or not grad_out.is_contig():
        raise ValueError("group_norm_backward: tensors must be contiguous")
    if grad_out._dtype != input._dtype or grad_out._numel != input._numel:
        raise ValueError("group_norm_backward: grad_out must match the input")
    cdef index_t N = 0, C = 0, L = 0
    _ncl(input, &N, &C, &L)
    if G <= 0 or C % G != 0:
        raise ValueError("group_norm_backward: groups must divide the channels")
    _check(mean, dt, N * G, "group_norm_backward mean")
    _check(rstd, dt, N * G, "group_norm_backward rstd")
    cdef Tensor w = _check(weight, dt, C, "group_norm_backward weight")
    cdef Tensor dx = _like(input) if need_input else None
    cdef Tensor dw = _vec(dt, C) if need_weight else None
    cdef Tensor db = _vec(dt, C) if need_bias else None
    cdef rtn_ctx p
    cdef int rc
    p.dt = dt
    p.x = input.ptr()
    p.dy = grad_out.ptr()
    p.dx = _ptr(dx)
    p.w = _cptr(w)
    p.mean = mean.ptr()
    p.rstd = rstd.ptr()
    p.N = N
    p.C = C
    p.L = L
    p.G = G
    cdef char* dwp = _ptr(dw)
    cdef char* dbp = _ptr(db)
    with nogil:
        rc = rtn_gn_backward(&p, PFOR, need_input, dwp, dbp)
    if rc:
        raise MemoryError()
    return dx, dw, db
