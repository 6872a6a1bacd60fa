# cython: language_level=3
"""The vector work of one L-BFGS iteration (``lbfgs.py``) on flat float32/float64 vectors,
in a few fused passes instead of one tensor op per dot product and axpy:

- ``gather``: the gradients into one flat vector, with its largest magnitude and the next
  iteration's curvature sums s'y and y'y of the pair y = g - g_prev, s = t·d (``curvature``
  computes them alone where the gradient came another way); the pair itself is written only
  once it is kept, by the first pass of ``direction``;
- ``direction``: the two-loop recursion (Nocedal & Wright, Algorithm 7.4) in 2m + 1 passes
  for m stored pairs, each pass doing one axpy and the dot product that the next step needs
  (q += alpha·y then s'q; the scaling by H_diag fused into the turn between the loops), the
  last one also giving g'd and max|d|;
- ``move``: p += t·d for every parameter.

Each element loop (``_lbfgs_loops.h``) rounds in the parameters' type exactly as the tensor
ops of ``lbfgs.py``'s reference path do; the scalars (alpha_i, beta_i, the dot products) are
rounded to that type where PyTorch keeps them as 0-d tensors. A dot product is summed over
fixed blocks of ``BLOCK`` elements (in lanes of the vectors' type within a block, as BLAS's
?dot does, the blocks' sums added in double in block order), so the bits do not depend on
the thread count or on the instruction set that runs.

Threads: an iteration is 2m + 3 passes (gather, direction, move), each needing the previous
one's dot product, so each pass is its own parallel region over the blocks, from
``PARALLEL_MIN`` elements. On the seed MLP's 100k parameters (float32) with 2 threads that
halves the step's vector work (step 160 -> 100 µs, the two cores' L2 caches each holding
half of the vectors); with the other core busy, the pool's back-off runs the passes on the
calling thread (measured: 161 µs parallel, 163 µs serial).
"""
from libc.stdlib cimport malloc, free
from rt_tensor._types cimport index_t, DT_FLOAT32, DT_FLOAT64
from rt_tensor._tensor cimport Tensor
from rt_tensor._parallel cimport parallel_for

__all__ = []

cdef enum:
    BLOCK = 4096             # elements per block of a reduction (fixed: same bits for any
                             # thread count)
    STACK_BLOCKS = 256       # partial sums kept on the stack up to this many blocks
    PARALLEL_MIN = 1 << 15   # fewer elements than this: one thread (see the module's
                             # docstring)

cdef index_t _parallel_min = PARALLEL_MIN


def parallel_min(n=None):
    """The vector length from which the passes run on the thread pool; with ``n``, set it
    (tests use a small one to run the parallel split on small vectors). Returns the previous
    value."""
    global _parallel_min
    previous = _parallel_min
    if n is not None:
        _parallel_min = max(0, int(n))
    return previous


cdef extern from "_lbfgs_loops.h" nogil:
    void rto_lb_pass_float(const float* src, float* q, const float* v, const float* w,
                           const float* g, float alpha, float H, int flags, index_t b,
                           index_t e, double* out)
    void rto_lb_pass_double(const double* src, double* q, const double* v, const double* w,
                            const double* g, double alpha, double H, int flags, index_t b,
                            index_t e, double* out)
    void rto_lb_pair_float(const float* g, const float* prev, const float* d, float t,
                           float* q, float* y, float* s, int flags, index_t b, index_t e,
                           double* out)
    void rto_lb_pair_double(const double* g, const double* prev, const double* d, double t,
                            double* q, double* y, double* s, int flags, index_t b, index_t e,
                            double* out)
    void rto_lb_gather_float(const float* src, float* dst, const float* prev, const float* d,
                             float t, index_t b, index_t e, double* out)
    void rto_lb_gather_double(const double* src, double* dst, const double* prev,
                              const double* d, double t, index_t b, index_t e, double* out)
    void rto_lb_axpy_float(float* p, const float* d, float t, index_t b, index_t e)
    void rto_lb_axpy_double(double* p, const double* d, double t, index_t b, index_t e)


