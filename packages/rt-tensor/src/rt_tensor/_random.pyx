# cython: language_level=3
"""Random numbers: a seeded Philox4x32-10 generator (Salmon et al., "Parallel random
numbers: as easy as 1, 2, 3", SC'11) and PyTorch's sampling functions.

Counter-based: element i of a sampling call reads Philox block (offset + i // E) (E = 4
elements per block for 32-bit draws, 2 for 64-bit draws), so results are identical for any
number of threads and the work splits with parallel_for. Each call advances the generator's
offset past the blocks it used. The state is (seed, offset): 16 bytes.
"""
include "build_stamp.pxi"
import functools
import math
import os

import numpy as np

from libc.math cimport log, sqrt, cos, sin, tan, exp, ceil, floor, fabs, lgamma, log1p, M_PI
from libc.string cimport memcpy
from rt_tensor._types cimport *
from rt_tensor._scalar cimport store_double, store_int
from rt_tensor._dtype cimport ITEMSIZE, dtype_of, category, as_dtype, default_float_code, dtype
from rt_tensor._tensor cimport Tensor, new_tensor, shape_numel
from rt_tensor._parallel cimport parallel_for

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "rand", "randn", "randint", "randperm", "normal",
           "bernoulli", "multinomial", "poisson", "rand_like", "randn_like", "randint_like"]

DEFAULT_SEED = 67280421310721

cdef enum:
    K_UNIFORM = 0
    K_NORMAL = 1
    K_EXPONENTIAL = 2
    K_GEOMETRIC = 3
    K_LOGNORMAL = 4
    K_CAUCHY = 5
    K_RANDINT = 6
    K_BERNOULLI = 7
    SAMPLE_GRAIN = 16384

cdef double INV24 = 1.0 / 16777216.0
cdef double INV53 = 1.0 / 9007199254740992.0


# ---------------------------------------------------------------------------------------
# Philox4x32-10

cdef inline void _mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) noexcept nogil:
    cdef uint64_t p = <uint64_t>a * <uint64_t>b
    hi[0] = <uint32_t>(p >> 32)
    lo[0] = <uint32_t>p


cdef inline void _philox(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                         uint32_t k0, uint32_t k1, uint32_t* out) noexcept nogil:
    cdef uint32_t hi0, lo0, hi1, lo1
    cdef int r
    for r in range(10):
        _mulhilo(0xD2511F53u, c0, &hi0, &lo0)
        _mulhilo(0xCD9E8D57u, c2, &hi1, &lo1)
        c0 = hi1 ^ c1 ^ k0
        c1 = lo1
        c2 = hi0 ^ c3 ^ k1
        c3 = lo0
        k0 = k0 + 0x9E3779B9u
        k1 = k1 + 0xBB67AE85u
    out[0] = c0
    out[1] = c1
    out[2] = c2
    out[3] = c3


cdef void philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                        uint32_t k0, uint32_t k1, uint32_t* out) noexcept nogil:
    _philox(c0, c1, c2, c3, k0, k1, out)


def _philox_kat(counter, key):
    """Philox4x32-10 of a 4-word counter and 2-word key (for known-answer tests)."""
    cdef uint32_t out[4]
    philox4x32_10(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out)
    return (out[0], out[1], out[2], out[3])


# ---------------------------------------------------------------------------------------
# Generator

