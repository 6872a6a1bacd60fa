# cython: language_level=3
"""Activation kernels for rt_nn (private: not in rt_tensor.__all__): one pass forward
(y = f(x)) and one pass backward (dx = g * f'(x)) per activation, float32 and float64, on
contiguous tensors. rt_nn.functional wraps them in autograd Functions and gives PyTorch's
argument checks and messages. Loops: _nn_act_kernels.pxi.in.
"""
include "build_stamp.pxi"

from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from rt_tensor._types cimport *
from rt_tensor._tensor cimport Tensor, new_tensor
from rt_tensor._parallel cimport parallel_for, GRAIN_ELEMENTWISE

include "_nn_act_kernels.pxi"

__all__ = []

# transcendental loops cost ~10x a memory-bound one per element: split work earlier
cdef enum:
    ACT_GRAIN = 8192

OPS = {name: i for i, name in enumerate(OP_NAMES)}


cdef int _dt(Tensor t) except -1:
    if t._dtype == DT_FLOAT32:
        return 0
    if t._dtype == DT_FLOAT64:
        return 1
    raise TypeError("activation kernels take float32 or float64 tensors")


def act_forward(int op, Tensor input, double p0=0.0, double p1=0.0, double p2=0.0, Tensor out=None):
    """y = f(input) for activation ``op`` (an index of OP_NAMES); ``out`` (optional, may be
    ``input`` itself) must be contiguous with input's dtype and size."""
    if op < 0 or op >= RTA_NUM_OPS:
        raise ValueError(f"act_forward: unknown op {op}")
    cdef int dt = _dt(input)
    if not input.is_contig():
        raise ValueError("act_forward: input must be contiguous")
    if out is None:
        out = new_tensor(input._dtype, input._ndim, input._shape, False)
    elif out._dtype != input._dtype or out._numel != input._numel or not out.is_contig():
        raise ValueError("act_forward: out must be contiguous with the input's dtype and size")
    cdef rta_ctx c
    c.op = op
    c.dt = dt
    c.esize = 8 if dt else 4
    c.x = input.ptr()
    c.g = NULL
    c.y = out.ptr()
    c.prm[0] = p0
    c.prm[1] = p1
    c.prm[2] = p2
    if input._numel:
        with nogil:
            parallel_for(input._numel, ACT_GRAIN, rta_fwd_task, &c)
    return out


def act_backward(int op, Tensor grad, Tensor input, double p0=0.0, double p1=0.0, double p2=0.0):
    """grad * f'(input) for activation ``op``; grad and input contiguous, same dtype and size."""
    if op < 0 or op >= RTA_NUM_OPS:
        raise ValueError(f"act_backward: unknown op {op}")
    cdef int dt = _dt(input)
    if not input.is_contig() or not grad.is_contig():
        raise ValueError("act_backward: tensors must be contiguous")
    if grad._dtype != input._dtype or grad._numel != input._numel:
        raise ValueError("act_backward: grad must match the input's dtype and size")
    cdef Tensor out = new_tensor(input._dtype, input._ndim, input._shape, False)
    cdef rta_ctx c
    c.op = op
    c.dt = dt
    c.esize = 8 if dt else 4
    c.x = input.ptr()
    c.g = grad.ptr()
    c.y = out.ptr()
    c.prm[0] = p0
    c.prm[1] = p1
    c.prm[2] = p2
    if input._numel:
        with nogil:
            parallel_for(input._numel, ACT_GRAIN, rta_bwd_task, &c)
    return out


cdef Tensor _prelu_check(Tensor input, Tensor weight, index_t C, index_t L, index_t* R):
    cdef int dt = _dt(input)
    if not input.is_contig() or not weight.is_contig():
        raise ValueError("prelu: tensors must be contiguous")
    if weight._dtype != input._dtype or weight._numel != C or C <= 0 or L <= 0:
        raise ValueError("prelu: weight must have the input's dtype and C elements")
    if C > 1 and input._numel % (C * L) != 0:
        raise ValueError("prelu: the input is not (N, C, L) for these C and L")
    R[0] = (input._numel + L - 1) // L
    return weight


def prelu_forward(Tensor input, Tensor weight, index_t C, index_t L):
    """x if x > 0 else weight[c] * x, for a contiguous input read as rows of L elements whose
    channel is (row index) % C (C = 1: one weight for everything)."""
    cdef index_t R = 0
    _prelu_check(input, weight, C, L, &R)
    cdef Tensor out = new_tensor(input._dtype, input._ndim, input._shape, False)
    cdef rta_prelu_ctx c
    c.dt = 1 if input._dtype == DT_FLOAT64 else 0
    c.x = input.ptr()
    c.g = NULL
    c.w = weight.ptr()
    c.y = out.ptr()
    c.dwr = NULL
    c.R, c.L, c.C, c.n = R, L, C, input._numel
    if R:
        with nogil:
            parallel_for(R, GRAIN_ELEMENTWISE // L + 1, rta_prelu_fwd_task, &c)
    return out


def prelu_backward(Tensor grad, Tensor input, Tensor weight, index_t C, index_t L,
                   bint need_input, bint need_weight):
    """(grad_input, grad_weight) of prelu_forward, None where not asked."""
    cdef index_t R = 0, r
    _prelu_check(input, weight, C, L, &R)
    if not grad.is_contig() or grad._dtype != input._dtype or grad._numel != input._numel:
        raise ValueError("prelu_backward: grad must match the input")
    cdef Tensor dx = new_tensor(input._dtype, input._ndim, input._shape, False) if need_input else None
    cdef Tensor dw = new_tensor(weight._dtype, weight._ndim, weight._shape, False) if need_weight else None
    cdef double* dwr = NULL
    cdef double* sums = NULL
    cdef rta_prelu_ctx c
    c.dt = 1 if input._dtype == DT_FLOAT64 else 0
    c.x = input.ptr()
    c.g = grad.ptr()
    c.w = weight.ptr()
    c.y = dx.ptr() if dx is not None else NULL
    if need_weight:
        dwr = <double*>malloc((R + C + 1) * sizeof(double))
        if dwr == NULL:
            raise MemoryError()
        sums = dwr + R
    c.dwr = dwr
    c.R, c.L, c.C, c.n = R, L, C, input._numel
    try:
        if R:
            with nogil:
                parallel_for(R, GRAIN_ELEMENTWISE // L + 1, rta_prelu_bwd_task, &c)
        if need_weight:
            for r in range(C):
                sums[r] = 0.0
            for r in range(R):
                sums[r % C] += dwr[r]
            for r in range(C):
                if c.dt:
                    (<double*>dw.ptr())[r] = sums[r]
                else:
                    (<float*>dw.ptr())[r] = <float>sums[r]
    finally:
        free(dwr)
    return dx, dw