# ---- one pass over blocks ---------------------------------------------------------------------
cdef enum:
    K_PASS = 0
    K_PAIR = 1
    K_GATHER = 2
    K_AXPY = 3

cdef struct Pass:
    int kind
    int dtype
    int flags
    index_t n
    char* src
    char* q
    char* v
    char* w
    char* g
    char* y
    char* s
    double alpha
    double H
    double* out              # 3 partial results per block


cdef void _pass_blocks(void* ctx, index_t kb, index_t ke) noexcept nogil:
    cdef Pass* j = <Pass*>ctx
    cdef index_t k, b, e
    cdef bint f32 = j.dtype == DT_FLOAT32
    for k in range(kb, ke):
        b = k * BLOCK
        e = b + BLOCK
        if e > j.n:
            e = j.n
        if j.kind == K_PASS:
            if f32:
                rto_lb_pass_float(<const float*>j.src, <float*>j.q, <const float*>j.v,
                                  <const float*>j.w, <const float*>j.g, <float>j.alpha,
                                  <float>j.H, j.flags, b, e, j.out + 3 * k)
            else:
                rto_lb_pass_double(<const double*>j.src, <double*>j.q, <const double*>j.v,
                                   <const double*>j.w, <const double*>j.g, j.alpha, j.H,
                                   j.flags, b, e, j.out + 3 * k)
        elif j.kind == K_PAIR:
            # g = src, prev = v, d = w, t = alpha
            if f32:
                rto_lb_pair_float(<const float*>j.src, <const float*>j.v, <const float*>j.w,
                                  <float>j.alpha, <float*>j.q, <float*>j.y, <float*>j.s,
                                  j.flags, b, e, j.out + 3 * k)
            else:
                rto_lb_pair_double(<const double*>j.src, <const double*>j.v,
                                   <const double*>j.w, j.alpha, <double*>j.q, <double*>j.y,
                                   <double*>j.s, j.flags, b, e, j.out + 3 * k)
        elif j.kind == K_GATHER:
            # src -> q, with prev = v and d = w (NULL: no pair), t = alpha
            if f32:
                rto_lb_gather_float(<const float*>j.src, <float*>j.q, <const float*>j.v,
                                    <const float*>j.w, <float>j.alpha, b, e, j.out + 3 * k)
            else:
                rto_lb_gather_double(<const double*>j.src, <double*>j.q, <const double*>j.v,
                                     <const double*>j.w, j.alpha, b, e, j.out + 3 * k)
        else:
            if f32:
                rto_lb_axpy_float(<float*>j.q, <const float*>j.v, <float>j.alpha, b, e)
            else:
                rto_lb_axpy_double(<double*>j.q, <const double*>j.v, j.alpha, b, e)
            j.out[3 * k] = j.out[3 * k + 1] = j.out[3 * k + 2] = 0.0


cdef inline double _amax(double a, double b) noexcept nogil:
    """max with NaN winning."""
    return a if (a > b or a != a) else b


cdef int _run(Pass* j, double* res) except -1:
    """Run the pass over all of [0, n); res[0], res[1]: the blocks' sums of the first two
    partial results in block order; res[2]: the largest third result (NaN wins)."""
    cdef index_t nblocks = (j.n + BLOCK - 1) // BLOCK
    cdef double stack[3 * STACK_BLOCKS]
    cdef double* out = stack
    cdef index_t k
    res[0] = res[1] = res[2] = 0.0
    if nblocks == 0:
        return 0
    if nblocks > STACK_BLOCKS:
        out = <double*>malloc(3 * nblocks * sizeof(double))
        if out == NULL:
            raise MemoryError()
    j.out = out
    with nogil:
        if j.n < _parallel_min:
            _pass_blocks(j, 0, nblocks)
        else:
            parallel_for(nblocks, 1, _pass_blocks, j)
        for k in range(nblocks):
            res[0] += out[3 * k]
            res[1] += out[3 * k + 1]
            res[2] = _amax(out[3 * k + 2], res[2])
    if out != stack:
        free(out)
    return 0