cdef class Generator:
    """A random number generator (``torch.Generator``): Philox4x32-10 keyed by the seed,
    with a counter offset that each sampling call advances."""

    def __init__(self, device="cpu"):
        if str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"rt_tensor only supports the CPU device, got device={device!r}")
        self._seed = DEFAULT_SEED
        self._offset = 0

    cdef uint64_t reserve(self, uint64_t nblocks):
        cdef uint64_t o = self._offset
        self._offset += nblocks
        return o

    @property
    def device(self):
        from rt_tensor._tensor import device
        return device("cpu")

    def manual_seed(self, seed):
        """Seed the generator (any int; taken modulo 2**64); returns self."""
        self._seed = _check_seed(seed)
        self._offset = 0
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        """Seed from the OS's entropy; returns the new seed."""
        s = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
        self._seed = s
        self._offset = 0
        return s

    def get_state(self):
        """The state as a uint8 tensor of 16 bytes (seed and offset, little-endian)."""
        from rt_tensor._tensor import from_numpy
        arr = np.array([self._seed, self._offset], dtype="<u8").view(np.uint8).copy()
        return from_numpy(arr)

    def set_state(self, new_state):
        """Restore a state returned by ``get_state``; returns self."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a rt_tensor.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype.name != "uint8":
            raise TypeError(f"expected a rt_tensor.ByteTensor (uint8), but got {new_state.dtype}")
        if new_state.numel() != 16:
            raise RuntimeError(f"Expected a generator state of 16 bytes, but got "
                               f"{new_state.numel()}")
        words = np.ascontiguousarray(new_state.reshape(-1).numpy(force=True)).view("<u8")
        self._seed = int(words[0])
        self._offset = int(words[1])
        return self

    def get_offset(self):
        return self._offset

    def set_offset(self, offset):
        self._offset = int(offset)
        return self

    def __getstate__(self):
        return (self._seed, self._offset)

    def __setstate__(self, state):
        self._seed, self._offset = state

    def __reduce__(self):
        return (Generator, (), (self._seed, self._offset))

    def __repr__(self):
        return f"<rt_tensor.Generator seed={self._seed} offset={self._offset}>"


def _check_seed(seed):
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, float) and seed == int(seed):
        seed = int(seed)
    if not hasattr(seed, "__index__"):
        raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
    s = seed.__index__()
    if s < -(1 << 63) or s >= (1 << 64):
        raise RuntimeError("Overflow when unpacking long")
    return s & ((1 << 64) - 1)


cdef Generator _default = Generator()
default_generator = _default


cdef Generator get_generator(object generator):
    if generator is None:
        return _default
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an rt_tensor Generator, got {type(generator).__name__}")
    return <Generator>generator


def manual_seed(seed):
    """Seed the default generator (``torch.manual_seed``); returns it."""
    return _default.manual_seed(seed)


def seed():
    """Seed the default generator from the OS's entropy; returns the seed."""
    return _default.seed()


def initial_seed():
    """The seed of the default generator."""
    return _default.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor."""
    return _default.get_state()


def set_rng_state(new_state):
    """Restore the default generator's state from ``get_rng_state``."""
    _default.set_state(new_state)


# ---------------------------------------------------------------------------------------
# sampling kernel

cdef struct SampleCtx:
    char* dst
    int dt              # storage dtype of each element written (real dtype for complex)
    int kind
    bint wide           # 64-bit draws (2 per block) instead of 32-bit (4 per block)
    double a
    double b
    int64_t ilow
    uint64_t irange
    uint32_t k0
    uint32_t k1
    uint64_t offset


cdef extern from "<math.h>" nogil:
    float logf(float)
    float sqrtf(float)
    float sinf(float)
    float cosf(float)


cdef void _sample_f32(SampleCtx* c, index_t begin, index_t end) noexcept nogil:
    # float32 uniform/normal: float math, 4 elements per Philox block
    cdef float* out = <float*>c.dst
    cdef uint32_t r[4]
    cdef float v[4]
    cdef float fa = <float>c.a, fspan = <float>(c.b - c.a), fb = <float>c.b
    cdef float rad, th
    cdef index_t blk, b0 = begin // 4, b1 = (end - 1) // 4, i
    cdef uint64_t ctr
    cdef int j
    cdef bint normal = c.kind == K_NORMAL
    for blk in range(b0, b1 + 1):
        ctr = c.offset + <uint64_t>blk
        _philox(<uint32_t>ctr, <uint32_t>(ctr >> 32), 0, 0, c.k0, c.k1, r)
        if normal:
            for j in range(0, 4, 2):
                rad = sqrtf(<float>-2.0 * logf(<float>(r[j] >> 8) * <float>INV24 + <float>2.9802322387695312e-08))
                th = <float>6.2831853071795864769 * (<float>(r[j + 1] >> 8) * <float>INV24)
                v[j] = fa + fb * (rad * cosf(th))
                v[j + 1] = fa + fb * (rad * sinf(th))
        else:
            for j in range(4):
                v[j] = fa + (<float>(r[j] >> 8) * <float>INV24) * fspan
        i = blk * 4
        if i >= begin and i + 4 <= end:
            out[i] = v[0]
            out[i + 1] = v[1]
            out[i + 2] = v[2]
            out[i + 3] = v[3]
        else:
            for j in range(4):
                if begin <= i + j < end:
                    out[i + j] = v[j]


