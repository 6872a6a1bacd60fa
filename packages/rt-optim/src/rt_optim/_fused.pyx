# cython: language_level=3
"""Fused optimizer updates: one pass over parameter, gradient and state per tensor, for every
tensor of a parameter group in one call (multi-tensor), float32 and float64, no temporaries.

This module holds SGD and Adam/AdamW; ``_fused_*.pyx`` hold the others, all built on
``_kernel_base.pxi``. Each optimizer has one ``def`` taking lists (params, grads, one list per state buffer,
the per-parameter ``step`` tensors) and the group's hyper-parameters, and an element loop
``<name>_loop`` templated on the float type. The loop does, per element, what the readable
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


# ---- SGD ----------------------------------------------------------------------------------
# h: 0 lr, 1 momentum, 2 dampening, 3 weight_decay; flags: 1 maximize, 2 nesterov,
# 4 momentum on, 8 first step (buffer = d_p)
cdef inline void sgd_loop(real* p, const real* g, real* buf, const double* h, int flags,
                          index_t b, index_t e) noexcept nogil:
    cdef real lr = <real>h[0], momentum = <real>h[1], damp = <real>(1.0 - h[2])
    cdef real wd = <real>h[3], d
    cdef index_t i
    for i in range(b, e):
        d = -g[i] if flags & 1 else g[i]
        if wd != 0:
            d = d + wd * p[i]
        if flags & 4:
            if flags & 8:
                buf[i] = d
            else:
                buf[i] = buf[i] * momentum + damp * d
            if flags & 2:
                d = d + momentum * buf[i]
            else:
                d = buf[i]
        p[i] = p[i] + (-lr) * d


cdef void sgd_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        sgd_loop[float](<float*>j.p, <const float*>j.g, <float*>j.s[0], j.h, j.flags, b, e)
    else:
        sgd_loop[double](<double*>j.p, <const double*>j.g, <double*>j.s[0], j.h, j.flags, b, e)


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
            if skipped is None:
                skipped = []
            skipped.append(i)
            continue
        job.h[0] = lr
        job.h[1] = momentum
        job.h[2] = dampening
        job.h[3] = weight_decay
        job.flags = (1 if maximize else 0) | (2 if nesterov else 0) | (4 if use_momentum else 0)
        if use_momentum and fresh[i]:
            job.flags |= 8
        with nogil:
            _launch(&job, sgd_task)
    return skipped


# ---- Adam, AdamW ----------------------------------------------------------------------------
# h: 0 1-beta1, 1 beta2, 2 1-beta2, 3 weight_decay (L2 form), 4 decay factor 1-lr·wd
# (decoupled form), 5 bias_correction2_sqrt, 6 eps, 7 -step_size
# flags: 1 maximize, 2 amsgrad, 4 L2 weight decay, 8 decoupled weight decay
cdef inline void adam_loop(real* p, const real* g, real* m, real* v, real* vmax,
                           const double* h, int flags, index_t b, index_t e) noexcept nogil:
    cdef real w1 = <real>h[0], beta2 = <real>h[1], w2 = <real>h[2], wd = <real>h[3]
    cdef real decay = <real>h[4], bc2_sqrt = <real>h[5], eps = <real>h[6]
    cdef real neg_step = <real>h[7], d, denom, vv
    cdef index_t i
    for i in range(b, e):
        d = -g[i] if flags & 1 else g[i]
        if flags & 8:
            p[i] = p[i] * decay
        elif flags & 4:
            d = d + wd * p[i]
        m[i] = _lerp(m[i], d, w1)
        v[i] = v[i] * beta2 + w2 * d * d
        vv = v[i]
        if flags & 2:
            if vv > vmax[i] or vv != vv:   # torch.maximum: NaN wins
                vmax[i] = vv
            vv = vmax[i]
        denom = _sqrt(vv) / bc2_sqrt + eps
        p[i] = p[i] + neg_step * m[i] / denom


cdef void adam_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        adam_loop[float](<float*>j.p, <const float*>j.g, <float*>j.s[0], <float*>j.s[1],
                         <float*>j.s[2], j.h, j.flags, b, e)
    else:
        adam_loop[double](<double*>j.p, <const double*>j.g, <double*>j.s[0], <double*>j.s[1],
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
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (exp_avgs[i], exp_avg_sqs[i],
                     max_exp_avg_sqs[i] if amsgrad else None)):
            if skipped is None:
                skipped = []
            skipped.append(i)
            continue
        step = _bump_step(steps[i])
        job.h[0] = 1.0 - beta1
        job.h[1] = beta2
        job.h[2] = 1.0 - beta2
        job.h[3] = weight_decay
        job.h[4] = 1.0 - lr * weight_decay
        job.h[5] = sqrt(1.0 - pow(beta2, step))
        job.h[6] = eps
        job.h[7] = -(lr / (1.0 - pow(beta1, step)))
        job.flags = ((1 if maximize else 0) | (2 if amsgrad else 0)
                     | ((8 if decoupled else 4) if weight_decay != 0 else 0))
        with nogil:
            _launch(&job, adam_task)
    return skipped
