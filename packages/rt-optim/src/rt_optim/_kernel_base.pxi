# The framework every fused-kernel module includes: the Job a task reads, binding tensors to
# it (with the checks that send a tensor to the reference formula instead), the step counter,
# the parallel launch and the choice of lerp's form. Included, not cimported: each module is
# one extension and these are small. (The element loops themselves are C: *_loops.h.)
from libc.math cimport sqrt, fabs, pow
from rt_tensor._types cimport index_t, DT_FLOAT32, DT_FLOAT64
from rt_tensor._tensor cimport Tensor
from rt_tensor._parallel cimport parallel_for, task_fn

cdef enum:
    # an update does a few flops and touches 4-7 arrays per element: split into parallel
    # chunks from this size up (a parallel region costs 1-2 µs)
    OPTIM_GRAIN = 16384
    MAX_STATE = 4
    NUM_HYPER = 16


cdef struct Job:
    int dtype                 # DT_FLOAT32 or DT_FLOAT64
    index_t numel
    char* p                   # parameter (written)
    char* g                   # gradient (read only)
    char* s[MAX_STATE]        # state buffers (written), NULL when unused
    double h[NUM_HYPER]       # this tensor's hyper-parameters, meaning per optimizer
    int flags                 # per optimizer


cdef inline bint _fits(object obj, Tensor like) noexcept:
    """obj is a contiguous tensor of like's dtype and size."""
    if not isinstance(obj, Tensor):
        return False
    cdef Tensor t = <Tensor>obj
    return t._dtype == like._dtype and t._numel == like._numel and t.is_contig()


cdef bint _bind(Job* job, object param, object grad, tuple states) noexcept:
    """Point ``job`` at the tensors' data; False (nothing bound) when one of them is not a
    contiguous float32/float64 tensor of the parameter's dtype and size. ``states``: the
    state buffers this optimizer uses (at most MAX_STATE), None for unused ones."""
    if not isinstance(param, Tensor):
        return False
    cdef Tensor p = <Tensor>param
    if (p._dtype != DT_FLOAT32 and p._dtype != DT_FLOAT64) or not p.is_contig():
        return False
    if not _fits(grad, p):
        return False
    cdef Py_ssize_t k, ns = len(states)
    for k in range(ns):
        if states[k] is not None and not _fits(states[k], p):
            return False
    job.dtype = p._dtype
    job.numel = p._numel
    job.p = p.ptr()
    job.g = (<Tensor>grad).ptr()
    p._storage.version += 1
    for k in range(MAX_STATE):
        if k >= ns or states[k] is None:
            job.s[k] = NULL
        else:
            job.s[k] = (<Tensor>states[k]).ptr()
            (<Tensor>states[k])._storage.version += 1
    return True


cdef inline list _skip(list skipped, Py_ssize_t i):
    """``skipped`` (None until the first) with index i added: a tensor left to the
    reference formula."""
    if skipped is None:
        skipped = []
    skipped.append(i)
    return skipped


cdef double _bump_step(object step) except? -1.0:
    """step += 1 for a 0-d float tensor (PyTorch keeps ``state['step']`` as a float32
    tensor); returns the new value."""
    if not isinstance(step, Tensor):
        raise TypeError(f"state['step'] must be a tensor, got {type(step).__name__}")
    cdef Tensor t = <Tensor>step
    if t._numel != 1:
        raise ValueError(f"state['step'] must hold one value, got {t._numel}")
    cdef char* ptr = t.ptr()
    cdef double value
    if t._dtype == DT_FLOAT32:
        (<float*>ptr)[0] += 1.0
        value = (<float*>ptr)[0]
    elif t._dtype == DT_FLOAT64:
        (<double*>ptr)[0] += 1.0
        value = (<double*>ptr)[0]
    else:
        raise TypeError("state['step'] must be a float32 or float64 tensor")
    t._storage.version += 1
    return value


cdef inline void _launch(Job* job, task_fn fn) noexcept nogil:
    if job.numel > 0:
        parallel_for(job.numel, OPTIM_GRAIN, fn, job)


cdef inline bint _lerp_big(int dtype, double weight) noexcept:
    """Whether the element loops' lerp takes its |weight| >= 0.5 form: decided on the weight
    rounded to the tensor's type, as the loop (and PyTorch's float lerp) sees it."""
    if dtype == DT_FLOAT32:
        return fabs(<float>weight) >= 0.5
    return fabs(weight) >= 0.5