cdef void _sample_f64(SampleCtx* c, index_t begin, index_t end) noexcept nogil:
    # float64 uniform/normal: 2 elements (53-bit draws) per Philox block
    cdef double* out = <double*>c.dst
    cdef uint32_t r[4]
    cdef double v[2]
    cdef double u0, u1, rad, th
    cdef index_t blk, b0 = begin // 2, b1 = (end - 1) // 2, i
    cdef uint64_t ctr
    cdef bint normal = c.kind == K_NORMAL
    for blk in range(b0, b1 + 1):
        ctr = c.offset + <uint64_t>blk
        _philox(<uint32_t>ctr, <uint32_t>(ctr >> 32), 0, 0, c.k0, c.k1, r)
        u0 = <double>((((<uint64_t>r[0]) << 32) | r[1]) >> 11) * INV53
        u1 = <double>((((<uint64_t>r[2]) << 32) | r[3]) >> 11) * INV53
        if normal:
            rad = sqrt(-2.0 * log(u0 + 0.5 * INV53))
            th = 2.0 * M_PI * u1
            v[0] = c.a + c.b * (rad * cos(th))
            v[1] = c.a + c.b * (rad * sin(th))
        else:
            v[0] = c.a + u0 * (c.b - c.a)
            v[1] = c.a + u1 * (c.b - c.a)
        i = blk * 2
        if i >= begin and i + 2 <= end:
            out[i] = v[0]
            out[i + 1] = v[1]
        else:
            if begin <= i < end:
                out[i] = v[0]
            if begin <= i + 1 < end:
                out[i + 1] = v[1]


