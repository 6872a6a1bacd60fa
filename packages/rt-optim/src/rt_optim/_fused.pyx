# cython: language_level=3
"""Fused optimizer updates: one pass over parameter, gradient and state per tensor, for every
tensor of a parameter group in one call (multi-tensor), float32 and float64, no temporaries.

This module holds SGD and Adam/AdamW; ``_fused_*.pyx`` hold the others, all built on
``_kernel_base.pxi``. Each optimizer has one ``def`` taking lists (params, grads, one list
per state buffer, the per-parameter ``step`` tensors) and the group's hyper-parameters, and
an element loop in C (``_fused_loops.h``, on ``rt_optim_loops.h``: compiled for AVX-512,
AVX2 and the baseline, chosen at load time) that does, per element, what the readable
reference in ``rt_optim/<optimizer>.py`` does with tensor ops, in the same order of float
operations (so float32 results round as PyTorch's single-tensor implementation does).

A tensor the kernels cannot take (not contiguous, not float32/float64, grad or state of
another dtype or size) is left alone: every ``def`` returns the list of the indices it skipped
(or None) and the caller applies the reference formula to those. Kernels bump the version
counter of every tensor they write, as an in-place tensor op does.

Adding an optimizer: ``docs/adding-an-optimizer.md``.
"""
include "_kernel_base.pxi"

from rt_tensor._types cimport DT_COMPLEX64, DT_COMPLEX128

__all__ = []


cdef inline bint _is_complex(object obj) noexcept:
    if not isinstance(obj, Tensor):
        return False
    cdef int dtype = (<Tensor>obj)._dtype
    return dtype == DT_COMPLEX64 or dtype == DT_COMPLEX128


cdef object _real_view(object tensor):
    if not _is_complex(tensor):
        return tensor
    real = tensor.real
    return real.as_strided(tuple(tensor.shape) + (2,), tuple(real.stride()) + (1,),
                           real.storage_offset())


def view_complex_as_real(list lists):
    """PyTorch's optimizers update a complex parameter as the pairs of reals it holds
    (``torch.view_as_real`` of parameter, gradient and state): ``lists`` (params first, then
    grads, state buffers, ...; None for an unused list) with every complex tensor replaced
    by that view, which the kernels take like any float tensor. ``lists`` itself when no
    parameter is complex (the usual case, one dtype test per parameter)."""
    cdef object p
    for p in lists[0]:
        if _is_complex(p):
            break
    else:
        return lists
    return [None if lst is None else [_real_view(x) for x in lst] for lst in lists]


cdef extern from "_fused_loops.h" nogil:
    void rto_sgd_float(float* p, const float* g, float* buf, const double* h, int flags,
                       index_t b, index_t e)
    void rto_sgd_double(double* p, const double* g, double* buf, const double* h, int flags,
                        index_t b, index_t e)
    void rto_adam_float(float* p, const float* g, float* m, float* v, float* vmax,
                        const double* h, int flags, index_t b, index_t e)
    void rto_adam_double(double* p, const double* g, double* m, double* v, double* vmax,
                         const double* h, int flags, index_t b, index_t e)


# ---- SGD ----------------------------------------------------------------------------------
cdef void sgd_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_sgd_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], j.h, j.flags, b, e)
    else:
        rto_sgd_double(<double*>j.p, <const double*>j.g, <double*>j.s[0], j.h, j.flags, b, e)


def sgd(list params, list grads, list momentum_buffers, list fresh, double lr, double momentum,
        double dampening, double weight_decay, bint nesterov, bint maximize):
    """SGD (PyTorch's formula): d = ±g + wd·p; with momentum, buf = d on the first step
    (``fresh[i]`` true) else buf = momentum·buf + (1 - dampening)·d, and d = d + momentum·buf
    (nesterov) or buf; p -= lr·d. ``momentum_buffers`` is None when momentum is 0.
    Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef bint use_momentum = momentum_buffers is not None
    for i in range(n):
        if not _bind(&job, params[i], grads[i],
                     (momentum_buffers[i] if use_momentum else None,)):
            skipped = _skip(skipped, i)
            continue
        job.h[0] = lr
        job.h[1] = momentum
        job.h[2] = dampening
        job.h[3] = weight_decay
        job.h[4] = -1.0 if maximize else 1.0
        # flags of _fused_loops.h: 1 weight decay, 2 momentum, 4 first step, 8 nesterov
        job.flags = ((1 if weight_decay != 0 else 0) | (2 if use_momentum else 0)
                     | (8 if nesterov and use_momentum else 0))
        if use_momentum and fresh[i]:
            job.flags |= 4
        with nogil:
            _launch(&job, sgd_task)
    return skipped


# ---- Adam, AdamW ----------------------------------------------------------------------------
cdef void adam_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_adam_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], <float*>j.s[1],
                       <float*>j.s[2], j.h, j.flags, b, e)
    else:
        rto_adam_double(<double*>j.p, <const double*>j.g, <double*>j.s[0], <double*>j.s[1],
                        <double*>j.s[2], j.h, j.flags, b, e)


def adam(list params, list grads, list exp_avgs, list exp_avg_sqs, list max_exp_avg_sqs,
         list steps, double lr, double beta1, double beta2, double weight_decay, double eps,
         bint amsgrad, bint maximize, bint decoupled):
    """Adam / AdamW (Kingma & Ba 2015, Loshchilov & Hutter 2019; PyTorch's formula): step += 1;
    d = ±g (+ wd·p, or p *= 1 - lr·wd when decoupled); m = lerp(m, d, 1 - beta1);
    v = beta2·v + (1 - beta2)·d²; (amsgrad: vmax = max(vmax, v), used for v);
    p -= lr / (1 - beta1^t) · m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    ``max_exp_avg_sqs`` is None unless amsgrad. Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef double step
    cdef bint l2 = weight_decay != 0 and not decoupled
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (exp_avgs[i], exp_avg_sqs[i],
                     max_exp_avg_sqs[i] if amsgrad else None)):
            skipped = _skip(skipped, i)
            continue
        step = _bump_step(steps[i])
        job.h[0] = 1.0 - beta1
        job.h[1] = beta2
        job.h[2] = 1.0 - beta2
        job.h[3] = weight_decay
        job.h[4] = 1.0 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0
        job.h[5] = sqrt(1.0 - pow(beta2, step))
        job.h[6] = eps
        job.h[7] = -(lr / (1.0 - pow(beta1, step)))
        job.h[8] = -1.0 if maximize else 1.0
        # flags of _fused_loops.h: 1 L2 weight decay, 2 amsgrad, 4 lerp weight >= 0.5
        job.flags = ((1 if l2 else 0) | (2 if amsgrad else 0)
                     | (4 if _lerp_big(job.dtype, 1.0 - beta1) else 0))
        with nogil:
            _launch(&job, adam_task)
    return skipped