cdef inline double _round(int dtype, double x) noexcept nogil:
    """x rounded to the vectors' type (a 0-d tensor's value in PyTorch)."""
    if dtype == DT_FLOAT32:
        return <float>x
    return x


cdef inline bint _vector(object obj, int dtype, index_t n) noexcept:
    """obj is a contiguous float tensor of that dtype and size."""
    if not isinstance(obj, Tensor):
        return False
    cdef Tensor t = <Tensor>obj
    return t._dtype == dtype and t._numel == n and t.is_contig()


cdef inline bint _scalar(object obj, int dtype) noexcept:
    """obj is a one-element tensor of that dtype."""
    if not isinstance(obj, Tensor):
        return False
    cdef Tensor t = <Tensor>obj
    return t._dtype == dtype and t._numel == 1


cdef inline double _read(Tensor t) noexcept:
    if t._dtype == DT_FLOAT32:
        return (<float*>t.ptr())[0]
    return (<double*>t.ptr())[0]


cdef inline void _write(Tensor t, double x) noexcept:
    if t._dtype == DT_FLOAT32:
        (<float*>t.ptr())[0] = <float>x
    else:
        (<double*>t.ptr())[0] = x
    t._storage.version += 1


# ---- the Python-facing steps ------------------------------------------------------------------
def flat_dtype(list params):
    """(dtype code, total number of elements) of the flat vector when every parameter is a
    contiguous tensor of one dtype, float32 or float64 (the kernels' case); None otherwise."""
    cdef int dtype = -1
    cdef index_t numel = 0
    cdef Tensor t
    for p in params:
        if not isinstance(p, Tensor):
            return None
        t = <Tensor>p
        if (t._dtype != DT_FLOAT32 and t._dtype != DT_FLOAT64) or not t.is_contig():
            return None
        if dtype == -1:
            dtype = t._dtype
        elif t._dtype != dtype:
            return None
        numel += t._numel
    if dtype == -1:
        return None
    return dtype, numel


def gather(list params, Tensor flat, prev=None, d=None, double t=0.0):
    """Copy every parameter's gradient (zeros where it has none) into its slice of ``flat``.
    Returns (max|g|, y's, y'y): the largest magnitude (NaN when one is NaN) and, given the
    previous flat gradient ``prev`` and direction ``d`` (contiguous, of ``flat``'s dtype and
    size), the curvature sums of the pair y = g - prev, s = d·t (t rounded to the type), each
    rounded to the type; the sums are None without them. None, with ``flat`` untouched, when
    a gradient is not a contiguous tensor of ``flat``'s dtype."""
    cdef Py_ssize_t i, n = len(params)
    cdef list grads = [p.grad for p in params]
    cdef index_t offset = 0, total = 0
    cdef Tensor p
    cdef Pass j
    cdef double res[3]
    cdef double largest = 0.0, ys = 0.0, yy = 0.0
    cdef size_t item = 4 if flat._dtype == DT_FLOAT32 else 8
    cdef bint pair
    if flat._dtype != DT_FLOAT32 and flat._dtype != DT_FLOAT64:
        return None
    for i in range(n):
        p = <Tensor>params[i]
        if grads[i] is not None and not _vector(grads[i], flat._dtype, p._numel):
            return None
        total += p._numel
    if total != flat._numel or not flat.is_contig():
        return None
    pair = _vector(prev, flat._dtype, total) and _vector(d, flat._dtype, total)
    j.kind = K_GATHER
    j.dtype = flat._dtype
    j.alpha = t
    for i in range(n):
        p = <Tensor>params[i]
        j.n = p._numel
        j.src = NULL if grads[i] is None else (<Tensor>grads[i]).ptr()
        j.q = flat.ptr() + offset * item
        j.v = (<Tensor>prev).ptr() + offset * item if pair else NULL
        j.w = (<Tensor>d).ptr() + offset * item if pair else NULL
        _run(&j, res)
        largest = _amax(res[2], largest)
        ys += res[0]
        yy += res[1]
        offset += p._numel
    flat._storage.version += 1
    if pair:
        return largest, _round(flat._dtype, ys), _round(flat._dtype, yy)
    return largest, None, None