cdef void _sample_range(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef SampleCtx* c = <SampleCtx*>vctx
    if c.kind == K_UNIFORM or c.kind == K_NORMAL:
        if c.dt == DT_FLOAT32:
            _sample_f32(c, begin, end)
            return
        if c.dt == DT_FLOAT64:
            _sample_f64(c, begin, end)
            return
    cdef int E = 2 if c.wide else 4
    cdef int isz = ITEMSIZE[c.dt]
    cdef uint32_t r[4]
    cdef uint64_t bits[4]
    cdef double u[4]
    cdef double uo[4]     # open interval (0, 1)
    cdef double z[4]
    cdef double rad, th, v
    cdef index_t blk, b0 = begin // E, b1 = (end - 1) // E, i
    cdef uint64_t ctr
    cdef int j
    for blk in range(b0, b1 + 1):
        ctr = c.offset + <uint64_t>blk
        _philox(<uint32_t>ctr, <uint32_t>(ctr >> 32), 0, 0, c.k0, c.k1, r)
        if c.wide:
            bits[0] = (<uint64_t>r[0] << 32) | r[1]
            bits[1] = (<uint64_t>r[2] << 32) | r[3]
            for j in range(2):
                u[j] = <double>(bits[j] >> 11) * INV53
                uo[j] = (<double>(bits[j] >> 11) + 0.5) * INV53
        else:
            for j in range(4):
                bits[j] = r[j]
                u[j] = <double>(r[j] >> 8) * INV24
                uo[j] = (<double>(r[j] >> 8) + 0.5) * INV24
        if c.kind == K_NORMAL or c.kind == K_LOGNORMAL:
            for j in range(0, E, 2):
                rad = sqrt(-2.0 * log(uo[j]))
                th = 2.0 * M_PI * u[j + 1]
                z[j] = rad * cos(th)
                z[j + 1] = rad * sin(th)
        for j in range(E):
            i = blk * E + j
            if i < begin or i >= end:
                continue
            if c.kind == K_RANDINT:
                store_int(c.dst + i * isz, c.dt, c.ilow + <int64_t>(bits[j] % c.irange))
                continue
            if c.kind == K_UNIFORM:
                v = c.a + u[j] * (c.b - c.a)
            elif c.kind == K_NORMAL:
                v = c.a + c.b * z[j]
            elif c.kind == K_LOGNORMAL:
                v = exp(c.a + c.b * z[j])
            elif c.kind == K_EXPONENTIAL:
                v = -log(uo[j]) / c.a
            elif c.kind == K_GEOMETRIC:
                v = ceil(log(uo[j]) / log1p(-c.a))
            elif c.kind == K_CAUCHY:
                v = c.a + c.b * tan(M_PI * (u[j] - 0.5))
            else:
                v = 1.0 if u[j] < c.a else 0.0
            store_double(c.dst + i * isz, c.dt, v)


cdef void _sample_into(Tensor t, int kind, double a, double b, int64_t ilow, uint64_t irange,
                       Generator gen) except *:
    """Fill the contiguous tensor t with samples of the given kind."""
    cdef SampleCtx c
    cdef index_t n = t._numel
    cdef int dt = t._dtype
    if category(dt) == 3:       # complex: real and imaginary parts as 2n reals
        n *= 2
        dt = DT_FLOAT32 if dt == DT_COMPLEX64 else DT_FLOAT64
    if n == 0:
        return
    c.dst = t.ptr()
    c.dt = dt
    c.kind = kind
    c.a = a
    c.b = b
    c.ilow = ilow
    c.irange = irange
    if kind == K_RANDINT:
        c.wide = irange > 0xFFFFFFFFu
    else:
        c.wide = dt == DT_FLOAT64
    c.k0 = <uint32_t>gen._seed
    c.k1 = <uint32_t>(gen._seed >> 32)
    cdef index_t per = 2 if c.wide else 4
    c.offset = gen.reserve(<uint64_t>((n + per - 1) // per))
    with nogil:
        if n >= 2 * SAMPLE_GRAIN:
            parallel_for(n, SAMPLE_GRAIN, _sample_range, &c)
        else:
            _sample_range(&c, 0, n)
    t._storage.version += 1


cdef Tensor _sample_inplace(Tensor self, int kind, double a, double b, int64_t ilow,
                            uint64_t irange, object generator):
    cdef Generator gen = get_generator(generator)
    cdef Tensor tmp
    if self.is_contig():
        _sample_into(self, kind, a, b, ilow, irange, gen)
    else:
        tmp = new_tensor(self._dtype, self._ndim, self._shape, False)
        _sample_into(tmp, kind, a, b, ilow, irange, gen)
        self.copy_(tmp)
    return self


# ---------------------------------------------------------------------------------------
# argument helpers

cdef str _tname(int code):
    return dtype_of(code).scalar_name


cdef _require_float(int code, str kernel):
    if category(code) < 2:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_tname(code)}'")


def _size(args, fname):
    from rt_tensor._creation import _size as parse
    return parse(args, fname)


def _check_common(device, requires_grad):
    from rt_tensor._tensor import _check_device
    _check_device(device)
    if requires_grad:
        raise RuntimeError("rt_tensor has no autograd; use rt_autograd")


cdef Tensor _new(int code, tuple shape):
    cdef index_t sh[MAX_DIMS]
    cdef int i, nd = len(shape)
    for i in range(nd):
        sh[i] = shape[i]
    return new_tensor(code, nd, sh, False)


def _finish(result, out):
    from rt_tensor._creation import _finish as finish
    return finish(result, out)


cdef int _dtype_code(dtype, out, int default) except -1:
    if dtype is not None:
        return as_dtype(dtype).code
    if out is not None and isinstance(out, Tensor):
        return (<Tensor>out)._dtype
    return default


# ---------------------------------------------------------------------------------------
# factories

def rand(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples on [0, 1) (``torch.rand``); floating and complex dtypes."""
    _check_common(device, requires_grad)
    shape = _size(args if size is None else (size,), "rand")
    cdef int code = _dtype_code(dtype, out, default_float_code())
    _require_float(code, "check_uniform_bounds")
    cdef Tensor t = _new(code, shape)
    _sample_into(t, K_UNIFORM, 0.0, 1.0, 0, 0, get_generator(generator))
    return _finish(t, out)


def randn(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples (``torch.randn``); complex dtypes get N(0, 1/2) parts."""
    _check_common(device, requires_grad)
    shape = _size(args if size is None else (size,), "randn")
    cdef int code = _dtype_code(dtype, out, default_float_code())
    _require_float(code, "normal_kernel_cpu")
    cdef Tensor t = _new(code, shape)
    cdef double s = math.sqrt(0.5) if category(code) == 3 else 1.0
    _sample_into(t, K_NORMAL, 0.0, s, 0, 0, get_generator(generator))
    return _finish(t, out)


cdef _randint_range(low, high, int code):
    low = int(low.item() if isinstance(low, Tensor) else low)
    high = int(high.item() if isinstance(high, Tensor) else high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    if category(code) == 0:
        lo_b, hi_b = 0, 2
    elif code == DT_UINT8:
        lo_b, hi_b = 0, 256
    elif code == DT_INT8:
        lo_b, hi_b = -128, 128
    elif code == DT_INT16:
        lo_b, hi_b = -32768, 32768
    elif code == DT_INT32:
        lo_b, hi_b = -2**31, 2**31
    elif code == DT_INT64:
        lo_b, hi_b = -2**63, 2**63
    else:
        lo_b, hi_b = None, None
    if lo_b is not None and (low < lo_b or low >= hi_b):
        raise RuntimeError(f"random_ expects 'from' to be in [{lo_b}, {hi_b - 1}] for dtype "
                           f"{dtype_of(code)}, but got from={low}")
    if lo_b is not None and (high - 1 > hi_b - 1):
        raise RuntimeError(f"random_ expects 'to' to be at most {hi_b} for dtype "
                           f"{dtype_of(code)}, but got to={high}")
    if high - low > 2**64 - 1:
        raise RuntimeError("random_: the range is too large")
    return low, high - low


def randint(*args, **kwargs):
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high,
    size)`` (``torch.randint``); int64 unless ``dtype`` is given. Keywords: ``generator``,
    ``out``, ``dtype``, ``device``, ``requires_grad`` (and ``low``/``high``/``size``)."""
    size = kwargs.pop("size", None)
    generator = kwargs.pop("generator", None)
    out = kwargs.pop("out", None)
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    requires_grad = kwargs.pop("requires_grad", False)
    low = kwargs.pop("low", None)
    high = kwargs.pop("high", None)
    kwargs.pop("layout", None)
    kwargs.pop("pin_memory", None)
    if kwargs:
        raise TypeError(f"randint() got unexpected keyword arguments {sorted(kwargs)}")
    _check_common(device, requires_grad)
    bounds = list(args)
    if size is None and bounds and (isinstance(bounds[len(bounds) - 1], (tuple, list)) or
                                  type(bounds[len(bounds) - 1]).__name__ == "Size"):
        size = bounds.pop()
    if low is not None:
        bounds.insert(0, low)
    if high is not None:
        bounds.append(high)
    if size is None:
        raise TypeError("randint() missing required argument 'size' (a tuple of ints)")
    if len(bounds) == 1:
        lo, hi = 0, bounds[0]
    elif len(bounds) == 2:
        lo, hi = bounds
    else:
        raise TypeError(f"randint() takes (low=0, high, size), got {len(bounds)} bounds")
    shape = _size((size,), "randint")
    cdef int code = _dtype_code(dtype, out, DT_INT64)
    if category(code) == 3:
        raise NotImplementedError(f"\"random_from_to\" not implemented for '{_tname(code)}'")
    start, span = _randint_range(lo, hi, code)
    cdef Tensor t = _new(code, shape)
    _sample_into(t, K_RANDINT, 0, 0, start, span, get_generator(generator))
    return _finish(t, out)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0..n-1 (``torch.randperm``), int64 unless ``dtype`` given."""
    _check_common(device, requires_grad)
    n = int(n.item() if isinstance(n, Tensor) else n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    cdef int code = _dtype_code(dtype, out, DT_INT64)
    cdef Generator gen = get_generator(generator)
    cdef Tensor perm = _new(DT_INT64, (n,))
    cdef int64_t* p = <int64_t*>perm.ptr()
    cdef int64_t i, j, tmp
    cdef uint32_t r[4]
    cdef uint64_t off = gen.reserve(<uint64_t>((n + 1) // 2))
    cdef uint32_t k0 = <uint32_t>gen._seed, k1 = <uint32_t>(gen._seed >> 32)
    cdef uint64_t ctr, bits
    cdef int64_t nn = n
    with nogil:
        for i in range(nn):
            p[i] = i
        i = nn - 1
        while i > 0:
            ctr = off + <uint64_t>(i // 2)
            _philox(<uint32_t>ctr, <uint32_t>(ctr >> 32), 0, 0, k0, k1, r)
            if i % 2:
                bits = (<uint64_t>r[2] << 32) | r[3]
            else:
                bits = (<uint64_t>r[0] << 32) | r[1]
            j = <int64_t>(bits % <uint64_t>(i + 1))
            tmp = p[i]
            p[i] = p[j]
            p[j] = tmp
            i -= 1
    result = perm if code == DT_INT64 else perm.to(dtype_of(code))
    return _finish(result, out)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, generator=None):
    """``rand`` with input's shape and dtype (unless given)."""
    d = input.dtype if dtype is None else dtype
    return rand(tuple(input.shape), dtype=d, device=device, requires_grad=requires_grad,
                generator=generator)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, generator=None):
    """``randn`` with input's shape and dtype (unless given)."""
    d = input.dtype if dtype is None else dtype
    return randn(tuple(input.shape), dtype=d, device=device, requires_grad=requires_grad,
                 generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None):
    """``randint`` with input's shape and dtype (unless given): ``randint_like(input,
    high)`` or ``randint_like(input, low, high)``."""
    if high is None:
        low, high = 0, low
    d = input.dtype if dtype is None else dtype
    return randint(low, high, tuple(input.shape), dtype=d, device=device,
                   requires_grad=requires_grad, generator=generator)


# ---------------------------------------------------------------------------------------
# distributions with tensor parameters (composed in numpy from the generator's draws)

cdef object _uniform_np(tuple shape, Generator gen):
    """float64 uniforms on [0, 1) as a numpy array (from the generator)."""
    cdef Tensor t = _new(DT_FLOAT64, shape)
    _sample_into(t, K_UNIFORM, 0.0, 1.0, 0, 0, gen)
    return t.numpy(force=True)


cdef object _normal_np(tuple shape, int code, Generator gen):
    cdef Tensor t = _new(DT_FLOAT64 if code == DT_FLOAT64 else DT_FLOAT32, shape)
    _sample_into(t, K_NORMAL, 0.0, 1.0, 0, 0, gen)
    return t.numpy(force=True)


def _as_np(Tensor t):
    return t.float().numpy(force=True) if t._dtype == DT_BFLOAT16 else t.numpy(force=True)


def _from_np(arr, int code):
    from rt_tensor._tensor import from_numpy
    from rt_tensor import _copy
    src = from_numpy(np.ascontiguousarray(arr))
    return _copy.cast(src, dtype_of(code))


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """Normal samples (``torch.normal``): ``normal(mean_tensor, std_tensor)`` (broadcast),
    ``normal(mean_tensor, std=1.0)``, ``normal(mean_float, std_tensor)`` or
    ``normal(mean_float, std_float, size)``."""
    _check_common(device, requires_grad)
    cdef Generator gen = get_generator(generator)
    cdef int code
    mt = isinstance(mean, Tensor)
    st = isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with float "
                            "mean and std, size is required")
        m = float(mean)
        s = float(std)
        if s < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {s:g}")
        shape = _size((size,), "normal")
        code = _dtype_code(dtype, out, default_float_code())
        _require_float(code, "normal_kernel_cpu")
        t = _new(code, shape)
        _sample_into(t, K_NORMAL, m, s, 0, 0, gen)
        return _finish(t, out)
    if size is not None:
        raise TypeError("normal(): size is only accepted with float mean and std")
    if mt and st:
        from rt_tensor._dtype import promote_types
        code = promote_types(mean.dtype, std.dtype).code
    else:
        code = (<Tensor>(mean if mt else std))._dtype
    if category(code) != 2:
        raise RuntimeError(f"normal expects floating point mean and std, got {dtype_of(code)}")
    m = _as_np(mean) if mt else float(mean)
    s = _as_np(std) if st else float(std)
    if (np.any(np.asarray(s) < 0)):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    try:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(np.shape(m))}) must match the size of "
                           f"tensor b ({list(np.shape(s))})") from None
    z = _normal_np(tuple(shape), code, gen)
    result = np.asarray(m + s * z)
    return _finish(_from_np(result.astype(np.float64 if code == DT_FLOAT64 else np.float32),
                            code), out)


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (or the scalar ``p``), in input's dtype."""
    cdef Tensor x = input
    cdef Generator gen = get_generator(generator)
    cdef Tensor t
    if p is not None and not isinstance(p, Tensor):
        pf = float(p)
        if not 0.0 <= pf <= 1.0:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={pf:g}")
        t = _new(x._dtype, tuple(x.shape))
        _sample_into(t, K_BERNOULLI, pf, 0, 0, 0, gen)
        return _finish(t, out)
    probs = x if p is None else p
    if p is None and category(x._dtype) != 2:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_tname(x._dtype)}'")
    pa = _as_np(probs).astype(np.float64)
    if pa.size and (np.any(~(pa >= 0)) or np.any(~(pa <= 1))):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    try:
        pa = np.broadcast_to(pa, tuple(x.shape))
    except ValueError:
        raise RuntimeError(f"bernoulli: p of shape {list(pa.shape)} does not broadcast to "
                           f"{list(x.shape)}") from None
    u = _uniform_np(tuple(x.shape), gen)
    return _finish(_from_np((u < pa).astype(np.float64), x._dtype), out)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices (int64) drawn from the rows of ``input`` (non-negative weights)."""
    cdef Tensor x = input
    cdef Generator gen = get_generator(generator)
    if x._ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if category(x._dtype) != 2:
        raise RuntimeError("multinomial only supports floating-point dtypes for input")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    ncat = x.shape[-1]
    if ncat == 0:
        raise RuntimeError("multinomial: input must have at least one category")
    if not replacement and n > ncat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    w = _as_np(x).astype(np.float64).reshape(-1, ncat)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = w.sum(axis=1)
    if np.any(sums <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = w.shape[0]
    if replacement:
        cdf = np.cumsum(w, axis=1)
        u = _uniform_np((rows, n), gen) * cdf[:, -1:]
        result = np.empty((rows, n), dtype=np.int64)
        for r in range(rows):
            result[r] = np.minimum(np.searchsorted(cdf[r], u[r], side="right"), ncat - 1)
    else:
        if np.any((w > 0).sum(axis=1) < n):
            raise RuntimeError("invalid multinomial distribution (with replacement=False, not "
                               "enough non-negative category to sample)")
        u = _uniform_np((rows, ncat), gen)
        with np.errstate(divide="ignore"):
            keys = -np.log1p(-u) / w          # exponential races: smallest first
        result = np.argsort(keys, axis=1, kind="stable")[:, :n].astype(np.int64)
    if x._ndim == 1:
        result = result[0]
    return _finish(_from_np(result, DT_INT64), out)


cdef inline double _unif_stream(uint64_t elem, uint32_t draw, uint32_t k0, uint32_t k1,
                                uint32_t* buf) noexcept nogil:
    """The draw-th uniform on [0, 1) of element elem's own stream."""
    if draw % 2 == 0:
        _philox(<uint32_t>elem, <uint32_t>(elem >> 32), draw // 2, 1, k0, k1, buf)
        return <double>((((<uint64_t>buf[0]) << 32) | buf[1]) >> 11) * INV53
    return <double>((((<uint64_t>buf[2]) << 32) | buf[3]) >> 11) * INV53


cdef struct PoissonCtx:
    double* rates
    double* out
    uint64_t offset
    uint32_t k0
    uint32_t k1


cdef double _poisson_one(double lam, uint64_t elem, uint32_t k0, uint32_t k1) noexcept nogil:
    cdef uint32_t buf[4]
    cdef uint32_t draw = 0
    cdef double prod, limit, k, U, V, us, slam, loglam, a, b, invalpha, vr
    cdef int64_t count
    if lam <= 0:
        return 0.0
    if lam < 10:
        limit = exp(-lam)
        prod = 1.0
        count = -1
        while True:
            prod *= _unif_stream(elem, draw, k0, k1, buf)
            draw += 1
            count += 1
            if prod <= limit:
                return <double>count
    # PTRS: Hormann, "The transformed rejection method for generating Poisson random
    # variables" (1993), as in numpy
    slam = sqrt(lam)
    loglam = log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        U = _unif_stream(elem, draw, k0, k1, buf) - 0.5
        draw += 1
        V = _unif_stream(elem, draw, k0, k1, buf)
        draw += 1
        us = 0.5 - fabs(U)
        k = floor((2 * a / us + b) * U + lam + 0.43)
        if us >= 0.07 and V <= vr:
            return k
        if k < 0 or (us < 0.013 and V > us):
            continue
        if (log(V) + log(invalpha) - log(a / (us * us) + b)) <= (-lam + k * loglam - lgamma(k + 1)):
            return k


cdef void _poisson_range(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef PoissonCtx* c = <PoissonCtx*>vctx
    cdef index_t i
    for i in range(begin, end):
        c.out[i] = _poisson_one(c.rates[i], c.offset + <uint64_t>i, c.k0, c.k1)


def poisson(input, generator=None):
    """Poisson samples with rates ``input`` (non-negative), in input's dtype."""
    cdef Tensor x = input
    if category(x._dtype) != 2:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{_tname(x._dtype)}'")
    cdef Generator gen = get_generator(generator)
    rates = np.ascontiguousarray(_as_np(x), dtype=np.float64)
    if rates.size and not np.all(rates >= 0):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    outarr = np.empty(rates.shape, dtype=np.float64)
    cdef PoissonCtx c
    cdef index_t n = rates.size
    cdef double[::1] rv = rates.reshape(-1)
    cdef double[::1] ov = outarr.reshape(-1)
    if n:
        c.rates = &rv[0]
        c.out = &ov[0]
        c.k0 = <uint32_t>gen._seed
        c.k1 = <uint32_t>(gen._seed >> 32)
        c.offset = gen.reserve(<uint64_t>n)
        with nogil:
            parallel_for(n, 2048, _poisson_range, &c)
    return _from_np(outarr, x._dtype)


# ---------------------------------------------------------------------------------------
# in-place Tensor methods

def uniform_(Tensor self, double from_=0.0, double to=1.0, *, generator=None, **kwargs):
    """Fill with uniform samples on [from, to) (``Tensor.uniform_``)."""
    if "from" in kwargs:
        from_ = kwargs.pop("from")
    if kwargs:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kwargs)}")
    _require_float(self._dtype, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_:g} > to={to:g}")
    if not math.isfinite(to - from_):
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<double>::max(), but "
                           f"found to={to:g} and from={from_:g} which result in to-from to exceed "
                           "the limit")
    return _sample_inplace(self, K_UNIFORM, from_, to, 0, 0, generator)


