# cython: language_level=3
"""Fused updates of the classic adaptive optimizers: RMSprop, Adagrad, Adadelta, Rprop and
ASGD. One pass over parameter, gradient and state per tensor, every tensor of a group in one
call, float32 and float64, no temporaries.

The same pattern as ``_fused.pyx`` (``_kernel_base.pxi``): each optimizer has a ``def``
taking lists (params, grads, one list per state buffer, the per-parameter ``step`` tensors)
and the group's hyper-parameters, and an element loop in C (``_fused_classic_loops.h``, on
``rt_optim_loops.h``: compiled for AVX-512, AVX2 and the baseline, chosen at load time) that
does, per element, what the readable reference in ``rt_optim/<optimizer>.py`` does with
tensor ops, in PyTorch's single-tensor order of float operations. Every ``def`` returns the
indices of the tensors it skipped (not contiguous, not float32/float64, ...) or None; the
caller applies the reference formula to those.
"""
include "_kernel_base.pxi"

__all__ = []


cdef double _read_scalar(object value, str name) except? -1.0:
    """The value of a one-element float32/float64 state tensor (ASGD's ``eta`` and ``mu``)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"state['{name}'] must be a tensor, got {type(value).__name__}")
    cdef Tensor t = <Tensor>value
    if t._numel != 1:
        raise ValueError(f"state['{name}'] must hold one value, got {t._numel}")
    if t._dtype == DT_FLOAT32:
        return (<float*>t.ptr())[0]
    if t._dtype == DT_FLOAT64:
        return (<double*>t.ptr())[0]
    raise TypeError(f"state['{name}'] must be a float32 or float64 tensor")


cdef int _write_scalar(object value, double x) except -1:
    """Store x, rounded to float32, into a one-element state tensor checked by
    ``_read_scalar``. PyTorch computes the new value as a Python float, makes it a tensor of
    the default dtype (float32) and copies that in, so the value is rounded to float32 even
    where the state tensor is float64 (``load_state_dict`` casts it to the parameter's
    dtype)."""
    cdef Tensor t = <Tensor>value
    cdef float rounded = <float>x
    if t._dtype == DT_FLOAT32:
        (<float*>t.ptr())[0] = rounded
    else:
        (<double*>t.ptr())[0] = rounded
    t._storage.version += 1
    return 0


cdef extern from "_fused_classic_loops.h" nogil:
    void rto_rmsprop_float(float* p, const float* g, float* sq, float* gavg, float* buf,
                           const double* h, int flags, index_t b, index_t e)
    void rto_rmsprop_double(double* p, const double* g, double* sq, double* gavg, double* buf,
                            const double* h, int flags, index_t b, index_t e)
    void rto_adagrad_float(float* p, const float* g, float* acc, const double* h, int flags,
                           index_t b, index_t e)
    void rto_adagrad_double(double* p, const double* g, double* acc, const double* h,
                            int flags, index_t b, index_t e)
    void rto_adadelta_float(float* p, const float* g, float* sq, float* acc, const double* h,
                            int flags, index_t b, index_t e)
    void rto_adadelta_double(double* p, const double* g, double* sq, double* acc,
                             const double* h, int flags, index_t b, index_t e)
    void rto_rprop_float(float* p, const float* g, float* prev, float* step_size,
                         const double* h, index_t b, index_t e)
    void rto_rprop_double(double* p, const double* g, double* prev, double* step_size,
                          const double* h, index_t b, index_t e)
    void rto_asgd_float(float* p, const float* g, float* ax, const double* h, int flags,
                        index_t b, index_t e)
    void rto_asgd_double(double* p, const double* g, double* ax, const double* h, int flags,
                         index_t b, index_t e)


# ---- RMSprop --------------------------------------------------------------------------------
cdef void rmsprop_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_rmsprop_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], <float*>j.s[1],
                          <float*>j.s[2], j.h, j.flags, b, e)
    else:
        rto_rmsprop_double(<double*>j.p, <const double*>j.g, <double*>j.s[0],
                           <double*>j.s[1], <double*>j.s[2], j.h, j.flags, b, e)


def rmsprop(list params, list grads, list square_avgs, list grad_avgs, list momentum_buffers,
            list steps, double lr, double alpha, double eps, double weight_decay,
            double momentum, bint centered, bint maximize):
    """RMSprop (PyTorch's formula): step += 1; d = ±g + wd·p;
    v = alpha·v + (1 - alpha)·d²; centered: ḡ = lerp(ḡ, d, 1 - alpha), avg = sqrt(v - ḡ²),
    else avg = sqrt(v); avg += eps; momentum: buf = momentum·buf + d / avg, p -= lr·buf,
    else p -= lr·d / avg. ``grad_avgs`` is None unless centered, ``momentum_buffers`` None
    unless momentum > 0. Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef bint use_momentum = momentum_buffers is not None
    for i in range(n):
        if not _bind(&job, params[i], grads[i],
                     (square_avgs[i], grad_avgs[i] if centered else None,
                      momentum_buffers[i] if use_momentum else None)):
            skipped = _skip(skipped, i)
            continue
        _bump_step(steps[i])
        job.h[0] = alpha
        job.h[1] = 1.0 - alpha
        job.h[2] = eps
        job.h[3] = weight_decay
        job.h[4] = momentum
        job.h[5] = -lr
        job.h[6] = -1.0 if maximize else 1.0
        # flags of _fused_classic_loops.h: 1 centered, 2 momentum buffer, 4 weight decay,
        # 8 lerp weight >= 0.5
        job.flags = ((1 if centered else 0) | (2 if use_momentum else 0)
                     | (4 if weight_decay != 0 else 0)
                     | (8 if _lerp_big(job.dtype, 1.0 - alpha) else 0))
        with nogil:
            _launch(&job, rmsprop_task)
    return skipped


# ---- Adagrad --------------------------------------------------------------------------------
cdef void adagrad_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_adagrad_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], j.h, j.flags, b, e)
    else:
        rto_adagrad_double(<double*>j.p, <const double*>j.g, <double*>j.s[0], j.h, j.flags,
                           b, e)


