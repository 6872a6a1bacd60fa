# cython: language_level=3
"""Fused updates of the Adam family beyond Adam itself: Adamax, NAdam, RAdam, and, beyond
PyTorch, Lion and LAMB. Same pattern as ``_fused.pyx``: one ``def`` per optimizer taking lists
(params, grads, one list per state buffer, per-parameter scalar state tensors) and the group's
hyper-parameters; an element loop in C (``_fused_adaptive_loops.h``, on ``rt_optim_loops.h``:
compiled for AVX-512, AVX2 and the baseline, chosen at load time) that does, per element, what
the readable reference in ``rt_optim/<optimizer>.py`` does with tensor ops, in the same order
of float operations (PyTorch's single-tensor order for the PyTorch ones).

Every ``def`` returns the indices of the tensors it skipped (not contiguous, not
float32/float64, a grad or state of another dtype or size), or None; the caller applies the
reference formula to those. The per-step scalars (bias corrections, NAdam's momentum
schedule, RAdam's rectification, LAMB's trust ratio) are computed here in double, as PyTorch
computes them in Python floats.
"""
include "_kernel_base.pxi"

from libc.stdlib cimport malloc, free

__all__ = []


cdef extern from "_fused_adaptive_loops.h" nogil:
    void rto_adamax_float(float* p, const float* g, float* m, float* u, const double* h,
                          int flags, index_t b, index_t e)
    void rto_adamax_double(double* p, const double* g, double* m, double* u, const double* h,
                           int flags, index_t b, index_t e)
    void rto_nadam_float(float* p, const float* g, float* m, float* v, const double* h,
                         int flags, index_t b, index_t e)
    void rto_nadam_double(double* p, const double* g, double* m, double* v, const double* h,
                          int flags, index_t b, index_t e)
    void rto_radam_float(float* p, const float* g, float* m, float* v, const double* h,
                         int flags, index_t b, index_t e)
    void rto_radam_double(double* p, const double* g, double* m, double* v, const double* h,
                          int flags, index_t b, index_t e)
    void rto_lion_float(float* p, const float* g, float* m, const double* h, int flags,
                        index_t b, index_t e)
    void rto_lion_double(double* p, const double* g, double* m, const double* h, int flags,
                         index_t b, index_t e)
    void rto_lamb_moments_float(const float* p, const float* g, float* m, float* v,
                                const double* h, int flags, index_t b, index_t e, double* sums)
    void rto_lamb_moments_double(const double* p, const double* g, double* m, double* v,
                                 const double* h, int flags, index_t b, index_t e,
                                 double* sums)
    void rto_lamb_apply_float(float* p, const float* m, const float* v, const double* h,
                              int flags, index_t b, index_t e)
    void rto_lamb_apply_double(double* p, const double* m, const double* v, const double* h,
                               int flags, index_t b, index_t e)


cdef double _scale_scalar(object tensor, double factor) except? -1.0:
    """tensor *= factor for a 0-d float tensor, rounded as PyTorch's in-place multiply by a
    Python number (the factor is first rounded to the tensor's dtype); returns the new value.
    NAdam's ``mu_product`` is such a tensor: float32 as PyTorch creates it, float64 after a
    ``load_state_dict`` into float64 parameters (PyTorch casts it to the parameter's dtype)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected a 0-d tensor, got {type(tensor).__name__}")
    cdef Tensor t = <Tensor>tensor
    if t._numel != 1:
        raise ValueError(f"expected a tensor of one value, got {t._numel}")
    cdef char* ptr = t.ptr()
    cdef double value
    if t._dtype == DT_FLOAT32:
        (<float*>ptr)[0] = (<float*>ptr)[0] * <float>factor
        value = (<float*>ptr)[0]
    elif t._dtype == DT_FLOAT64:
        (<double*>ptr)[0] = (<double*>ptr)[0] * factor
        value = (<double*>ptr)[0]
    else:
        raise TypeError("expected a float32 or float64 tensor")
    t._storage.version += 1
    return value


# ---- Adamax -------------------------------------------------------------------------------
cdef void adamax_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_adamax_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], <float*>j.s[1],
                         j.h, j.flags, b, e)
    else:
        rto_adamax_double(<double*>j.p, <const double*>j.g, <double*>j.s[0],
                          <double*>j.s[1], j.h, j.flags, b, e)


def adamax(list params, list grads, list exp_avgs, list exp_infs, list steps, double lr,
           double beta1, double beta2, double eps, double weight_decay, bint maximize):
    """Adamax (Kingma & Ba 2015, section 7.1; PyTorch's formula): step += 1; d = ±g + wd·p;
    m = lerp(m, d, 1 - beta1); u = max(beta2·u, |d| + eps); p -= lr / (1 - beta1^t) · m / u.
    Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef double step
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (exp_avgs[i], exp_infs[i])):
            skipped = _skip(skipped, i)
            continue
        step = _bump_step(steps[i])
        job.h[0] = 1.0 - beta1
        job.h[1] = beta2
        job.h[2] = eps
        job.h[3] = weight_decay
        job.h[4] = -(lr / (1.0 - pow(beta1, step)))
        job.h[5] = -1.0 if maximize else 1.0
        # flags of _fused_adaptive_loops.h: 1 L2 weight decay (the lerp bit is set there)
        job.flags = 1 if weight_decay != 0 else 0
        with nogil:
            _launch(&job, adamax_task)
    return skipped