def normal_(Tensor self, double mean=0.0, double std=1.0, *, generator=None):
    """Fill with normal samples (``Tensor.normal_``)."""
    _require_float(self._dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if category(self._dtype) == 3:
        std *= math.sqrt(0.5)
        if mean != 0:
            raise RuntimeError("normal_ on a complex tensor supports mean=0 only")
    return _sample_inplace(self, K_NORMAL, mean, std, 0, 0, generator)


def random_(Tensor self, *args, generator=None, **kwargs):
    """Integers on [from, to) (``random_(from, to)``, ``random_(to)``), or on
    [0, 2**mantissa] for floats / [0, max] for integers with no bounds."""
    if "from" in kwargs:
        args = (kwargs.pop("from"),) + args
    if "to" in kwargs:
        args = args + (kwargs.pop("to"),)
    if kwargs:
        raise TypeError(f"random_() got unexpected keyword arguments {sorted(kwargs)}")
    cdef int code = self._dtype
    if category(code) == 3:
        raise NotImplementedError(f"\"random_\" not implemented for '{_tname(code)}'")
    if len(args) == 0 or (len(args) == 2 and args[1] is None and args[0] == 0):
        top = {DT_BOOL: 1, DT_UINT8: 255, DT_INT8: 127, DT_INT16: 32767, DT_INT32: 2**31 - 1,
               DT_INT64: 2**63 - 1, DT_FLOAT16: 2**11, DT_BFLOAT16: 2**8, DT_FLOAT32: 2**24,
               DT_FLOAT64: 2**53}[code]
        lo, hi = 0, top + 1
    elif len(args) == 1:
        lo, hi = 0, args[0]
    elif len(args) == 2:
        lo, hi = args
        if hi is None:
            hi = {DT_BOOL: 1, DT_UINT8: 255, DT_INT8: 127, DT_INT16: 32767, DT_INT32: 2**31 - 1,
                  DT_INT64: 2**63 - 1, DT_FLOAT16: 2**11, DT_BFLOAT16: 2**8, DT_FLOAT32: 2**24,
                  DT_FLOAT64: 2**53}[code] + 1
    else:
        raise TypeError("random_() takes at most 2 bounds (from, to)")
    start, span = _randint_range(lo, hi, code)
    return _sample_inplace(self, K_RANDINT, 0, 0, start, span, generator)


def bernoulli_(Tensor self, p=0.5, *, generator=None):
    """Fill with 0/1 samples of probability ``p`` (a number or a tensor broadcastable to
    self)."""
    if isinstance(p, Tensor):
        self.copy_(bernoulli(self, p, generator=generator))
        return self
    pf = float(p)
    if not 0.0 <= pf <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={pf:g}")
    return _sample_inplace(self, K_BERNOULLI, pf, 0, 0, 0, generator)


def exponential_(Tensor self, double lambd=1.0, *, generator=None):
    """Fill with exponential samples of rate ``lambd``."""
    _require_float(self._dtype, "exponential_cpu")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _sample_inplace(self, K_EXPONENTIAL, lambd, 0, 0, 0, generator)


def geometric_(Tensor self, double p, *, generator=None):
    """Fill with geometric samples (trials until the first success, >= 1)."""
    if category(self._dtype) == 3:
        raise NotImplementedError(f"\"geometric_cpu\" not implemented for '{_tname(self._dtype)}'")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    return _sample_inplace(self, K_GEOMETRIC, p, 0, 0, 0, generator)


def log_normal_(Tensor self, double mean=1.0, double std=2.0, *, generator=None):
    """Fill with exp(N(mean, std)) samples."""
    _require_float(self._dtype, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return _sample_inplace(self, K_LOGNORMAL, mean, std, 0, 0, generator)


def cauchy_(Tensor self, double median=0.0, double sigma=1.0, *, generator=None):
    """Fill with Cauchy samples."""
    _require_float(self._dtype, "cauchy_cpu")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    return _sample_inplace(self, K_CAUCHY, median, sigma, 0, 0, generator)


def _bernoulli_method(self, p=None, *, generator=None):
    return bernoulli(self, p, generator=generator)


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    return multinomial(self, num_samples, replacement, generator=generator)


_METHOD_FUNCS = {"uniform_": uniform_, "normal_": normal_, "random_": random_,
                  "bernoulli_": bernoulli_, "exponential_": exponential_,
                  "geometric_": geometric_, "log_normal_": log_normal_, "cauchy_": cauchy_,
                  "bernoulli": _bernoulli_method, "multinomial": _multinomial_method}
# functools.partialmethod makes each builtin a descriptor, so Tensor binds self to it
TENSOR_METHODS = {name: functools.partialmethod(fn) for name, fn in _METHOD_FUNCS.items()}