def adagrad(list params, list grads, list state_sums, list steps, double lr, double lr_decay,
            double weight_decay, double eps, bint maximize):
    """Adagrad (Duchi et al. 2011; PyTorch's formula): step += 1;
    clr = lr / (1 + (step - 1)·lr_decay); d = ±g + wd·p; sum += d²;
    p -= clr·d / (sqrt(sum) + eps). Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef double step
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (state_sums[i],)):
            skipped = _skip(skipped, i)
            continue
        step = _bump_step(steps[i])
        job.h[0] = weight_decay
        job.h[1] = eps
        job.h[2] = -(lr / (1.0 + (step - 1.0) * lr_decay))
        job.h[3] = -1.0 if maximize else 1.0
        job.flags = 1 if weight_decay != 0 else 0      # _fused_classic_loops.h: weight decay
        with nogil:
            _launch(&job, adagrad_task)
    return skipped


# ---- Adadelta -------------------------------------------------------------------------------
cdef void adadelta_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_adadelta_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], <float*>j.s[1],
                           j.h, j.flags, b, e)
    else:
        rto_adadelta_double(<double*>j.p, <const double*>j.g, <double*>j.s[0],
                            <double*>j.s[1], j.h, j.flags, b, e)


def adadelta(list params, list grads, list square_avgs, list acc_deltas, list steps, double lr,
             double rho, double eps, double weight_decay, bint maximize):
    """Adadelta (Zeiler 2012; PyTorch's formula): step += 1; d = ±g + wd·p;
    v = rho·v + (1 - rho)·d²; Δ = sqrt(u + eps) / sqrt(v + eps) · d;
    u = rho·u + (1 - rho)·Δ²; p -= lr·Δ. Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (square_avgs[i], acc_deltas[i])):
            skipped = _skip(skipped, i)
            continue
        _bump_step(steps[i])
        job.h[0] = rho
        job.h[1] = 1.0 - rho
        job.h[2] = eps
        job.h[3] = weight_decay
        job.h[4] = -lr
        job.h[5] = -1.0 if maximize else 1.0
        job.flags = 1 if weight_decay != 0 else 0      # _fused_classic_loops.h: weight decay
        with nogil:
            _launch(&job, adadelta_task)
    return skipped