# ---- NAdam --------------------------------------------------------------------------------
cdef void nadam_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_nadam_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], <float*>j.s[1],
                        j.h, j.flags, b, e)
    else:
        rto_nadam_double(<double*>j.p, <const double*>j.g, <double*>j.s[0],
                         <double*>j.s[1], j.h, j.flags, b, e)


def nadam(list params, list grads, list exp_avgs, list exp_avg_sqs, list mu_products,
          list steps, double lr, double beta1, double beta2, double weight_decay,
          double momentum_decay, double eps, bint decoupled, bint maximize):
    """NAdam (Dozat 2016; PyTorch's formula): step += 1; mu_t = beta1·(1 - ½·0.96^(t·psi)),
    mu_product *= mu_t (rounded in the tensor's dtype); d = ±g (+ wd·p, or p *= 1 - lr·wd when
    decoupled); m = lerp(m, d, 1 - beta1); v = beta2·v + (1 - beta2)·d²;
    denom = sqrt(v / (1 - beta2^t)) + eps;
    p -= lr·(1 - mu_t) / (1 - mu_product) · d / denom;
    p -= lr·mu_{t+1} / (1 - mu_product·mu_{t+1}) · m / denom.
    Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef double step, mu, mu_next, mu_product
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (exp_avgs[i], exp_avg_sqs[i])):
            skipped = _skip(skipped, i)
            continue
        step = _bump_step(steps[i])
        mu = beta1 * (1.0 - 0.5 * pow(0.96, step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * pow(0.96, (step + 1.0) * momentum_decay))
        mu_product = _scale_scalar(mu_products[i], mu)
        job.h[0] = 1.0 - beta1
        job.h[1] = beta2
        job.h[2] = 1.0 - beta2
        job.h[3] = weight_decay
        job.h[4] = 1.0 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0
        job.h[5] = 1.0 - pow(beta2, step)
        job.h[6] = eps
        job.h[7] = -lr * (1.0 - mu) / (1.0 - mu_product)
        job.h[8] = (-lr * mu_next) / (1.0 - mu_product * mu_next)
        job.h[9] = -1.0 if maximize else 1.0
        # flags of _fused_adaptive_loops.h: 1 L2 weight decay (the lerp bit is set there)
        job.flags = 1 if weight_decay != 0 and not decoupled else 0
        with nogil:
            _launch(&job, nadam_task)
    return skipped


# ---- RAdam --------------------------------------------------------------------------------
cdef void radam_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_radam_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], <float*>j.s[1],
                        j.h, j.flags, b, e)
    else:
        rto_radam_double(<double*>j.p, <const double*>j.g, <double*>j.s[0],
                         <double*>j.s[1], j.h, j.flags, b, e)


def radam_rectification(double beta2, double step):
    """(rho_t, r_t) of RAdam (Liu et al. 2020, Algorithm 2) as PyTorch computes them:
    rho_inf = 2 / (1 - beta2) - 1, rho_t = rho_inf - 2·t·beta2^t / (1 - beta2^t) and, when
    rho_t > 5, r_t = sqrt((rho_t - 4)(rho_t - 2)·rho_inf / ((rho_inf - 4)(rho_inf - 2)·rho_t));
    r_t is None when the step is not rectified (rho_t <= 5).

    >>> rho_t, r_t = radam_rectification(0.999, 6.0)
    >>> rho_t > 5, round(r_t, 6)
    (True, 0.025821)
    """
    cdef double rho_inf = 2.0 / (1.0 - beta2) - 1.0
    cdef double rho_t = rho_inf - 2.0 * step * pow(beta2, step) / (1.0 - pow(beta2, step))
    if not rho_t > 5.0:
        return rho_t, None
    return rho_t, pow((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                      / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t), 0.5)


def radam(list params, list grads, list exp_avgs, list exp_avg_sqs, list steps, double lr,
          double beta1, double beta2, double weight_decay, double eps, bint decoupled,
          bint maximize):
    """RAdam (Liu et al. 2020; PyTorch's formula): step += 1; d = ±g (+ wd·p, or
    p *= 1 - lr·wd when decoupled); m = lerp(m, d, 1 - beta1); v = beta2·v + (1 - beta2)·d²;
    with rho_t and r_t from ``radam_rectification``: p -= m / (1 - beta1^t) · lr ·
    (1 / (sqrt(v) + eps) · sqrt(1 - beta2^t)) · r_t when rho_t > 5, else
    p -= m / (1 - beta1^t) · lr. Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef double step
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (exp_avgs[i], exp_avg_sqs[i])):
            skipped = _skip(skipped, i)
            continue
        step = _bump_step(steps[i])
        rho_t, rect = radam_rectification(beta2, step)
        job.h[0] = 1.0 - beta1
        job.h[1] = beta2
        job.h[2] = 1.0 - beta2
        job.h[3] = weight_decay
        job.h[4] = 1.0 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0
        job.h[5] = 1.0 - pow(beta1, step)
        job.h[6] = lr
        job.h[7] = eps
        job.h[8] = pow(1.0 - pow(beta2, step), 0.5)
        job.h[9] = 0.0 if rect is None else rect
        job.h[10] = -1.0 if maximize else 1.0
        # flags of _fused_adaptive_loops.h: 1 L2 weight decay, 4 rectified step (the lerp bit
        # is set there)
        job.flags = ((1 if weight_decay != 0 and not decoupled else 0)
                     | (4 if rect is not None else 0))
        with nogil:
            _launch(&job, radam_task)
    return skipped