def curvature(Tensor g, Tensor prev, Tensor d, double t):
    """The curvature sums of the pair y = g - prev, s = d·t (t rounded to the vectors' type):
    (y's, y'y), each rounded to that type, nothing written; None unless every vector is
    contiguous, of one float dtype and size."""
    cdef int dtype = g._dtype
    cdef index_t n = g._numel
    if not ((dtype == DT_FLOAT32 or dtype == DT_FLOAT64) and _vector(g, dtype, n)
            and _vector(prev, dtype, n) and _vector(d, dtype, n)):
        return None
    cdef Pass j
    cdef double res[3]
    j.kind = K_PAIR
    j.flags = 1
    j.dtype = dtype
    j.n = n
    j.src = g.ptr()
    j.v = prev.ptr()
    j.w = d.ptr()
    j.alpha = t
    j.q = j.y = j.s = NULL
    _run(&j, res)
    return _round(dtype, res[0]), _round(dtype, res[1])


def rounded(int dtype, double x):
    """x rounded to the type of the dtype code (a Python float compared with a 0-d tensor
    is, in PyTorch)."""
    return _round(dtype, x)


def quotient(int dtype, double a, double b):
    """a / b computed in the type of the dtype code (a 0-d tensor's division)."""
    if dtype == DT_FLOAT32:
        return <float>a / <float>b
    return a / b