# ---- Rprop ----------------------------------------------------------------------------------
cdef void rprop_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_rprop_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], <float*>j.s[1],
                        j.h, b, e)
    else:
        rto_rprop_double(<double*>j.p, <const double*>j.g, <double*>j.s[0], <double*>j.s[1],
                         j.h, b, e)


def rprop(list params, list grads, list prevs, list step_sizes, list steps, double etaminus,
          double etaplus, double step_size_min, double step_size_max, bint maximize):
    """Rprop (Riedmiller & Braun 1993; PyTorch's formula): step += 1; d = ±g; the factor is
    etaplus where d·prev > 0, etaminus where < 0 (and d is zeroed there), else 1;
    step_size = clamp(step_size·factor, min, max); p -= sign(d)·step_size; prev = d.
    Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    for i in range(n):
        if not _bind(&job, params[i], grads[i], (prevs[i], step_sizes[i])):
            skipped = _skip(skipped, i)
            continue
        _bump_step(steps[i])
        job.h[0] = etaplus
        job.h[1] = etaminus
        job.h[2] = step_size_min
        job.h[3] = step_size_max
        job.h[4] = -1.0 if maximize else 1.0
        with nogil:
            _launch(&job, rprop_task)
    return skipped


# ---- ASGD -----------------------------------------------------------------------------------
cdef void asgd_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef Job* j = <Job*>ctx
    if j.dtype == DT_FLOAT32:
        rto_asgd_float(<float*>j.p, <const float*>j.g, <float*>j.s[0], j.h, j.flags, b, e)
    else:
        rto_asgd_double(<double*>j.p, <const double*>j.g, <double*>j.s[0], j.h, j.flags, b, e)


def asgd(list params, list grads, list axs, list mus, list etas, list steps, double lr,
         double lambd, double alpha, double t0, double weight_decay, bint maximize):
    """ASGD (Polyak & Juditsky 1992; PyTorch's formula): step += 1; d = ±g + wd·p;
    p = p·(1 - lambd·eta) - eta·d; ax = p while mu == 1, else ax += mu·(p - ax); then
    eta = lr / (1 + lambd·lr·step)^alpha and mu = 1 / max(1, step - t0), stored in the 0-d
    ``eta`` / ``mu`` tensors (float32 as PyTorch keeps them, so rounded to float32).
    Returns the indices it skipped (or None)."""
    cdef Py_ssize_t i, n = len(params)
    cdef Job job
    cdef list skipped = None
    cdef double step, eta, mu
    for i in range(n):
        # read (and type-check) the scalars before binding: _bind bumps versions
        eta = _read_scalar(etas[i], "eta")
        mu = _read_scalar(mus[i], "mu")
        if not _bind(&job, params[i], grads[i], (axs[i],)):
            skipped = _skip(skipped, i)
            continue
        step = _bump_step(steps[i])
        job.h[0] = weight_decay
        job.h[1] = 1.0 - lambd * eta
        job.h[2] = -eta
        job.h[3] = mu
        job.h[4] = -1.0 if maximize else 1.0
        # flags of _fused_classic_loops.h: 1 weight decay, 2 averaging (mu != 1)
        job.flags = (1 if weight_decay != 0 else 0) | (2 if mu != 1.0 else 0)
        with nogil:
            _launch(&job, asgd_task)
        _write_scalar(etas[i], lr / pow(1.0 + lambd * lr * step, alpha))
        _write_scalar(mus[i], 1.0 / (step - t0 if step - t0 > 1.0 else 1.0))
    return skipped