# ---- Lion ---------------------------------------------------------------------------------
cdef void lion_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_lion_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], j.h, j.flags, b, e)
    else:
        rto_lion_double(<double*>j.p, <const double*>j.g, <double*>j.s[0], j.h, j.flags, b, e)


def lion(list params, list grads, list exp_avgs, double lr, double beta1, double beta2,
         double weight_decay, bint maximize):
    """Lion (Chen et al. 2023, Algorithm 2): d = ±g; p *= 1 - lr·wd (decoupled decay);
    p -= lr·sign(lerp(m, d, 1 - beta1)); m = lerp(m, d, 1 - beta2).
    Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (exp_avgs[i],)):
            skipped = _skip(skipped, i)
            continue
        job.h[0] = -lr
        job.h[1] = 1.0 - beta1
        job.h[2] = 1.0 - beta2
        job.h[3] = 1.0 - lr * weight_decay if weight_decay != 0 else 1.0
        job.h[4] = -1.0 if maximize else 1.0
        # flags of _fused_adaptive_loops.h: none from here (the lerp bits are set there)
        job.flags = 0
        with nogil:
            _launch(&job, lion_task)
    return skipped


# ---- LAMB ---------------------------------------------------------------------------------
# Two passes per tensor, no temporary of the parameter's size: pass 1 updates the moments and
# sums p² and r² (r the Adam update plus wd·p) per block of LAMB_BLOCK elements; pass 2
# recomputes r from the updated moments (the same float operations, so the same r) and
# applies p -= lr·trust·r. Block sums (in double, each in a fixed order within its block:
# _fused_adaptive_loops.h) are added in block order, so the norms do not depend on the number
# of threads. h: see rto_lamb_* in _fused_adaptive_loops.h.
cdef enum:
    LAMB_BLOCK = 4096
    LAMB_STACK_BLOCKS = 64


cdef struct NormJob:
    Job* job
    double* sums              # 2 per block: sum p², sum r²


cdef void lamb_moments_task(void* ctx, index_t b, index_t e) noexcept nogil:
    # [b, e) are block numbers
    cdef NormJob* nj = <NormJob*>ctx
    cdef Job* j = nj.job
    cdef index_t blk, lo, hi
    for blk in range(b, e):
        lo = blk * LAMB_BLOCK
        hi = lo + LAMB_BLOCK
        if hi > j.numel:
            hi = j.numel
        if j.dtype == DT_FLOAT32:
            rto_lamb_moments_float(<const float*>j.p, <const float*>j.g, <float*>j.s[0],
                                   <float*>j.s[1], j.h, j.flags, lo, hi, nj.sums + 2 * blk)
        else:
            rto_lamb_moments_double(<const double*>j.p, <const double*>j.g, <double*>j.s[0],
                                    <double*>j.s[1], j.h, j.flags, lo, hi, nj.sums + 2 * blk)


cdef void lamb_apply_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_lamb_apply_float(<float*>j.p, <const float*>j.s[0], <const float*>j.s[1], j.h,
                             j.flags, b, e)
    else:
        rto_lamb_apply_double(<double*>j.p, <const double*>j.s[0], <const double*>j.s[1],
                              j.h, j.flags, b, e)


cdef int lamb_one(Job* job, double lr) except -1:
    """Both passes over one bound tensor."""
    cdef double stack_sums[2 * LAMB_STACK_BLOCKS]
    cdef double* sums = stack_sums
    cdef index_t blocks = (job.numel + LAMB_BLOCK - 1) // LAMB_BLOCK, blk
    cdef double sum_p = 0.0, sum_r = 0.0, w_norm, r_norm, trust
    cdef NormJob nj
    if blocks > LAMB_STACK_BLOCKS:
        sums = <double*>malloc(2 * blocks * sizeof(double))
        if sums == NULL:
            raise MemoryError()
    nj.job = job
    nj.sums = sums
    with nogil:
        if blocks > 0:
            parallel_for(blocks, OPTIM_GRAIN // LAMB_BLOCK, lamb_moments_task, &nj)
        for blk in range(blocks):
            sum_p += sums[2 * blk]
            sum_r += sums[2 * blk + 1]
        w_norm = sqrt(sum_p)
        r_norm = sqrt(sum_r)
        # the trust ratio is 1 when either norm is 0 (or not a number)
        trust = w_norm / r_norm if (w_norm > 0 and r_norm > 0) else 1.0
        job.h[7] = -(lr * trust)
        _launch(job, lamb_apply_task)
    if sums != stack_sums:
        free(sums)
    return 0


def lamb(list params, list grads, list exp_avgs, list exp_avg_sqs, list steps, double lr,
         double beta1, double beta2, double eps, double weight_decay, bint maximize):
    """LAMB (You et al. 2020, Algorithm 2, identity scaling function): step += 1; d = ±g;
    m = lerp(m, d, 1 - beta1); v = beta2·v + (1 - beta2)·d²;
    r = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps) + wd·p;
    p -= lr·(‖p‖ / ‖r‖)·r per tensor (the ratio is 1 when either norm is 0).
    Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef double step
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (exp_avgs[i], exp_avg_sqs[i])):
            skipped = _skip(skipped, i)
            continue
        step = _bump_step(steps[i])
        job.h[0] = 1.0 - beta1
        job.h[1] = beta2
        job.h[2] = 1.0 - beta2
        job.h[3] = 1.0 - pow(beta1, step)
        job.h[4] = 1.0 - pow(beta2, step)
        job.h[5] = eps
        job.h[6] = weight_decay
        job.h[8] = -1.0 if maximize else 1.0
        # flags of _fused_adaptive_loops.h: 1 weight decay (the lerp bit is set there)
        job.flags = 1 if weight_decay != 0 else 0
        lamb_one(&job, lr)
    return skipped