def direction(Tensor g, list old_dirs, list old_stps, list ro, list al, double H, Tensor d,
              make_scalar, tuple fill=None):
    """The L-BFGS direction d = -H·g by the two-loop recursion over the pairs
    (old_stps[i], old_dirs[i]) with ro[i] = 1/(y_i's_i), oldest first, and the initial
    diagonal H; al[i] (0-d tensors, made by ``make_scalar()`` where missing) receive the
    first loop's coefficients. ``fill``: (prev, d_old, t) when the newest pair has just been
    added and its vectors are still to be written, y = g - prev and s = d_old·t (in the first
    pass). Returns (g'd, max|d|), g'd rounded to the vectors' type; None, with nothing
    written, when a vector or ro[i] is not of g's dtype and size or not contiguous (the
    caller's tensor ops do the work then)."""
    cdef int dtype = g._dtype
    cdef index_t n = g._numel
    cdef Py_ssize_t i, m = len(old_dirs)
    if (dtype != DT_FLOAT32 and dtype != DT_FLOAT64) or not g.is_contig():
        return None
    if len(old_stps) != m or len(ro) < m or len(al) < m or not _vector(d, dtype, n):
        return None
    for i in range(m):
        if not (_vector(old_dirs[i], dtype, n) and _vector(old_stps[i], dtype, n)
                and _scalar(ro[i], dtype)):
            return None
    if fill is not None and (m == 0 or len(fill) != 3 or not _vector(fill[0], dtype, n)
                             or not _vector(fill[1], dtype, n)):
        return None
    for i in range(m):
        if not _scalar(al[i], dtype):
            al[i] = make_scalar()
            if not _scalar(al[i], dtype):
                raise TypeError("direction: make_scalar() must return a 0-d tensor of the "
                                "vectors' dtype")
    cdef Pass j
    cdef double res[3]
    cdef double a_i, b_i, ro_i
    cdef double* alphas = <double*>malloc((m if m > 0 else 1) * sizeof(double))
    if alphas == NULL:
        raise MemoryError()
    try:
        j.kind = K_PASS
        j.dtype = dtype
        j.n = n
        j.g = g.ptr()
        j.H = _round(dtype, H)
        j.v = j.w = NULL
        j.alpha = 0.0
        if m == 0:
            # d = (-g)·H, g'd, max|d|
            j.flags = 1 | 4 | 16
            j.src = g.ptr()
            j.q = d.ptr()
            _run(&j, res)
        else:
            # first loop, newest pair first: q = -g; al_i = ro_i·(s_i'q); q += -al_i·y_i
            if fill is not None:
                # ... the newest pair written on the way: y = g - prev, s = d_old·t
                j.kind = K_PAIR
                j.flags = 6
                j.src = g.ptr()
                j.v = (<Tensor>fill[0]).ptr()
                j.w = (<Tensor>fill[1]).ptr()
                j.alpha = float(fill[2])
                j.q = d.ptr()
                j.y = (<Tensor>old_dirs[m - 1]).ptr()
                j.s = (<Tensor>old_stps[m - 1]).ptr()
                _run(&j, res)
                (<Tensor>old_dirs[m - 1])._storage.version += 1
                (<Tensor>old_stps[m - 1])._storage.version += 1
                j.kind = K_PASS
            else:
                j.flags = 1 | 8
                j.src = g.ptr()
                j.q = d.ptr()
                j.w = (<Tensor>old_stps[m - 1]).ptr()
                _run(&j, res)
            j.src = d.ptr()
            for i in range(m - 1, -1, -1):
                ro_i = _read(<Tensor>ro[i])
                a_i = _round(dtype, _round(dtype, res[0]) * ro_i)
                alphas[i] = a_i
                j.alpha = _round(dtype, -a_i)
                j.v = (<Tensor>old_dirs[i]).ptr()
                if i > 0:
                    j.flags = 2 | 8
                    j.w = (<Tensor>old_stps[i - 1]).ptr()
                else:
                    # the turn: r = q·H, then y_0'r for the second loop
                    j.flags = 2 | 4 | 8
                    j.w = (<Tensor>old_dirs[0]).ptr()
                _run(&j, res)
            # second loop, oldest pair first: be_i = ro_i·(y_i'r); r += (al_i - be_i)·s_i
            for i in range(m):
                ro_i = _read(<Tensor>ro[i])
                b_i = _round(dtype, _round(dtype, res[0]) * ro_i)
                j.alpha = _round(dtype, alphas[i] - b_i)
                j.v = (<Tensor>old_stps[i]).ptr()
                if i < m - 1:
                    j.flags = 2 | 8
                    j.w = (<Tensor>old_dirs[i + 1]).ptr()
                else:
                    j.flags = 2 | 16
                    j.w = NULL
                _run(&j, res)
        for i in range(m):
            _write(<Tensor>al[i], alphas[i])
    finally:
        free(alphas)
    d._storage.version += 1
    return _round(dtype, res[1]), res[2]


def move(list params, double t, Tensor d):
    """p += t·(p's slice of d) for every parameter, t rounded to their type; False, with
    nothing written, when a parameter is not a contiguous tensor of d's dtype or the sizes
    do not add up."""
    cdef Py_ssize_t i, n = len(params)
    cdef index_t offset = 0
    cdef Tensor p
    cdef Pass j
    cdef double res[3]
    cdef size_t item = 4 if d._dtype == DT_FLOAT32 else 8
    if d._dtype != DT_FLOAT32 and d._dtype != DT_FLOAT64:
        return False
    for i in range(n):
        if not isinstance(params[i], Tensor):
            return False
        p = <Tensor>params[i]
        if p._dtype != d._dtype or not p.is_contig():
            return False
        offset += p._numel
    if offset != d._numel or not d.is_contig():
        return False
    j.kind = K_AXPY
    j.dtype = d._dtype
    j.alpha = t
    offset = 0
    for i in range(n):
        p = <Tensor>params[i]
        j.n = p._numel
        j.q = p.ptr()
        j.v = d.ptr() + offset * item
        _run(&j, res)
        p._storage.version += 1
        offset += p._numel
    return True
