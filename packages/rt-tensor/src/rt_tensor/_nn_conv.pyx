# cython: language_level=3
"""Convolution kernels for rt_nn (private: not part of rt_tensor's public API).

N-d convolution (1, 2 or 3 spatial dims, handled as 3-d with leading size-1 dims) over
(N, C, *spatial) float32/float64 tensors (float16/bfloat16 computed in float32; other layouts
are copied to contiguous first). Three operations, each the adjoint of the others in one
argument, and torch's im2col/col2im:

- ``conv_forward``:  y[n, g] = W[g] (Cout/G x Cin/G*K) @ cols(x[n, g]) (+ bias)
- ``conv_backward_input``:  cols = W[g]^T @ gy[n, g]; gx[n, g] = col2im(cols) (+ bias per
  channel: the forward of a transposed convolution). With stride 1 (and padding at most
  d*(k-1), not many more output than input channels) it is instead the forward convolution
  of gy with the flipped, transposed kernel, which takes the fast paths below.
- ``conv_backward_weight``:  gW[g] = sum_n gy[n, g] @ cols(x[n, g])^T
- ``im2col`` / ``col2im``: torch's ``unfold`` / ``fold`` (any number of spatial dims here).

Algorithms, chosen per call:
- im2col + GEMM (OpenBLAS sgemm/dgemm, single threaded, called from rt's pool like
  _linalg does). im2col copies whole runs of rows for stride 1 and splits strided rows into
  their phases once, so every tap is a contiguous copy. A 1x1 convolution with stride 1 and
  no padding needs no columns: the GEMMs read the input.
- Winograd F(2x2, 3x3) for 2-d 3x3 convolutions with stride 1 and dilation 1 and at least
  WINO_MIN_CHANNELS channels per group (forward, hence the stride-1 input gradient, and
  F(3x3, 2x2) for the weight gradient): 16 GEMMs over the tiles instead of 36 products per
  2x2 outputs; transforms in C with restrict pointers so they vectorise.
- direct loops for depthwise convolutions (one input channel per group): on a zero-padded
  copy of the plane, all nine taps of a 3x3 filter in one pass per output row.

Threads: work is cut into units (batch item, group, part); a part is a range of output
lines or tile rows (so a unit's buffers stay about L2-sized) or, for col2im, a range of
channels (each channel's col2im writes only that channel: no races). Units are split into
at most CHUNKS_PER_THREAD * threads fixed chunks that the pool's threads claim
(parallel_for); every chunk owns its buffers and, for the weight gradient, a partial sum,
added up at the end in chunk order (the result depends only on the thread count).

The def functions check what could crash (dtype, rank, sizes, positive parameters, matching
shapes); PyTorch's argument checks and messages are rt_nn.functional's job.
"""
include "build_stamp.pxi"


from libc.string cimport memset, memcpy
from libc.stdint cimport int64_t
from rt_tensor._types cimport *
from rt_tensor._dtype cimport dtype_of, ITEMSIZE
from rt_tensor._tensor cimport Tensor, new_tensor, copy_into
from rt_tensor._nn_pool cimport max_pool2x2_values
from rt_tensor._parallel cimport parallel_for
from rt_tensor._parallel import get_num_threads as _get_num_threads

cdef extern from "rt_blas.h" nogil:
    enum:
        RT_ROW_MAJOR
        RT_NO_TRANS
        RT_TRANS
    ctypedef void (*rt_sgemm_t)(int order, int ta, int tb, int m, int n, int k, float alpha,
                                const float* a, int lda, const float* b, int ldb, float beta,
                                float* c, int ldc) noexcept nogil
    ctypedef void (*rt_dgemm_t)(int order, int ta, int tb, int m, int n, int k, double alpha,
                                const double* a, int lda, const double* b, int ldb, double beta,
                                double* c, int ldc) noexcept nogil

from rt_tensor._linalg cimport blas_gemm

__all__ = []          # private module: rt_nn imports the functions by name

# ---------------------------------------------------------------------------------------
# BLAS: _linalg's (one library, single-threaded; rt's pool does the splitting)

cdef rt_sgemm_t _sgemm = NULL
cdef rt_dgemm_t _dgemm = NULL


cdef int _load_blas() except -1:
    global _sgemm, _dgemm
    if _sgemm == NULL:
        _sgemm = <rt_sgemm_t>blas_gemm(DT_FLOAT32)
        _dgemm = <rt_dgemm_t>blas_gemm(DT_FLOAT64)
    return 0


ctypedef fused real:
    float
    double


cdef inline void _gemm(bint ta, bint tb, index_t m, index_t n, index_t k, const real* a,
                       index_t lda, const real* b, index_t ldb, real beta, real* c,
                       index_t ldc) noexcept nogil:
    """c = a @ b + beta * c (row major; a is m x k, transposed in storage when ta)."""
    cdef index_t i
    if m <= 0 or n <= 0:
        return
    if k <= 0:
        if beta == 0:
            for i in range(m):
                memset(c + i * ldc, 0, n * sizeof(real))
        return
    if real is float:
        _sgemm(RT_ROW_MAJOR, RT_TRANS if ta else RT_NO_TRANS, RT_TRANS if tb else RT_NO_TRANS,
               <int>m, <int>n, <int>k, 1.0, a, <int>lda, b, <int>ldb, beta, c, <int>ldc)
    else:
        _dgemm(RT_ROW_MAJOR, RT_TRANS if ta else RT_NO_TRANS, RT_TRANS if tb else RT_NO_TRANS,
               <int>m, <int>n, <int>k, 1.0, a, <int>lda, b, <int>ldb, beta, c, <int>ldc)


# ---------------------------------------------------------------------------------------
# geometry

cdef enum Op:
    OP_FWD = 0
    OP_IGRAD = 1
    OP_WGRAD = 2
    OP_IM2COL = 3
    OP_COL2IM = 4
    OP_WINO = 5
    OP_WINO_W = 6
    OP_DW = 7
    OP_DW_W = 8

cdef struct Geo:
    int op
    int dt
    index_t N, C, Co, G, Cg, Cog
    index_t isz[3]
    index_t osz[3]
    index_t ksz[3]
    index_t st[3]
    index_t pd[3]
    index_t dl[3]
    index_t IL, OL, KL, CKL, nlines
    bint pointwise
    bint full_out     # osz is the whole convolution output (not a leading part of it)
    index_t nparts, part_len, units, nchunks
    char* x           # input (FWD, WGRAD, IM2COL), grad_output (IGRAD), columns (COL2IM)
    char* w           # weight (FWD, IGRAD)
    char* b           # bias or NULL (FWD: per output channel; IGRAD: per result channel)
    char* gy          # grad_output (WGRAD)
    char* y           # result (FWD output, IGRAD grad_input, IM2COL columns, COL2IM image)
    char* acc         # WGRAD partial sums: nchunks x (Co * CKL)
    char* ws          # column buffers: nchunks x ws_elems
    index_t ws_elems
    index_t TH, TW, ntiles   # Winograd: 2x2 output tiles per image
    bint relu         # FWD, WINO, DW: max(0, y) applied to each output block while in cache
    bint pool2        # FWD (im2col path): 2x2 stride-2 max pool of each block into yp
    char* yp          # the pooled result (N, Co, OH // 2, OW // 2) when pool2
    index_t blk_off   # pool2: where a chunk's GEMM output block starts in its buffer


cdef inline index_t _first_valid(index_t off, index_t s) noexcept nogil:
    """Smallest o >= 0 with o * s + off >= 0."""
    if off >= 0:
        return 0
    return (-off + s - 1) // s


cdef inline index_t _end_valid(index_t off, index_t s, index_t size, index_t n) noexcept nogil:
    """1 + largest o < n with o * s + off <= size - 1 (0 if none)."""
    cdef index_t r = size - 1 - off
    if r < 0:
        return 0
    r = r // s + 1
    return r if r < n else n


cdef inline void _copy(real* dst, const real* src, index_t n) noexcept nogil:
    cdef index_t i
    if n >= 32:
        memcpy(dst, src, n * sizeof(real))
    else:
        for i in range(n):
            dst[i] = src[i]


cdef void _im2col_rows(const real* x, real* col, const Geo* g, index_t C, index_t l0,
                       index_t l1) noexcept nogil:
    """_im2col when s1 == s2 == 1 and OW == I2: the valid lines of one output plane read
    consecutive input rows, so each run of them is one contiguous copy (then the few
    padding columns of each line are zeroed)."""
    cdef index_t OW = g.osz[2], O1 = g.osz[1], width = (l1 - l0) * OW
    cdef index_t I0 = g.isz[0], I1 = g.isz[1], I2 = g.isz[2], IL = g.IL
    cdef index_t K0 = g.ksz[0], K1 = g.ksz[1], K2 = g.ksz[2]
    cdef index_t s0 = g.st[0], p0 = g.pd[0], p1 = g.pd[1], p2 = g.pd[2]
    cdef index_t d0 = g.dl[0], d1 = g.dl[1], d2 = g.dl[2]
    cdef index_t c, kd, kh, kw, l, od, oh, i0, off, lo, hi, j, n, a, b, run, sh
    cdef real* seg
    cdef real* dst
    cdef const real* xc
    cdef const real* src
    for c in range(C):
        xc = x + c * IL
        for kd in range(K0):
            for kh in range(K1):
                for kw in range(K2):
                    seg = col + (((c * K0 + kd) * K1 + kh) * K2 + kw) * width
                    off = kw * d2 - p2
                    lo = _first_valid(off, 1)
                    if lo > OW:
                        lo = OW
                    hi = _end_valid(off, 1, I2, OW)
                    if hi <= lo:
                        for j in range(width):
                            seg[j] = 0
                        continue
                    sh = kh * d1 - p1          # input row = oh + sh
                    l = l0
                    od = l0 // O1
                    oh = l0 - od * O1
                    while l < l1:
                        run = O1 - oh          # lines left in this output plane
                        if run > l1 - l:
                            run = l1 - l
                        dst = seg + (l - l0) * OW
                        i0 = od * s0 - p0 + kd * d0
                        if i0 < 0 or i0 >= I0:
                            a = oh + run
                            b = a
                        else:
                            a = -sh if -sh > oh else oh          # first valid oh
                            b = I1 - sh if I1 - sh < oh + run else oh + run
                            if b < a:
                                b = a
                        # lines [oh, a) and [b, oh + run) are zero
                        if a > oh:
                            memset(dst, 0, (a - oh) * OW * sizeof(real))
                        if b < oh + run:
                            memset(dst + (b - oh) * OW, 0, (oh + run - b) * OW * sizeof(real))
                        n = b - a
                        if n > 0:
                            dst = dst + (a - oh) * OW
                            src = xc + (i0 * I1 + a + sh) * I2 + off
                            # glibc's memcpy uses the widest vectors the CPU has
                            memcpy(dst + lo, src + lo, ((n - 1) * OW + hi - lo) * sizeof(real))
                            if lo == 1 and hi == OW:
                                for a in range(n):
                                    dst[a * OW] = 0
                            elif lo == 0 and hi == OW - 1:
                                for a in range(n):
                                    dst[a * OW + hi] = 0
                            elif lo > 0 or hi < OW:
                                for a in range(n):
                                    for j in range(lo):
                                        dst[j] = 0
                                    for j in range(hi, OW):
                                        dst[j] = 0
                                    dst += OW
                        l += run
                        oh = 0
                        od += 1


cdef void _im2col(const real* x, real* col, const Geo* g, index_t C, index_t l0,
                  index_t l1) noexcept nogil:
    if g.st[1] == 1 and g.st[2] == 1 and g.osz[2] == g.isz[2]:
        _im2col_rows(x, col, g, C, l0, l1)
    elif g.st[2] > 1 and g.isz[2] + 2 * g.pd[2] + g.st[2] <= PHASE_MAX:
        _im2col_strided(x, col, g, C, l0, l1)
    else:
        _im2col_any(x, col, g, C, l0, l1)


cdef enum:
    PHASE_MAX = 2048      # padded row length that _im2col_strided keeps on the stack


cdef void _im2col_strided(const real* x, real* col, const Geo* g, index_t C, index_t l0,
                          index_t l1) noexcept nogil:
    """_im2col for a stride s2 > 1 along the rows: each source row, zero-padded, is split
    once into its s2 phases (ph[q][k] = row[s2 * k + q]); the segment of tap kw is then the
    contiguous ph[(kw d2) % s2][(kw d2) // s2 ...], for every kw."""
    cdef index_t OW = g.osz[2], O1 = g.osz[1], width = (l1 - l0) * OW
    cdef index_t I0 = g.isz[0], I1 = g.isz[1], I2 = g.isz[2], IL = g.IL
    cdef index_t K0 = g.ksz[0], K1 = g.ksz[1], K2 = g.ksz[2]
    cdef index_t s0 = g.st[0], s1 = g.st[1], s2 = g.st[2]
    cdef index_t p0 = g.pd[0], p1 = g.pd[1], p2 = g.pd[2]
    cdef index_t d0 = g.dl[0], d1 = g.dl[1], d2 = g.dl[2]
    cdef index_t c, kd, kh, kw, l, od, oh, i0, i1, ow, q, k, plen, Wp, t, od0, oh0
    cdef real row[PHASE_MAX]
    cdef real ph[PHASE_MAX]
    cdef real* seg
    cdef real* rowk
    cdef const real* src
    Wp = I2 + 2 * p2
    plen = (Wp + s2 - 1) // s2                     # length of each phase
    memset(row, 0, (plen * s2) * sizeof(real))
    od0 = l0 // O1
    oh0 = l0 - od0 * O1
    for c in range(C):
        for kd in range(K0):
            for kh in range(K1):
                rowk = col + ((c * K0 + kd) * K1 + kh) * K2 * width
                od = od0
                oh = oh0
                for l in range(l0, l1):
                    i0 = od * s0 - p0 + kd * d0
                    i1 = oh * s1 - p1 + kh * d1
                    seg = rowk + (l - l0) * OW
                    if i0 < 0 or i0 >= I0 or i1 < 0 or i1 >= I1:
                        for kw in range(K2):
                            memset(seg + kw * width, 0, OW * sizeof(real))
                    else:
                        src = x + c * IL + (i0 * I1 + i1) * I2
                        memcpy(row + p2, src, I2 * sizeof(real))     # row[p2 + j] = x[j]
                        for q in range(s2):
                            for k in range(plen):
                                ph[q * plen + k] = row[k * s2 + q]
                        for kw in range(K2):
                            t = kw * d2
                            _copy(seg + kw * width, ph + (t % s2) * plen + t // s2, OW)
                    oh += 1
                    if oh == O1:
                        oh = 0
                        od += 1


cdef void _im2col_any(const real* x, real* col, const Geo* g, index_t C, index_t l0,
                      index_t l1) noexcept nogil:
    """col[(c, kd, kh, kw), (l - l0) * OW + ow] = x[c, od*s0-p0+kd*d0, oh*s1-p1+kh*d1,
    ow*s2-p2+kw*d2] (0 outside) for output lines l = (od, oh) in [l0, l1); x is (C, I0, I1, I2)."""
    cdef index_t OW = g.osz[2], O1 = g.osz[1], width = (l1 - l0) * OW
    cdef index_t I0 = g.isz[0], I1 = g.isz[1], I2 = g.isz[2], IL = g.IL
    cdef index_t K0 = g.ksz[0], K1 = g.ksz[1], K2 = g.ksz[2]
    cdef index_t s0 = g.st[0], s1 = g.st[1], s2 = g.st[2]
    cdef index_t p0 = g.pd[0], p1 = g.pd[1], p2 = g.pd[2]
    cdef index_t d0 = g.dl[0], d1 = g.dl[1], d2 = g.dl[2]
    cdef index_t c, kd, kh, kw, l, od, oh, i0, i1, off, lo, hi, ow, od0, oh0
    cdef real* seg
    cdef const real* xc
    cdef const real* src
    od0 = l0 // O1
    oh0 = l0 - od0 * O1
    for c in range(C):
        xc = x + c * IL
        for kd in range(K0):
            for kh in range(K1):
                for kw in range(K2):
                    seg = col + (((c * K0 + kd) * K1 + kh) * K2 + kw) * width
                    off = kw * d2 - p2
                    lo = _first_valid(off, s2)
                    if lo > OW:
                        lo = OW
                    hi = _end_valid(off, s2, I2, OW)
                    if hi < lo:
                        hi = lo
                    od = od0
                    oh = oh0
                    for l in range(l0, l1):
                        i0 = od * s0 - p0 + kd * d0
                        i1 = oh * s1 - p1 + kh * d1
                        if i0 < 0 or i0 >= I0 or i1 < 0 or i1 >= I1:
                            for ow in range(OW):
                                seg[ow] = 0
                        else:
                            src = xc + (i0 * I1 + i1) * I2 + off
                            for ow in range(lo):
                                seg[ow] = 0
                            if s2 == 1:
                                for ow in range(lo, hi):
                                    seg[ow] = src[ow]
                            else:
                                for ow in range(lo, hi):
                                    seg[ow] = src[ow * s2]
                            for ow in range(hi, OW):
                                seg[ow] = 0
                        seg += OW
                        oh += 1
                        if oh == O1:
                            oh = 0
                            od += 1


cdef void _col2im(const real* col, real* im, const Geo* g, index_t c0, index_t c1) noexcept nogil:
    """im[c] = sum of the columns of channel c for c in [c0, c1) (im: (C, I0, I1, I2), zeroed
    here); col holds the rows of channels c0.. ((c - c0) * KL + k), OL columns each."""
    cdef index_t OW = g.osz[2], O1 = g.osz[1], KL = g.KL, OL = g.OL, IL = g.IL
    cdef index_t I0 = g.isz[0], I1 = g.isz[1], I2 = g.isz[2], nlines = g.nlines
    cdef index_t K0 = g.ksz[0], K1 = g.ksz[1], K2 = g.ksz[2]
    cdef index_t s0 = g.st[0], s1 = g.st[1], s2 = g.st[2]
    cdef index_t p0 = g.pd[0], p1 = g.pd[1], p2 = g.pd[2]
    cdef index_t d0 = g.dl[0], d1 = g.dl[1], d2 = g.dl[2]
    cdef index_t c, kd, kh, kw, l, od, oh, i0, i1, off, lo, hi, ow
    cdef const real* seg
    cdef real* imc
    cdef real* dst
    for c in range(c0, c1):
        imc = im + c * IL
        for ow in range(IL):
            imc[ow] = 0
        seg = col + (c - c0) * KL * OL
        for kd in range(K0):
            for kh in range(K1):
                for kw in range(K2):
                    off = kw * d2 - p2
                    lo = _first_valid(off, s2)
                    hi = _end_valid(off, s2, I2, OW)
                    od = 0
                    oh = 0
                    for l in range(nlines):
                        i0 = od * s0 - p0 + kd * d0
                        i1 = oh * s1 - p1 + kh * d1
                        oh += 1
                        if oh == O1:
                            oh = 0
                            od += 1
                        if hi > lo and i0 >= 0 and i0 < I0 and i1 >= 0 and i1 < I1:
                            dst = imc + (i0 * I1 + i1) * I2 + off
                            if s2 == 1:
                                for ow in range(lo, hi):
                                    dst[ow] += seg[ow]
                            else:
                                for ow in range(lo, hi):
                                    dst[ow * s2] += seg[ow]
                        seg += OW


cdef inline void _epilogue(real* y, const real* b, bint relu, index_t rows, index_t ld,
                           index_t col0, index_t ncols) noexcept nogil:
    """Columns [col0, col0 + ncols) of `rows` rows (stride ld): + b[r] (b may be NULL), then
    max(0, .) when relu; one pass while the block is in cache."""
    cdef index_t r
    cdef real* p
    if b == NULL and not relu:
        return
    for r in range(rows):
        p = y + r * ld + col0
        if b == NULL:
            if real is float:
                rt_relu_f(p, ncols)
            else:
                rt_relu_d(p, ncols)
        elif real is float:
            rt_bias_relu_f(p, b[r], ncols, relu)
        else:
            rt_bias_relu_d(p, b[r], ncols, relu)


cdef void _pool2_block(const Geo* g, real* blk, const real* b, index_t n, index_t co0,
                       index_t l0, index_t l1) noexcept nogil:
    """The GEMM block of output channels [co0, co0 + Cog) of image n, lines [l0, l1) (l0
    even; channel j's lines at blk + j * (l1 - l0) * OW): bias and relu in place, then its
    2x2 max pool into yp (with _nn_pool's kernel: max_pool2d's bits)."""
    cdef index_t OW = g.osz[2], PH = g.osz[1] // 2, PW = g.osz[2] // 2, lines = l1 - l0, j
    cdef real* out = <real*>g.yp + ((n * g.Co + co0) * PH + l0 // 2) * PW
    _epilogue(blk, b, g.relu, g.Cog, lines * OW, 0, lines * OW)
    if lines == g.osz[1]:           # whole planes: one call for the block
        max_pool2x2_values(g.dt, blk, out, g.Cog, lines, OW)
    else:
        for j in range(g.Cog):
            max_pool2x2_values(g.dt, blk + j * lines * OW, out + j * PH * PW, 1, lines, OW)


cdef void _pool2_task(void* ctx, index_t begin, index_t end) noexcept nogil:
    cdef const Geo* g = <const Geo*>ctx
    cdef index_t plane = g.osz[1] * g.osz[2], pooled = (g.osz[1] // 2) * (g.osz[2] // 2)
    max_pool2x2_values(g.dt, g.x + begin * plane * ITEMSIZE[g.dt],
                       g.yp + begin * pooled * ITEMSIZE[g.dt], end - begin, g.osz[1], g.osz[2])


cdef void _pool2_planes(Geo* g, Tensor y):
    """yp = the 2x2 max pool of every (O1, O2) plane of the full output y, planes split over
    the thread pool as max_pool2d's are."""
    g.x = y.ptr()
    cdef index_t grain = (1 << 15) // (g.osz[1] * g.osz[2]) + 1
    with nogil:
        parallel_for(g.N * g.Co, grain, _pool2_task, g)


cdef inline void _lines(const Geo* g, index_t part, index_t* l0, index_t* l1) noexcept nogil:
    l0[0] = part * g.part_len
    l1[0] = l0[0] + g.part_len
    if l1[0] > g.nlines:
        l1[0] = g.nlines


cdef void _unit(const Geo* g, real* ws, real* acc, index_t u) noexcept nogil:
    cdef index_t part = u % g.nparts, t = u // g.nparts
    cdef index_t grp = t % g.G, n = t // g.G
    cdef index_t l0, l1, c0, c1, col0, ncols, ldb
    cdef const real* bsrc
    cdef const real* x
    cdef const real* w
    cdef const real* gyp
    cdef real* y
    if g.op == OP_FWD:
        x = <const real*>g.x + (n * g.C + grp * g.Cg) * g.IL
        w = <const real*>g.w + grp * g.Cog * g.CKL
        y = <real*>g.y + (n * g.Co + grp * g.Cog) * g.OL
        _lines(g, part, &l0, &l1)
        col0 = l0 * g.osz[2]
        ncols = (l1 - l0) * g.osz[2]
        if g.pointwise:
            bsrc = x + col0
            ldb = g.IL
        else:
            _im2col(x, ws, g, g.Cg, l0, l1)
            bsrc = ws
            ldb = ncols
        if g.pool2:
            # the block into the chunk's buffer, then bias, relu and the pool into yp
            _gemm(False, False, g.Cog, ncols, g.CKL, w, g.CKL, bsrc, ldb, <real>0,
                  ws + g.blk_off, ncols)
        else:
            _gemm(False, False, g.Cog, ncols, g.CKL, w, g.CKL, bsrc, ldb, <real>0, y + col0,
                  g.OL)
        bsrc = NULL
        if g.b != NULL:
            bsrc = <const real*>g.b + grp * g.Cog
        if g.pool2:
            _pool2_block(g, ws + g.blk_off, bsrc, n, grp * g.Cog, l0, l1)
        else:
            _epilogue(y, bsrc, g.relu, g.Cog, g.OL, col0, ncols)
    elif g.op == OP_IGRAD:
        gyp = <const real*>g.x + (n * g.Co + grp * g.Cog) * g.OL
        c0 = part * g.part_len
        c1 = c0 + g.part_len
        if c1 > g.Cg:
            c1 = g.Cg
        w = <const real*>g.w + grp * g.Cog * g.CKL + c0 * g.KL
        y = <real*>g.y + (n * g.C + grp * g.Cg) * g.IL
        if g.pointwise:
            _gemm(True, False, (c1 - c0) * g.KL, g.OL, g.Cog, w, g.CKL, gyp, g.OL, <real>0,
                  y + c0 * g.IL, g.IL)
        else:
            _gemm(True, False, (c1 - c0) * g.KL, g.OL, g.Cog, w, g.CKL, gyp, g.OL, <real>0,
                  ws, g.OL)
            _col2im(ws, y, g, c0, c1)
        if g.b != NULL:
            _epilogue(y + c0 * g.IL, <const real*>g.b + grp * g.Cg + c0, False, c1 - c0, g.IL,
                      0, g.IL)
    elif g.op == OP_WGRAD:
        x = <const real*>g.x + (n * g.C + grp * g.Cg) * g.IL
        gyp = <const real*>g.gy + (n * g.Co + grp * g.Cog) * g.OL
        _lines(g, part, &l0, &l1)
        col0 = l0 * g.osz[2]
        ncols = (l1 - l0) * g.osz[2]
        if g.pointwise:
            bsrc = x + col0
            ldb = g.IL
        else:
            _im2col(x, ws, g, g.Cg, l0, l1)
            bsrc = ws
            ldb = ncols
        _gemm(False, True, g.Cog, g.CKL, ncols, gyp + col0, g.OL, bsrc, ldb, <real>1,
              acc + grp * g.Cog * g.CKL, g.CKL)
    elif g.op == OP_IM2COL:
        c0 = part * g.part_len
        c1 = c0 + g.part_len
        if c1 > g.C:
            c1 = g.C
        _im2col(<const real*>g.x + (n * g.C + c0) * g.IL,
                <real*>g.y + (n * g.C + c0) * g.KL * g.OL, g, c1 - c0, 0, g.nlines)
    else:   # OP_COL2IM
        c0 = part * g.part_len
        c1 = c0 + g.part_len
        if c1 > g.C:
            c1 = g.C
        _col2im(<const real*>g.x + (n * g.C + c0) * g.KL * g.OL, <real*>g.y + n * g.C * g.IL,
                g, c0, c1)


# ---------------------------------------------------------------------------------------
# Winograd F(2x2, 3x3) for 3x3 convolutions with stride 1 and dilation 1 (2-d): every 2x2
# output tile is A^T [ (G g G^T) . (B^T d B) ] A over its 4x4 input tile d; the 16 products
# summed over input channels are 16 GEMMs (Cout x Cin) @ (Cin x tiles): 16 multiplies per 4
# outputs instead of 36. g.w holds the transformed kernel U (16, Cout, Cg).

cdef extern from *:
    """
    /* Winograd F(2x2, 3x3) transforms over a row of tiles, vectorisable (restrict). */
    #define RT_WINO_DEFS(T, S) \
    static inline void rt_wino_rows_##S(const T* restrict r0, const T* restrict r1, \
            const T* restrict r2, const T* restrict r3, T* restrict a, int64_t n) { \
        /* a[r * n + k]: rows of B^T d: r0 - r2, r1 + r2, r2 - r1, r1 - r3 */ \
        for (int64_t k = 0; k < n; k++) { \
            a[k] = r0[k] - r2[k]; a[n + k] = r1[k] + r2[k]; \
            a[2 * n + k] = r2[k] - r1[k]; a[3 * n + k] = r1[k] - r3[k]; } } \
    static inline void rt_wino_cols_##S(const T* restrict e, const T* restrict o, \
            T* restrict d0, T* restrict d1, T* restrict d2, T* restrict d3, int64_t n) { \
        /* columns (e[k], o[k], e[k+1], o[k+1]) of tile k -> (B^T d B) row entries */ \
        for (int64_t k = 0; k < n; k++) { \
            d0[k] = e[k] - e[k + 1]; d1[k] = o[k] + e[k + 1]; \
            d2[k] = e[k + 1] - o[k]; d3[k] = o[k] - o[k + 1]; } } \
    static inline void rt_wino_out_##S(const T* restrict m, int64_t ms, T* restrict ye, \
            T* restrict yo, T* restrict ze, T* restrict zo, T bv, int64_t n) { \
        /* m[xi * ms + k]: the 16 products of tile k -> its 2x2 outputs A^T m A + bias */ \
        for (int64_t k = 0; k < n; k++) { \
            T d0 = m[k] + m[4 * ms + k] + m[8 * ms + k]; \
            T d1 = m[ms + k] + m[5 * ms + k] + m[9 * ms + k]; \
            T d2 = m[2 * ms + k] + m[6 * ms + k] + m[10 * ms + k]; \
            T d3 = m[3 * ms + k] + m[7 * ms + k] + m[11 * ms + k]; \
            T e0 = m[4 * ms + k] - m[8 * ms + k] - m[12 * ms + k]; \
            T e1 = m[5 * ms + k] - m[9 * ms + k] - m[13 * ms + k]; \
            T e2 = m[6 * ms + k] - m[10 * ms + k] - m[14 * ms + k]; \
            T e3 = m[7 * ms + k] - m[11 * ms + k] - m[15 * ms + k]; \
            ye[k] = d0 + d1 + d2 + bv; yo[k] = d1 - d2 - d3 + bv; \
            ze[k] = e0 + e1 + e2 + bv; zo[k] = e1 - e2 - e3 + bv; } }
    #if defined(__GNUC__) && !defined(__clang__)
    #define RT_NO_MEMCPY_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
    #else
    #define RT_NO_MEMCPY_CALLS
    #endif
    #define RT_WINO_GY(T, S) \
    static inline RT_NO_MEMCPY_CALLS void rt_wino_gy4_##S(const T* restrict a_, const T* restrict b_, \
            T* restrict h0, T* restrict h1, T* restrict h2, T* restrict h3, int64_t n) { \
        /* one row of A g A^T: (a, a + b, a - b, -b) */ \
        for (int64_t k = 0; k < n; k++) { \
            T a = a_[k], b = b_[k]; \
            h0[k] = a; h1[k] = a + b; h2[k] = a - b; h3[k] = -b; } } \
    static inline RT_NO_MEMCPY_CALLS void rt_wino_gy_##S(T* restrict t, const T* restrict e0, \
            const T* restrict o0, const T* restrict e1, const T* restrict o1, T* h, \
            int64_t ms, int64_t n) { \
        /* A g A^T of the 2x2 tiles ((e0, o0), (e1, o1)), A = [1 0; 1 1; 1 -1; 0 -1]: rows \
           of A g are r0, r0 + r1, r0 - r1, -r1 (t: 4 n scratch) */ \
        T* restrict se = t; T* restrict so = t + n; T* restrict de = t + 2 * n; \
        T* restrict dd = t + 3 * n; \
        for (int64_t k = 0; k < n; k++) { \
            se[k] = e0[k] + e1[k]; so[k] = o0[k] + o1[k]; \
            de[k] = e0[k] - e1[k]; dd[k] = o0[k] - o1[k]; } \
        rt_wino_gy4_##S(e0, o0, h, h + ms, h + 2 * ms, h + 3 * ms, n); \
        rt_wino_gy4_##S(se, so, h + 4 * ms, h + 5 * ms, h + 6 * ms, h + 7 * ms, n); \
        rt_wino_gy4_##S(de, dd, h + 8 * ms, h + 9 * ms, h + 10 * ms, h + 11 * ms, n); \
        for (int64_t k = 0; k < n; k++) { se[k] = -e1[k]; so[k] = -o1[k]; } \
        rt_wino_gy4_##S(se, so, h + 12 * ms, h + 13 * ms, h + 14 * ms, h + 15 * ms, n); }
    RT_WINO_DEFS(float, f)
    RT_WINO_DEFS(double, d)
    RT_WINO_GY(float, f)
    RT_WINO_GY(double, d)
    #define RT_DW_DEFS(T, S) \
    static inline void rt_axpy1_##S(T* restrict y, const T* restrict x, T a, int64_t n) { \
        for (int64_t i = 0; i < n; i++) y[i] += a * x[i]; } \
    static inline void rt_dw3_##S(T* restrict y, const T* restrict x, T a, T b, T c, \
            int64_t d, int64_t n) { \
        for (int64_t i = 0; i < n; i++) y[i] += a * x[i] + b * x[i + d] + c * x[i + 2 * d]; } \
    static inline void rt_dw33_##S(T* restrict y, const T* restrict x0, \
            const T* restrict x1, const T* restrict x2, const T* restrict w, T bias, \
            int64_t d, int64_t n) { \
        /* one output row of a 3x3 depthwise filter over three input rows */ \
        T w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], \
          w7 = w[7], w8 = w[8]; \
        for (int64_t i = 0; i < n; i++) \
            y[i] = bias + w0 * x0[i] + w1 * x0[i + d] + w2 * x0[i + 2 * d] \
                   + w3 * x1[i] + w4 * x1[i + d] + w5 * x1[i + 2 * d] \
                   + w6 * x2[i] + w7 * x2[i + d] + w8 * x2[i + 2 * d]; } \
    static inline void rt_dw3w_##S(T* restrict a0, T* restrict a1, T* restrict a2, \
            const T* restrict gy, const T* restrict x, int64_t d, int64_t n) { \
        /* three taps' weight-gradient partial sums over one output row */ \
        for (int64_t i = 0; i < n; i++) { \
            T g = gy[i]; a0[i] += g * x[i]; a1[i] += g * x[i + d]; a2[i] += g * x[i + 2 * d]; } } \
    static inline void rt_mulacc1_##S(T* restrict acc, const T* restrict a, \
            const T* restrict b, int64_t n) { \
        for (int64_t i = 0; i < n; i++) acc[i] += a[i] * b[i]; }
    RT_DW_DEFS(float, f)
    RT_DW_DEFS(double, d)
    /* the forward epilogue over one output row: y + bias, then relu when asked; relu keeps
       PyTorch's clamp_min semantics (relu(-0.0) = -0.0, relu(nan) = nan) */
    #define RT_EPILOGUE_DEFS(T, S) \
    static inline void rt_bias_relu_##S(T* restrict y, T bv, int64_t n, int relu) { \
        if (relu) { for (int64_t i = 0; i < n; i++) { T v = y[i] + bv; y[i] = v < 0 ? (T)0 : v; } } \
        else { for (int64_t i = 0; i < n; i++) y[i] += bv; } } \
    static inline void rt_relu_##S(T* restrict y, int64_t n) { \
        for (int64_t i = 0; i < n; i++) { T v = y[i]; y[i] = v < 0 ? (T)0 : v; } }
    RT_EPILOGUE_DEFS(float, f)
    RT_EPILOGUE_DEFS(double, d)
    static inline void rt_deinterleave_f(const float* restrict x, float* restrict e,
                                         float* restrict o, int64_t n) {
        for (int64_t k = 0; k < n; k++) { e[k] = x[2 * k]; o[k] = x[2 * k + 1]; } }
    static inline void rt_deinterleave_d(const double* restrict x, double* restrict e,
                                         double* restrict o, int64_t n) {
        for (int64_t k = 0; k < n; k++) { e[k] = x[2 * k]; o[k] = x[2 * k + 1]; } }
    """
    void rt_wino_rows_f(const float* r0, const float* r1, const float* r2, const float* r3,
                        float* a, int64_t n) nogil
    void rt_wino_rows_d(const double* r0, const double* r1, const double* r2, const double* r3,
                        double* a, int64_t n) nogil
    void rt_wino_cols_f(const float* e, const float* o, float* d0, float* d1, float* d2,
                        float* d3, int64_t n) nogil
    void rt_wino_cols_d(const double* e, const double* o, double* d0, double* d1, double* d2,
                        double* d3, int64_t n) nogil
    void rt_wino_gy_f(float* t, const float* e0, const float* o0, const float* e1,
                      const float* o1, float* h, int64_t ms, int64_t n) nogil
    void rt_wino_gy_d(double* t, const double* e0, const double* o0, const double* e1,
                      const double* o1, double* h, int64_t ms, int64_t n) nogil
    void rt_axpy1_f(float* y, const float* x, float a, int64_t n) nogil
    void rt_axpy1_d(double* y, const double* x, double a, int64_t n) nogil
    void rt_dw3_f(float* y, const float* x, float a, float b, float c, int64_t d,
                  int64_t n) nogil
    void rt_dw3_d(double* y, const double* x, double a, double b, double c, int64_t d,
                  int64_t n) nogil
    void rt_dw33_f(float* y, const float* x0, const float* x1, const float* x2,
                   const float* w, float bias, int64_t d, int64_t n) nogil
    void rt_dw33_d(double* y, const double* x0, const double* x1, const double* x2,
                   const double* w, double bias, int64_t d, int64_t n) nogil
    void rt_dw3w_f(float* a0, float* a1, float* a2, const float* gy, const float* x,
                   int64_t d, int64_t n) nogil
    void rt_dw3w_d(double* a0, double* a1, double* a2, const double* gy, const double* x,
                   int64_t d, int64_t n) nogil
    void rt_mulacc1_f(float* acc, const float* a, const float* b, int64_t n) nogil
    void rt_mulacc1_d(double* acc, const double* a, const double* b, int64_t n) nogil
    void rt_bias_relu_f(float* y, float bv, int64_t n, int relu) nogil
    void rt_bias_relu_d(double* y, double bv, int64_t n, int relu) nogil
    void rt_relu_f(float* y, int64_t n) nogil
    void rt_relu_d(double* y, int64_t n) nogil
    void rt_deinterleave_f(const float* x, float* e, float* o, int64_t n) nogil
    void rt_deinterleave_d(const double* x, double* e, double* o, int64_t n) nogil
    void rt_wino_out_f(const float* m, int64_t ms, float* ye, float* yo, float* ze, float* zo,
                       float bv, int64_t n) nogil
    void rt_wino_out_d(const double* m, int64_t ms, double* ye, double* yo, double* ze,
                       double* zo, double bv, int64_t n) nogil


cdef inline void _wrows(const real* r0, const real* r1, const real* r2, const real* r3, real* a,
                        index_t n) noexcept nogil:
    if real is float:
        rt_wino_rows_f(r0, r1, r2, r3, a, n)
    else:
        rt_wino_rows_d(r0, r1, r2, r3, a, n)


cdef inline void _wcols(const real* e, const real* o, real* d0, real* d1, real* d2, real* d3,
                        index_t n) noexcept nogil:
    if real is float:
        rt_wino_cols_f(e, o, d0, d1, d2, d3, n)
    else:
        rt_wino_cols_d(e, o, d0, d1, d2, d3, n)


cdef inline void _wout(const real* m, index_t ms, real* ye, real* yo, real* ze, real* zo,
                       real bv, index_t n) noexcept nogil:
    if real is float:
        rt_wino_out_f(m, ms, ye, yo, ze, zo, bv, n)
    else:
        rt_wino_out_d(m, ms, ye, yo, ze, zo, bv, n)


cdef inline void _deinterleave(const real* x, real* e, real* o, index_t n) noexcept nogil:
    if real is float:
        rt_deinterleave_f(x, e, o, n)
    else:
        rt_deinterleave_d(x, e, o, n)


cdef inline index_t _wino_scratch(index_t TW) noexcept nogil:
    """Scratch elements of a unit besides V and M: even/odd columns of 4 input rows, their
    row transforms, and 4 output rows of TW."""
    return 16 * (TW + 1) + 4 * TW


cdef void _wino_input(const Geo* g, real* V, real* E, index_t n, index_t grp, index_t R0,
                      index_t R1) noexcept nogil:
    """V[xi, ci, tile] = (B^T d B)[xi] for the 4x4 input tile d of every 2x2 output tile in
    the tile rows [R0, R1) of image n, group grp (tiles in row order, TW per row). E: scratch
    of _wino_scratch(TW) elements."""
    cdef index_t Cg = g.Cg, IH = g.isz[1], IW = g.isz[2], TW = g.TW, W1 = g.TW + 1
    cdef index_t ph = g.pd[1], pw = g.pd[2], IL = g.IL, nt = (R1 - R0) * g.TW
    cdef index_t ci, th, r, k, c, row, base, kb, ke
    cdef const real* xc
    cdef const real* xr
    cdef real* O = E + 4 * W1               # odd columns of the 4 rows (E: even columns)
    cdef real* AE = O + 4 * W1              # B^T d of the even columns
    cdef real* AO = AE + 4 * W1
    cdef real* vp
    # k with both input columns 2k - pw and 2k + 1 - pw inside the row: [kb, ke)
    kb = (pw + 1) // 2
    ke = (IW - 2 + pw) // 2 + 1 if IW - 2 + pw >= 0 else 0
    if ke > W1:
        ke = W1
    if ke < kb:
        ke = kb
    for ci in range(Cg):
        xc = <const real*>g.x + (n * g.C + grp * Cg + ci) * IL
        for th in range(R0, R1):
            base = (th - R0) * TW
            for r in range(4):
                row = 2 * th - ph + r
                if row < 0 or row >= IH:
                    memset(E + r * W1, 0, W1 * sizeof(real))
                    memset(O + r * W1, 0, W1 * sizeof(real))
                    continue
                xr = xc + row * IW - pw
                # the edges one by one, the middle as a deinterleaving copy
                for k in range(kb):
                    c = 2 * k - pw
                    E[r * W1 + k] = xr[2 * k] if c >= 0 and c < IW else 0
                    O[r * W1 + k] = xr[2 * k + 1] if c + 1 >= 0 and c + 1 < IW else 0
                _deinterleave(xr + 2 * kb, E + r * W1 + kb, O + r * W1 + kb, ke - kb)
                for k in range(ke, W1):
                    c = 2 * k - pw
                    E[r * W1 + k] = xr[2 * k] if c >= 0 and c < IW else 0
                    O[r * W1 + k] = xr[2 * k + 1] if c + 1 >= 0 and c + 1 < IW else 0
            _wrows(E, E + W1, E + 2 * W1, E + 3 * W1, AE, W1)
            _wrows(O, O + W1, O + 2 * W1, O + 3 * W1, AO, W1)
            for r in range(4):
                vp = V + (4 * r * Cg + ci) * nt + base
                _wcols(AE + r * W1, AO + r * W1, vp, vp + Cg * nt, vp + 2 * Cg * nt,
                       vp + 3 * Cg * nt, TW)


cdef inline void _tile_rows(const Geo* g, index_t u, index_t* n, index_t* grp, index_t* R0,
                            index_t* R1) noexcept nogil:
    cdef index_t blk = u % g.nparts, t = u // g.nparts
    grp[0] = t % g.G
    n[0] = t // g.G
    R0[0] = blk * g.part_len
    R1[0] = R0[0] + g.part_len
    if R1[0] > g.TH:
        R1[0] = g.TH


cdef void _wino_unit(const Geo* g, real* ws, index_t u) noexcept nogil:
    """Forward: the tile rows [R0, R1) of one image and group."""
    cdef index_t n, grp, R0, R1, nt, xi, co, th, r, k, row, base
    cdef index_t Cg = g.Cg, Cog = g.Cog, OH = g.osz[1], OW = g.osz[2], TW = g.TW
    cdef real bv
    cdef real* V
    cdef real* M
    cdef real* Y
    cdef real* yrow
    cdef const real* U
    _tile_rows(g, u, &n, &grp, &R0, &R1)
    nt = (R1 - R0) * TW
    V = ws
    M = ws + 16 * Cg * g.part_len * TW
    Y = M + 16 * Cog * g.part_len * TW      # scratch; 4 output rows of TW at its end
    _wino_input(g, V, Y, n, grp, R0, R1)
    Y = Y + 16 * (TW + 1)
    # the 16 products
    for xi in range(16):
        U = <const real*>g.w + (xi * g.Co + grp * Cog) * Cg
        _gemm(False, False, Cog, nt, Cg, U, Cg, V + xi * Cg * nt, nt, <real>0,
              M + xi * Cog * nt, nt)
    # output transform
    for co in range(Cog):
        bv = 0
        if g.b != NULL:
            bv = (<const real*>g.b)[grp * Cog + co]
        for th in range(R0, R1):
            base = (th - R0) * TW
            _wout(M + co * nt + base, Cog * nt, Y, Y + TW, Y + 2 * TW, Y + 3 * TW, bv, TW)
            for r in range(2):
                row = 2 * th + r
                if row >= OH:
                    break
                yrow = <real*>g.y + (n * g.Co + grp * Cog + co) * g.OL + row * OW
                for k in range(OW // 2):
                    yrow[2 * k] = Y[2 * r * TW + k]
                    yrow[2 * k + 1] = Y[(2 * r + 1) * TW + k]
                if OW % 2:
                    yrow[OW - 1] = Y[2 * r * TW + OW // 2]
                if g.relu:
                    _epilogue(yrow, NULL, True, 1, 0, 0, OW)


cdef void _wino_wunit(const Geo* g, real* ws, real* acc, index_t u) noexcept nogil:
    """Weight gradient, F(3x3, 2x2): P[xi] += (A h A^T)[xi] @ (B^T d B)[xi]^T over the tiles
    (h: the 2x2 output-gradient tile, d: the 4x4 input tile); gW = G^T P G at the end."""
    cdef index_t n, grp, R0, R1, nt, xi, co, th, r, k, row, base, c, half
    cdef index_t Cg = g.Cg, Cog = g.Cog, OH = g.osz[1], OW = g.osz[2], TW = g.TW
    cdef real* V
    cdef real* H
    cdef real* S
    cdef real* e0
    cdef real* o0
    cdef real* e1
    cdef real* o1
    cdef real* hp
    cdef const real* gyrow
    cdef index_t ms
    _tile_rows(g, u, &n, &grp, &R0, &R1)
    nt = (R1 - R0) * TW
    V = ws
    H = ws + 16 * Cg * g.part_len * TW
    S = H + 16 * Cog * g.part_len * TW
    _wino_input(g, V, S, n, grp, R0, R1)
    e0 = S
    o0 = S + TW
    e1 = S + 2 * TW
    o1 = S + 3 * TW
    half = OW // 2
    ms = Cog * nt
    for co in range(Cog):
        for th in range(R0, R1):
            base = (th - R0) * TW
            # the even and odd columns of output rows 2th and 2th + 1 (0 past the edge)
            for r in range(2):
                row = 2 * th + r
                if row >= OH:
                    memset(S + 2 * r * TW, 0, 2 * TW * sizeof(real))
                    continue
                gyrow = <const real*>g.gy + (n * g.Co + grp * Cog + co) * g.OL + row * OW
                _deinterleave(gyrow, S + 2 * r * TW, S + (2 * r + 1) * TW, half)
                if OW % 2:
                    S[2 * r * TW + half] = gyrow[OW - 1]
                    S[(2 * r + 1) * TW + half] = 0
            # rows of A h: R0, R0 + R1, R0 - R1, -R1; then columns (u, u+v, u-v, -v)
            hp = H + co * nt + base
            if real is float:
                rt_wino_gy_f(S + 4 * TW, e0, o0, e1, o1, hp, ms, TW)
            else:
                rt_wino_gy_d(S + 4 * TW, e0, o0, e1, o1, hp, ms, TW)
    for xi in range(16):
        _gemm(False, True, Cog, Cg, nt, H + xi * ms, nt, V + xi * Cg * nt, nt, <real>1,
              acc + (xi * g.Co + grp * Cog) * Cg, Cg)


cdef void _wino_wgrad_out(const real* P, real* gw, index_t Co, index_t Cg) noexcept nogil:
    """gw[co, ci] (3x3) = G^T P G, P[xi, co, ci] (xi over the 4x4 tile)."""
    cdef index_t co, ci, i, plane = Co * Cg
    cdef real p[16]
    cdef real t[12]
    cdef real* o
    for co in range(Co):
        for ci in range(Cg):
            for i in range(16):
                p[i] = P[i * plane + co * Cg + ci]
            for i in range(4):          # t = G^T p (3 x 4)
                t[i] = p[i] + (p[4 + i] + p[8 + i]) * <real>0.5
                t[4 + i] = (p[4 + i] - p[8 + i]) * <real>0.5
                t[8 + i] = (p[4 + i] + p[8 + i]) * <real>0.5 + p[12 + i]
            o = gw + (co * Cg + ci) * 9
            for i in range(3):          # o = t G (3 x 3)
                o[3 * i] = t[4 * i] + (t[4 * i + 1] + t[4 * i + 2]) * <real>0.5
                o[3 * i + 1] = (t[4 * i + 1] - t[4 * i + 2]) * <real>0.5
                o[3 * i + 2] = (t[4 * i + 1] + t[4 * i + 2]) * <real>0.5 + t[4 * i + 3]


cdef void _wino_weights(const real* w, real* U, index_t Co, index_t Cg) noexcept nogil:
    """U[xi, co, ci] = (G w[co, ci] G^T)[xi], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]."""
    cdef index_t co, ci, r, c
    cdef const real* k
    cdef real t[12]
    cdef real a0, a1, a2
    cdef index_t plane = Co * Cg
    for co in range(Co):
        for ci in range(Cg):
            k = w + (co * Cg + ci) * 9
            for c in range(3):          # t = G k (4 x 3)
                t[c] = k[c]
                t[3 + c] = (k[c] + k[3 + c] + k[6 + c]) * <real>0.5
                t[6 + c] = (k[c] - k[3 + c] + k[6 + c]) * <real>0.5
                t[9 + c] = k[6 + c]
            for r in range(4):          # U = t G^T (4 x 4)
                a0 = t[3 * r]
                a1 = t[3 * r + 1]
                a2 = t[3 * r + 2]
                U[(4 * r) * plane + co * Cg + ci] = a0
                U[(4 * r + 1) * plane + co * Cg + ci] = (a0 + a1 + a2) * <real>0.5
                U[(4 * r + 2) * plane + co * Cg + ci] = (a0 - a1 + a2) * <real>0.5
                U[(4 * r + 3) * plane + co * Cg + ci] = a2




# ---------------------------------------------------------------------------------------
# depthwise (one input channel per group): direct loops, no im2col and no 1-row GEMMs

cdef inline void _axpy(real* dst, const real* src, real a, index_t n, index_t s) noexcept nogil:
    cdef index_t i
    if s == 1:
        if real is float:
            rt_axpy1_f(dst, src, a, n)
        else:
            rt_axpy1_d(dst, src, a, n)
    else:
        for i in range(n):
            dst[i] += a * src[i * s]


cdef inline void _dw3(real* y, const real* x, real a, real b, real c, index_t d,
                      index_t n) noexcept nogil:
    if real is float:
        rt_dw3_f(y, x, a, b, c, d, n)
    else:
        rt_dw3_d(y, x, a, b, c, d, n)


cdef inline void _mul_acc(real* acc, const real* a, const real* b, index_t n,
                          index_t s) noexcept nogil:
    cdef index_t i
    if s == 1:
        if real is float:
            rt_mulacc1_f(acc, a, b, n)
        else:
            rt_mulacc1_d(acc, a, b, n)
    else:
        for i in range(n):
            acc[i] += a[i] * b[i * s]


cdef void _dw_pad(const real* x, real* xp, const Geo* g) noexcept nogil:
    """The channel plane x (I0, I1, I2) zero-padded by pd on every side into xp."""
    cdef index_t P1 = g.isz[1] + 2 * g.pd[1], P2 = g.isz[2] + 2 * g.pd[2]
    cdef index_t P0 = g.isz[0] + 2 * g.pd[0], a, b
    memset(xp, 0, P0 * P1 * P2 * sizeof(real))
    for a in range(g.isz[0]):
        for b in range(g.isz[1]):
            memcpy(xp + ((a + g.pd[0]) * P1 + b + g.pd[1]) * P2 + g.pd[2],
                   x + (a * g.isz[1] + b) * g.isz[2], g.isz[2] * sizeof(real))


cdef void _dw_unit(const Geo* g, real* ws, real* acc, index_t u) noexcept nogil:
    """One image n and group (= input channel) grp, on the zero-padded plane (in ws): forward
    (OP_DW: every output channel of the group) or the weight gradient (OP_DW_W:
    acc[co, k] += sum of gy[co] * shifted x)."""
    cdef index_t grp = u % g.G, n = u // g.G
    cdef index_t OW = g.osz[2], O1 = g.osz[1], KL = g.KL, OL = g.OL, K2 = g.ksz[2]
    cdef index_t P1 = g.isz[1] + 2 * g.pd[1], P2 = g.isz[2] + 2 * g.pd[2]
    cdef index_t P0 = g.isz[0] + 2 * g.pd[0], s2 = g.st[2], d2 = g.dl[2]
    cdef index_t j, co, kd, kh, kw, k, l, od, oh, ow, kb
    cdef real* xp = ws
    cdef real* lacc = ws + P0 * P1 * P2            # OP_DW_W: KL rows of OW partial sums
    cdef const real* wk = NULL
    cdef const real* xrow
    cdef real* yrow
    cdef real* yc = NULL
    cdef const real* gyrow
    cdef real bv, tot
    _dw_pad(<const real*>g.x + (n * g.C + grp) * g.IL, xp, g)
    for j in range(g.Cog):
        co = grp * g.Cog + j
        if g.op == OP_DW:
            yc = <real*>g.y + (n * g.Co + co) * OL
            bv = (<const real*>g.b)[co] if g.b != NULL else 0
            wk = <const real*>g.w + co * KL
            if (g.osz[0] == 1 and g.pd[0] == 0 and g.ksz[0] == 1 and g.ksz[1] == 3
                    and g.ksz[2] == 3 and s2 == 1):
                # 3x3, unit stride along rows: all nine taps in one pass per output row
                for l in range(g.nlines):
                    xrow = xp + (l * g.st[1]) * P2
                    if real is float:
                        rt_dw33_f(yc + l * OW, xrow, xrow + g.dl[1] * P2,
                                  xrow + 2 * g.dl[1] * P2, wk, bv, d2, OW)
                    else:
                        rt_dw33_d(yc + l * OW, xrow, xrow + g.dl[1] * P2,
                                  xrow + 2 * g.dl[1] * P2, wk, bv, d2, OW)
                if g.relu:
                    _epilogue(yc, NULL, True, 1, 0, 0, OL)
                continue
            for ow in range(OL):
                yc[ow] = bv
        else:
            memset(lacc, 0, KL * OW * sizeof(real))
        od = 0
        oh = 0
        for l in range(g.nlines):
            yrow = yc + l * OW
            gyrow = <const real*>g.gy + (n * g.Co + co) * OL + l * OW
            k = 0
            for kd in range(g.ksz[0]):
                for kh in range(g.ksz[1]):
                    xrow = xp + ((od * g.st[0] + kd * g.dl[0]) * P1 + oh * g.st[1]
                                 + kh * g.dl[1]) * P2
                    if g.op == OP_DW:
                        kb = 0
                        if s2 == 1:
                            while kb + 3 <= K2:      # three taps per pass over the row
                                _dw3(yrow, xrow + kb * d2, wk[k + kb], wk[k + kb + 1],
                                     wk[k + kb + 2], d2, OW)
                                kb += 3
                        for kw in range(kb, K2):
                            _axpy(yrow, xrow + kw * d2, wk[k + kw], OW, s2)
                    else:
                        kb = 0
                        if s2 == 1:
                            while kb + 3 <= K2:      # three taps per pass over the row
                                if real is float:
                                    rt_dw3w_f(lacc + (k + kb) * OW, lacc + (k + kb + 1) * OW,
                                              lacc + (k + kb + 2) * OW, gyrow,
                                              xrow + kb * d2, d2, OW)
                                else:
                                    rt_dw3w_d(lacc + (k + kb) * OW, lacc + (k + kb + 1) * OW,
                                              lacc + (k + kb + 2) * OW, gyrow,
                                              xrow + kb * d2, d2, OW)
                                kb += 3
                        for kw in range(kb, K2):
                            _mul_acc(lacc + (k + kw) * OW, gyrow, xrow + kw * d2, OW, s2)
                    k += K2
            oh += 1
            if oh == O1:
                oh = 0
                od += 1
        if g.op == OP_DW and g.relu:
            _epilogue(yc, NULL, True, 1, 0, 0, OL)
        if g.op == OP_DW_W:
            for k in range(KL):
                tot = 0
                for ow in range(OW):
                    tot += lacc[k * OW + ow]
                acc[co * KL + k] += tot


cdef void _chunk(const Geo* g, real* dummy, index_t ch) noexcept nogil:
    cdef index_t u, u0 = ch * g.units // g.nchunks, u1 = (ch + 1) * g.units // g.nchunks
    cdef real* ws = NULL
    cdef real* acc = NULL
    if g.ws != NULL:
        ws = <real*>g.ws + ch * g.ws_elems
    if g.op == OP_WGRAD:
        acc = <real*>g.acc + ch * g.Co * g.CKL
        memset(acc, 0, g.Co * g.CKL * sizeof(real))
    if g.op == OP_WINO:
        for u in range(u0, u1):
            _wino_unit(g, ws, u)
        return
    if g.op == OP_DW or g.op == OP_DW_W:
        if g.op == OP_DW_W:
            acc = <real*>g.acc + ch * g.Co * g.KL
            memset(acc, 0, g.Co * g.KL * sizeof(real))
        for u in range(u0, u1):
            _dw_unit(g, ws, acc, u)
        return
    if g.op == OP_WINO_W:
        acc = <real*>g.acc + ch * 16 * g.Co * g.Cg
        memset(acc, 0, 16 * g.Co * g.Cg * sizeof(real))
        for u in range(u0, u1):
            _wino_wunit(g, ws, acc, u)
        return
    for u in range(u0, u1):
        _unit(g, ws, acc, u)


cdef void _task(void* ctx, index_t begin, index_t end) noexcept nogil:
    cdef const Geo* g = <const Geo*>ctx
    cdef index_t ch
    for ch in range(begin, end):
        if g.dt == DT_FLOAT32:
            _chunk(g, <float*>NULL, ch)
        else:
            _chunk(g, <double*>NULL, ch)


# ---------------------------------------------------------------------------------------
# planning

# columns per buffer: about this many bytes (an L2-sized block keeps im2col's writes in cache
# for the GEMM that reads them)
cdef index_t COL_BYTES = 1 << 20
# below this many multiply-adds (or copied elements for im2col/col2im) a call runs on the
# calling thread
cdef index_t SERIAL_WORK = 1 << 17
cdef index_t CHUNKS_PER_THREAD = 4


cdef int _threads() noexcept:
    """The configured thread count (set_num_threads), not _parallel.num_threads(): while the
    pool backs off, that is 1 and a kernel that then never calls parallel_for would never let
    the back-off end; parallel_for itself runs the chunks serially meanwhile."""
    try:
        return _get_num_threads()
    except Exception:
        return 1


cdef void _plan(Geo* g, index_t per_part_bytes, index_t count, index_t outer,
                index_t work) noexcept:
    """Parts of `count` (lines or channels) per outer unit, and chunks. per_part_bytes: the
    column-buffer bytes one line/channel needs (0: no buffer)."""
    cdef int nt = _threads()
    cdef index_t per, nparts
    per = count
    if per_part_bytes > 0:
        per = COL_BYTES // per_part_bytes
        if per < 1:
            per = 1
        if per > count:
            per = count
    if per < 1:
        per = 1
    nparts = (count + per - 1) // per
    if nt > 1 and work >= SERIAL_WORK and outer * nparts < nt and count > nparts:
        # too few units for the threads: cut the parts thinner
        nparts = (nt + outer - 1) // outer
        if nparts > count:
            nparts = count
        per = (count + nparts - 1) // nparts
        nparts = (count + per - 1) // per
    if nparts < 1:
        nparts = 1
    g.part_len = per
    g.nparts = nparts
    g.units = outer * nparts
    g.nchunks = 1
    if nt > 1 and work >= SERIAL_WORK:
        g.nchunks = g.units if g.units < CHUNKS_PER_THREAD * nt else CHUNKS_PER_THREAD * nt
    if g.nchunks < 1:
        g.nchunks = 1


cdef list _sizes(Tensor t):
    return [t._shape[i] for i in range(t._ndim)]


cdef Tensor _arg(object t, str name):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a Tensor, not {type(t).__name__}")
    return <Tensor>t


cdef Tensor _prep(Tensor t, int dt):
    """t as a contiguous tensor of dtype dt (a copy only when needed)."""
    cdef Tensor r
    if t._dtype == dt and t.is_contig():
        return t
    r = new_tensor(dt, t._ndim, t._shape, False)
    copy_into(r, t)
    return r


cdef int _compute_dtype(Tensor a, Tensor b, str fname) except -1:
    if a._dtype != b._dtype:
        raise RuntimeError(f"{fname}: expected tensors of the same dtype, got "
                           f"{dtype_of(a._dtype)} and {dtype_of(b._dtype)}")
    if a._dtype == DT_FLOAT32 or a._dtype == DT_FLOAT64:
        return a._dtype
    if a._dtype == DT_FLOAT16 or a._dtype == DT_BFLOAT16:
        return DT_FLOAT32
    raise NotImplementedError(f'"{fname}" not implemented for \'{dtype_of(a._dtype).scalar_name}\'')


cdef int _params(Geo* g, int D, object kernel, object stride, object padding,
                 object dilation) except -1:
    """K, S, P, Dl (3-d, leading 1s / 0s) from D-long sequences; checks their values."""
    cdef int i, j
    ks = [int(v) for v in kernel]
    ss = [int(v) for v in stride]
    ps = [int(v) for v in padding]
    ds = [int(v) for v in dilation]
    if len(ks) != D or len(ss) != D or len(ps) != D or len(ds) != D:
        raise RuntimeError(f"expected kernel_size, stride, padding and dilation of length {D}, "
                           f"got {ks}, {ss}, {ps}, {ds}")
    for i in range(3):
        g.ksz[i] = 1
        g.st[i] = 1
        g.pd[i] = 0
        g.dl[i] = 1
    for i in range(D):
        j = 3 - D + i
        if ks[i] < 0 or ss[i] <= 0 or ps[i] < 0 or ds[i] <= 0:
            raise RuntimeError(f"invalid convolution parameters: kernel_size={ks}, stride={ss}, "
                               f"padding={ps}, dilation={ds}")
        g.ksz[j] = ks[i]
        g.st[j] = ss[i]
        g.pd[j] = ps[i]
        g.dl[j] = ds[i]
    return 0


cdef int _spatial(Geo* g, int D, Tensor t, index_t* dst) except -1:
    cdef int i
    for i in range(3):
        dst[i] = 1
    for i in range(D):
        dst[3 - D + i] = t._shape[2 + i]
    return 0


cdef int _out_sizes(Geo* g, str fname) except -1:
    """O from I and the parameters; every size >= 1 (or the input is empty of lines)."""
    cdef int i
    cdef index_t span
    for i in range(3):
        span = g.isz[i] + 2 * g.pd[i] - g.dl[i] * (g.ksz[i] - 1) - 1
        if span < 0:
            raise RuntimeError(f"{fname}: kernel size can't be greater than the padded input "
                               f"size (input {[g.isz[j] for j in range(3)]}, kernel "
                               f"{[g.ksz[j] for j in range(3)]})")
        g.osz[i] = span // g.st[i] + 1
    g.full_out = True
    return 0


cdef int _set_out(Geo* g, int D, list sizes, str fname) except -1:
    """Use the leading part `sizes` of the convolution output (each at most the full size):
    a transposed convolution whose output_padding reaches past the stride (it must stay below
    the dilation) is the input gradient of such a truncated convolution."""
    cdef int i
    cdef index_t o
    if len(sizes) != D:
        raise RuntimeError(f"{fname}: expected {D} output sizes, got {sizes}")
    for i in range(D):
        o = sizes[i]
        if o < 0 or o > g.osz[3 - D + i]:
            raise RuntimeError(f"{fname}: output size {sizes} does not fit the convolution's "
                               f"output size {[g.osz[3 - D + j] for j in range(D)]}")
    for i in range(D):
        if sizes[i] != g.osz[3 - D + i]:
            g.full_out = False
        g.osz[3 - D + i] = sizes[i]
    return 0


cdef int _finish(Geo* g) except -1:
    g.IL = g.isz[0] * g.isz[1] * g.isz[2]
    g.OL = g.osz[0] * g.osz[1] * g.osz[2]
    g.KL = g.ksz[0] * g.ksz[1] * g.ksz[2]
    g.CKL = g.Cg * g.KL
    g.nlines = g.osz[0] * g.osz[1]
    g.pointwise = (g.full_out and g.KL == 1 and g.st[0] == 1 and g.st[1] == 1 and g.st[2] == 1 and g.pd[0] == 0
                   and g.pd[1] == 0 and g.pd[2] == 0)
    if (g.CKL > 0x7fffffff or g.OL > 0x7fffffff or g.IL > 0x7fffffff or g.Co > 0x7fffffff
            or g.C * g.KL > 0x7fffffff):
        raise RuntimeError("convolution sizes above 2**31-1 are not supported")
    return 0


cdef Tensor _result(int dt, list shape):
    cdef index_t sh[MAX_DIMS]
    cdef int i
    for i in range(len(shape)):
        sh[i] = shape[i]
    return new_tensor(dt, len(shape), sh, False)


# all chunks' buffers together stay under this many bytes, unless that leaves fewer chunks
# than threads (then fewer, larger chunks: the pool still balances them)
cdef index_t WORKSPACE_BYTES = 64 << 20


cdef Tensor _workspace(Geo* g, index_t elems):
    """nchunks buffers of `elems` elements (from the pool); fewer chunks when they would
    take more than WORKSPACE_BYTES."""
    cdef index_t n, most
    cdef int nt
    g.ws_elems = elems
    if elems <= 0:
        g.ws = NULL
        return None
    most = WORKSPACE_BYTES // (elems * ITEMSIZE[g.dt])
    if g.nchunks > most:
        nt = _threads()
        g.nchunks = most if most > nt else (nt if nt < g.units else g.units)
        if g.nchunks < 1:
            g.nchunks = 1
    n = g.nchunks * elems
    cdef Tensor t = new_tensor(g.dt, 1, &n, False)
    g.ws = t.ptr()
    return t


cdef void _run(Geo* g) noexcept nogil:
    if g.nchunks <= 1:
        _task(g, 0, 1)
    else:
        parallel_for(g.nchunks, 1, _task, g)


cdef Tensor _back(Tensor r, int want):
    """r converted to dtype want (float16/bfloat16 results are computed in float32)."""
    if r._dtype == want:
        return r
    cdef Tensor o = new_tensor(want, r._ndim, r._shape, False)
    copy_into(o, r)
    return o


# ---------------------------------------------------------------------------------------
# entry points

def conv_forward(input, weight, bias, stride, padding, dilation, int groups, output_size=None,
                 bint relu=False, bint pool2=False):
    """Convolution of input (N, C, *S) with weight (Cout, C/groups, *K) (+ bias (Cout,)):
    (N, Cout, *O), O = (S + 2p - d(K-1) - 1) // s + 1 (or the leading output_size part of it).
    1 to 3 spatial dims. relu=True returns max(0, conv + bias) (PyTorch's relu: -0.0 and NaN
    kept), applied to each output block while it is in cache (an inference epilogue: the
    result records nothing for autograd). pool2=True (2-d only) returns the 2x2 stride-2 max
    pool of that instead, (N, Cout, O1 // 2, O2 // 2): the numbers of max_pool2d(y, 2); the
    im2col path pools each block in cache, without the full-size output (bit for bit when
    its blocks of output lines are as without pool2: blocks of an odd number of lines, when
    an image is split, are rounded up to pairs, and another GEMM width may round the last
    bit otherwise)."""
    cdef Tensor x = _arg(input, "input"), w = _arg(weight, "weight")
    cdef Tensor b = None if bias is None else _arg(bias, "bias")
    cdef Geo g
    cdef int D = x._ndim - 2, i, want = x._dtype
    memset(&g, 0, sizeof(Geo))
    if D < 1 or D > 3 or w._ndim != x._ndim:
        raise RuntimeError(f"conv_forward: expected input (N, C, *S) with 1 to 3 spatial dims "
                           f"and a weight of the same rank, got {_sizes(x)} and {_sizes(w)}")
    g.dt = _compute_dtype(x, w, "conv_forward")
    if groups < 1 or w._shape[0] % groups != 0 or x._shape[1] != w._shape[1] * groups:
        raise RuntimeError(f"conv_forward: input {_sizes(x)}, weight {_sizes(w)} and "
                           f"groups={groups} do not match")
    if b is not None and (b._ndim != 1 or b._shape[0] != w._shape[0] or b._dtype != x._dtype):
        raise RuntimeError(f"conv_forward: expected a bias of {w._shape[0]} elements of the "
                           f"input's dtype, got {_sizes(b)}")
    if pool2 and (D != 2 or output_size is not None):
        raise RuntimeError(f"conv_forward: pool2 needs a 2-d convolution of full output size, "
                           f"got {D} spatial dims")
    return _back(_forward(x, w, b, D, stride, padding, dilation, groups, g.dt, output_size,
                          relu, pool2), want)


cdef Tensor _forward(Tensor x, Tensor w, Tensor b, int D, stride, padding, dilation, int groups,
                     int dt, output_size=None, bint relu=False, bint pool2=False):
    """conv_forward after validation, computed in dtype dt."""
    cdef Geo g
    cdef int i
    memset(&g, 0, sizeof(Geo))
    g.dt = dt
    g.op = OP_FWD
    g.relu = relu
    g.N = x._shape[0]
    g.C = x._shape[1]
    g.Co = w._shape[0]
    g.G = groups
    g.Cg = g.C // groups
    g.Cog = g.Co // groups
    _params(&g, D, [w._shape[2 + i] for i in range(D)], stride, padding, dilation)
    _spatial(&g, D, x, g.isz)
    _out_sizes(&g, "conv_forward")
    if output_size is not None:
        _set_out(&g, D, [int(v) for v in output_size], "conv_forward")
    _finish(&g)
    cdef list oshape = [g.N, g.Co] + [g.osz[3 - D + i] for i in range(D)]
    cdef Tensor y, yp = None
    if pool2:
        yp = _result(g.dt, [g.N, g.Co, g.osz[1] // 2, g.osz[2] // 2])
        if yp._numel == 0:
            return yp
        g.yp = yp.ptr()
        if (g.N > POOL2_FUSED_MAX_BATCH or _use_depthwise(&g)
                or (_use_winograd(&g) and _winograd_pays_forward(&g))):
            # the full output, then its pool: those paths write whole planes, and from a
            # few images on, one pool pass over all of them is as fast (measured below)
            y = _forward(x, w, b, D, stride, padding, dilation, groups, dt, None, relu)
            _pool2_planes(&g, y)
            return yp
        g.pool2 = True
        y = yp
    else:
        y = _result(g.dt, oshape)
        if y._numel == 0:
            return y
    x = _prep(x, g.dt)
    w = _prep(w, g.dt)
    if b is not None:
        b = _prep(b, g.dt)
        g.b = b.ptr()
    g.x = x.ptr()
    g.w = w.ptr()
    g.y = y.ptr()
    _load_blas()
    cdef Tensor U
    cdef index_t un
    if _use_depthwise(&g):
        g.op = OP_DW
        _plan(&g, 0, 1, g.N * g.G, g.N * g.Co * g.OL * g.CKL)
        ws = _workspace(&g, _dw_plane(&g))
    elif _use_winograd(&g) and _winograd_pays_forward(&g):
        g.op = OP_WINO
        g.TH = (g.osz[1] + 1) // 2
        g.TW = (g.osz[2] + 1) // 2
        g.ntiles = g.TH * g.TW
        un = 16 * g.Co * g.Cg
        U = new_tensor(g.dt, 1, &un, False)
        with nogil:
            if g.dt == DT_FLOAT32:
                _wino_weights(<const float*>g.w, <float*>U.ptr(), g.Co, g.Cg)
            else:
                _wino_weights(<const double*>g.w, <double*>U.ptr(), g.Co, g.Cg)
        g.w = U.ptr()
        # rows of tiles per unit: V and M (16 x (Cg + Cog) x tiles) about COL_BYTES
        _plan(&g, 16 * (g.Cg + g.Cog) * g.TW * ITEMSIZE[g.dt], g.TH, g.N * g.G,
              g.N * g.Co * g.OL * g.CKL)
        ws = _workspace(&g, 16 * (g.Cg + g.Cog) * g.part_len * g.TW + _wino_scratch(g.TW))
    elif g.pool2:
        # each part's columns and its GEMM block (Cog x lines) in the chunk's buffer, whole
        # pairs of lines per part
        _plan(&g, ((0 if g.pointwise else g.CKL) + g.Cog) * g.osz[2] * ITEMSIZE[g.dt],
              g.nlines, g.N * g.G, g.N * g.Co * g.OL * g.CKL)
        if g.part_len % 2 == 1 and g.part_len < g.nlines:
            g.part_len += 1
            g.nparts = (g.nlines + g.part_len - 1) // g.part_len
            g.units = g.N * g.G * g.nparts
            if g.nchunks > g.units:
                g.nchunks = g.units
        g.blk_off = 0 if g.pointwise else g.CKL * g.part_len * g.osz[2]
        ws = _workspace(&g, g.blk_off + g.Cog * g.part_len * g.osz[2])
    else:
        _plan(&g, 0 if g.pointwise else g.CKL * g.osz[2] * ITEMSIZE[g.dt], g.nlines, g.N * g.G,
              g.N * g.Co * g.OL * g.CKL)
        ws = _workspace(&g, 0 if g.pointwise else g.CKL * g.part_len * g.osz[2])
    with nogil:
        _run(&g)
    return y


# pool2 pools each GEMM block in its epilogue up to this batch size; above it the full output
# is pooled in one pass. Measured (float32, 3x3 pad 1 + relu + 2x2 pool, fused / unfused):
# 1x1x28x28 -> 16 0.83, 1x16x14x14 -> 32 0.87 (2 threads), batch 4 0.77-0.98, batch 16
# 0.99-1.03, batch 64 1.01-1.17.
cdef index_t POOL2_FUSED_MAX_BATCH = 8

# Winograd pays when the GEMMs are not too thin (measured: benchmarks/bench_nn_conv.py)
cdef index_t WINO_MIN_CHANNELS = 16
cdef bint WINO_ENABLED = True


cdef bint _winograd_pays_forward(const Geo* g) noexcept:
    """Whether Winograd beats im2col for a forward (or stride-1 input-gradient) 3x3
    convolution of this output size and channel count. Measured (float32, 1 thread, batch
    32, wino/im2col time): at 28x28 outputs Winograd wins for 16 to 32 channels (0.66 to
    0.80); at 8x8 it pays only for wide GEMMs (32 x 64 channels 0.95, 64 x 64 fwd+bwd
    0.94; 16 to 32 channels 1.01 to 1.40); at 14x14 it loses with 16 input channels (1.03 to
    1.22) and wins from 32, or from 24 with 32 output channels (0.72 to 0.86)."""
    cdef index_t pixels = g.osz[1] * g.osz[2]
    if pixels >= 400:
        return True
    if pixels < 100:
        return g.Cg >= 32 and g.Cog >= 32 and g.Cg * g.Cog >= 2048
    return g.Cg >= 32 or (g.Cg >= 24 and g.Cog >= 32)


cdef bint _use_depthwise(const Geo* g) noexcept:
    return g.Cg == 1 and g.G > 1 and g.Cog <= 4 and g.full_out


cdef index_t _dw_plane(const Geo* g) noexcept:
    return ((g.isz[0] + 2 * g.pd[0]) * (g.isz[1] + 2 * g.pd[1]) * (g.isz[2] + 2 * g.pd[2]))


cdef bint _use_winograd(const Geo* g) noexcept:
    return (WINO_ENABLED and g.full_out and g.isz[0] == 1 and g.osz[0] == 1 and g.pd[0] == 0
            and g.ksz[0] == 1 and g.ksz[1] == 3
            and g.ksz[2] == 3 and g.st[1] == 1 and g.st[2] == 1 and g.dl[1] == 1
            and g.dl[2] == 1 and g.Cg >= WINO_MIN_CHANNELS and g.Cog >= WINO_MIN_CHANNELS)


cdef Tensor _flip_transpose(Tensor w, int groups, int dt):
    """w (G*Cog, Cg, *K) -> (G*Cg, Cog, *K) with the kernel reversed: the weight of the
    convolution that computes a stride-1 convolution's input gradient."""
    cdef index_t Co = w._shape[0], Cg = w._shape[1], Cog = Co // groups, KL = 1
    cdef index_t grp, co, ci, k
    cdef int i
    for i in range(2, w._ndim):
        KL *= w._shape[i]
    w = _prep(w, dt)
    cdef index_t shape[MAX_DIMS]
    shape[0] = Cg * groups
    shape[1] = Cog
    for i in range(2, w._ndim):
        shape[i] = w._shape[i]
    cdef Tensor r = new_tensor(dt, w._ndim, shape, False)
    cdef char* src = w.ptr()
    cdef char* dst = r.ptr()
    with nogil:
        for grp in range(groups):
            for co in range(Cog):
                for ci in range(Cg):
                    if dt == DT_FLOAT32:
                        for k in range(KL):
                            (<float*>dst)[((grp * Cg + ci) * Cog + co) * KL + KL - 1 - k] = \
                                (<float*>src)[((grp * Cog + co) * Cg + ci) * KL + k]
                    else:
                        for k in range(KL):
                            (<double*>dst)[((grp * Cg + ci) * Cog + co) * KL + KL - 1 - k] = \
                                (<double*>src)[((grp * Cog + co) * Cg + ci) * KL + k]
    return r


def conv_backward_input(grad_output, weight, input_size, stride, padding, dilation, int groups,
                        bias=None):
    """Gradient of conv_forward w.r.t. its input, shaped (N, Cg * groups, *input_size), plus
    bias (one value per result channel) when given: the forward of a transposed convolution.
    grad_output (N, Cout, *O) must have O = conv_forward's output size for input_size."""
    cdef Tensor gy = _arg(grad_output, "grad_output"), w = _arg(weight, "weight")
    cdef Tensor b = None if bias is None else _arg(bias, "bias")
    cdef Geo g
    cdef int D = gy._ndim - 2, i, want = gy._dtype
    memset(&g, 0, sizeof(Geo))
    isz = [int(v) for v in input_size]
    if D < 1 or D > 3 or w._ndim != gy._ndim or len(isz) != D:
        raise RuntimeError(f"conv_backward_input: expected grad_output (N, C, *O) with 1 to 3 "
                           f"spatial dims, a weight of the same rank and {D} input sizes, got "
                           f"{_sizes(gy)}, {_sizes(w)} and {isz}")
    g.dt = _compute_dtype(gy, w, "conv_backward_input")
    if groups < 1 or w._shape[0] % groups != 0 or gy._shape[1] != w._shape[0]:
        raise RuntimeError(f"conv_backward_input: grad_output {_sizes(gy)}, weight {_sizes(w)} "
                           f"and groups={groups} do not match")
    if b is not None and (b._ndim != 1 or b._shape[0] != w._shape[1] * groups
                          or b._dtype != gy._dtype):
        raise RuntimeError(f"conv_backward_input: expected a bias of {w._shape[1] * groups} "
                           f"elements of grad_output's dtype, got {_sizes(b)}")
    if any(v < 0 for v in isz):
        raise RuntimeError(f"conv_backward_input: invalid input size {isz}")
    g.op = OP_IGRAD
    g.N = gy._shape[0]
    g.Co = w._shape[0]
    g.G = groups
    g.Cg = w._shape[1]
    g.C = g.Cg * groups
    g.Cog = g.Co // groups
    _params(&g, D, [w._shape[2 + i] for i in range(D)], stride, padding, dilation)
    for i in range(3):
        g.isz[i] = 1
    for i in range(D):
        g.isz[3 - D + i] = isz[i]
    _out_sizes(&g, "conv_backward_input")
    _set_out(&g, D, [gy._shape[2 + i] for i in range(D)], "conv_backward_input")
    _finish(&g)
    if _igrad_as_conv(&g):
        # a stride-1 convolution's input gradient is the convolution of grad_output with the
        # flipped, transposed kernel (padding d*(k-1) - p): im2col's fast path, no col2im
        return _back(_forward(gy, _flip_transpose(w, groups, g.dt), b, D, [1] * D,
                              [g.dl[3 - D + i] * (g.ksz[3 - D + i] - 1) - g.pd[3 - D + i]
                               for i in range(D)],
                              [g.dl[3 - D + i] for i in range(D)], groups, g.dt), want)
    cdef list oshape = [g.N, g.C] + isz
    cdef Tensor y = _result(g.dt, oshape)
    if y._numel == 0:
        return _back(y, want)
    gy = _prep(gy, g.dt)
    w = _prep(w, g.dt)
    if b is not None:
        b = _prep(b, g.dt)
        g.b = b.ptr()
    g.x = gy.ptr()
    g.w = w.ptr()
    g.y = y.ptr()
    _load_blas()
    _plan(&g, 0 if g.pointwise else g.KL * g.OL * ITEMSIZE[g.dt], g.Cg, g.N * g.G,
          g.N * g.Co * g.OL * g.CKL)
    ws = _workspace(&g, 0 if g.pointwise else g.part_len * g.KL * g.OL)
    with nogil:
        _run(&g)
    return _back(y, want)


def conv_backward_weight(input, grad_output, kernel_size, stride, padding, dilation, int groups):
    """Gradient of conv_forward w.r.t. its weight: (Cout, C / groups, *kernel_size), from the
    input (N, C, *S) and grad_output (N, Cout, *O)."""
    cdef Tensor x = _arg(input, "input"), gy = _arg(grad_output, "grad_output")
    cdef Geo g
    cdef int D = x._ndim - 2, i, want = x._dtype
    cdef index_t ch, j, n, wn
    memset(&g, 0, sizeof(Geo))
    if D < 1 or D > 3 or gy._ndim != x._ndim or gy._shape[0] != x._shape[0]:
        raise RuntimeError(f"conv_backward_weight: expected input (N, C, *S) with 1 to 3 "
                           f"spatial dims and grad_output (N, Cout, *O), got {_sizes(x)} and "
                           f"{_sizes(gy)}")
    g.dt = _compute_dtype(x, gy, "conv_backward_weight")
    if groups < 1 or x._shape[1] % groups != 0 or gy._shape[1] % groups != 0:
        raise RuntimeError(f"conv_backward_weight: input {_sizes(x)}, grad_output "
                           f"{_sizes(gy)} and groups={groups} do not match")
    g.op = OP_WGRAD
    g.N = x._shape[0]
    g.C = x._shape[1]
    g.Co = gy._shape[1]
    g.G = groups
    g.Cg = g.C // groups
    g.Cog = g.Co // groups
    _params(&g, D, kernel_size, stride, padding, dilation)
    _spatial(&g, D, x, g.isz)
    _out_sizes(&g, "conv_backward_weight")
    _set_out(&g, D, [gy._shape[2 + i] for i in range(D)], "conv_backward_weight")
    _finish(&g)
    cdef list wshape = [g.Co, g.Cg] + [g.ksz[3 - D + i] for i in range(D)]
    cdef Tensor r = _result(g.dt, wshape)
    if r._numel == 0:
        return _back(r, want)
    if g.N == 0 or g.OL == 0:
        memset(r.ptr(), 0, r._numel * ITEMSIZE[g.dt])
        return _back(r, want)
    x = _prep(x, g.dt)
    gy = _prep(gy, g.dt)
    g.x = x.ptr()
    g.gy = gy.ptr()
    _load_blas()
    if _use_winograd(&g):
        return _back(_wgrad_winograd(&g, r), want)
    if _use_depthwise(&g):
        return _back(_wgrad_depthwise(&g, r), want)
    _plan(&g, 0 if g.pointwise else g.CKL * g.osz[2] * ITEMSIZE[g.dt], g.nlines, g.N * g.G,
          g.N * g.Co * g.OL * g.CKL)
    wn = g.Co * g.CKL
    _cap_partials(&g, wn)
    ws = _workspace(&g, 0 if g.pointwise else g.CKL * g.part_len * g.osz[2])
    cdef Tensor acc = r
    if g.nchunks > 1:
        n = g.nchunks * wn
        acc = new_tensor(g.dt, 1, &n, False)
    g.acc = acc.ptr()
    with nogil:
        _run(&g)
        if g.nchunks > 1:
            # partial sums in chunk order
            if g.dt == DT_FLOAT32:
                _sum_partials(<float*>r.ptr(), <const float*>g.acc, g.nchunks, wn)
            else:
                _sum_partials(<double*>r.ptr(), <const double*>g.acc, g.nchunks, wn)
    return _back(r, want)


# the weight gradient's partial sums (one per chunk) stay under this many bytes, unless that
# leaves fewer chunks than threads
cdef index_t PARTIAL_BYTES = 32 << 20


cdef void _cap_partials(Geo* g, index_t per_chunk) noexcept:
    cdef int nt = _threads()
    cdef index_t most = PARTIAL_BYTES // (per_chunk * ITEMSIZE[g.dt] if per_chunk > 0 else 1)
    if most < nt:
        most = nt
    if g.nchunks > most:
        g.nchunks = most


cdef bint _igrad_as_conv(const Geo* g) noexcept:
    cdef int i
    if g.pointwise or not g.full_out or g.Cog > 2 * g.Cg or g.N == 0 or g.C == 0:
        return False
    for i in range(3):
        if g.st[i] != 1 or g.pd[i] > g.dl[i] * (g.ksz[i] - 1):
            return False
    return True


cdef Tensor _wgrad_depthwise(Geo* g, Tensor r):
    cdef index_t n, pn
    cdef Tensor acc
    g.op = OP_DW_W
    _plan(g, 0, 1, g.N * g.G, g.N * g.Co * g.OL * g.CKL)
    pn = g.Co * g.KL
    _cap_partials(g, pn)
    ws = _workspace(g, _dw_plane(g) + g.KL * g.osz[2])
    n = g.nchunks * pn
    acc = new_tensor(g.dt, 1, &n, False)
    g.acc = acc.ptr()
    with nogil:
        _run(g)
        if g.dt == DT_FLOAT32:
            _sum_partials(<float*>r.ptr(), <const float*>g.acc, g.nchunks, pn)
        else:
            _sum_partials(<double*>r.ptr(), <const double*>g.acc, g.nchunks, pn)
    return r


cdef Tensor _wgrad_winograd(Geo* g, Tensor r):
    cdef index_t n, pn
    cdef Tensor acc
    g.op = OP_WINO_W
    g.TH = (g.osz[1] + 1) // 2
    g.TW = (g.osz[2] + 1) // 2
    g.ntiles = g.TH * g.TW
    _plan(g, 16 * (g.Cg + g.Cog) * g.TW * ITEMSIZE[g.dt], g.TH, g.N * g.G,
          g.N * g.Co * g.OL * g.CKL)
    pn = 16 * g.Co * g.Cg
    _cap_partials(g, pn)
    ws = _workspace(g, 16 * (g.Cg + g.Cog) * g.part_len * g.TW + _wino_scratch(g.TW))
    n = g.nchunks * pn
    acc = new_tensor(g.dt, 1, &n, False)
    g.acc = acc.ptr()
    with nogil:
        _run(g)
        if g.dt == DT_FLOAT32:
            if g.nchunks > 1:
                _sum_partials(<float*>g.acc, <const float*>g.acc, g.nchunks, pn)
            _wino_wgrad_out(<const float*>g.acc, <float*>r.ptr(), g.Co, g.Cg)
        else:
            if g.nchunks > 1:
                _sum_partials(<double*>g.acc, <const double*>g.acc, g.nchunks, pn)
            _wino_wgrad_out(<const double*>g.acc, <double*>r.ptr(), g.Co, g.Cg)
    return r


cdef struct SumCtx:
    char* out
    const char* acc
    index_t nchunks, n
    int dt


cdef void _sum_range(real* out, const real* acc, index_t nchunks, index_t n, index_t b,
                     index_t e) noexcept nogil:
    """out[b:e] = sum over the chunks' partial sums (in chunk order)."""
    cdef index_t ch, j
    cdef const real* p
    if out != acc:
        memcpy(out + b, acc + b, (e - b) * sizeof(real))
    for ch in range(1, nchunks):
        p = acc + ch * n
        for j in range(b, e):
            out[j] += p[j]


cdef void _sum_task(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef SumCtx* c = <SumCtx*>ctx
    if c.dt == DT_FLOAT32:
        _sum_range(<float*>c.out, <const float*>c.acc, c.nchunks, c.n, b, e)
    else:
        _sum_range(<double*>c.out, <const double*>c.acc, c.nchunks, c.n, b, e)


cdef void _sum_partials(real* out, const real* acc, index_t nchunks, index_t n) noexcept nogil:
    """out = the sum of nchunks partial sums of n elements each (out may be acc's first),
    split over the pool when it is big."""
    cdef SumCtx c
    c.out = <char*>out
    c.acc = <const char*>acc
    c.nchunks = nchunks
    c.n = n
    c.dt = DT_FLOAT32 if real is float else DT_FLOAT64
    parallel_for(n, 8192, _sum_task, &c)


def im2col(input, kernel_size, dilation, padding, stride):
    """torch's unfold for (N, C, *S) with 1 to 3 spatial dims: (N, C * prod(K), L) with L the
    number of kernel positions (rows ordered (c, k...), columns in output order)."""
    cdef Tensor x = _arg(input, "input")
    cdef Geo g
    cdef int D = x._ndim - 2, want = x._dtype
    memset(&g, 0, sizeof(Geo))
    if D < 1 or D > 3:
        raise RuntimeError(f"im2col: expected input (N, C, *S) with 1 to 3 spatial dims, got "
                           f"{_sizes(x)}")
    g.dt = _compute_dtype(x, x, "im2col")
    g.op = OP_IM2COL
    g.N = x._shape[0]
    g.C = x._shape[1]
    g.Co = g.C
    g.G = 1
    g.Cg = g.C
    g.Cog = g.C
    _params(&g, D, kernel_size, stride, padding, dilation)
    _spatial(&g, D, x, g.isz)
    _out_sizes(&g, "im2col")
    _finish(&g)
    cdef Tensor y = _result(g.dt, [g.N, g.C * g.KL, g.OL])
    if y._numel == 0:
        return _back(y, want)
    x = _prep(x, g.dt)
    g.x = x.ptr()
    g.y = y.ptr()
    _plan(&g, 0, g.C, g.N, g.N * g.C * g.KL * g.OL)
    with nogil:
        _run(&g)
    return _back(y, want)


def col2im(input, output_size, kernel_size, dilation, padding, stride):
    """torch's fold: (N, C * prod(K), L) columns summed into (N, C, *output_size)."""
    cdef Tensor x = _arg(input, "input")
    cdef Geo g
    cdef int D, i, want = x._dtype
    memset(&g, 0, sizeof(Geo))
    osz = [int(v) for v in output_size]
    D = len(osz)
    if D < 1 or D > 3 or x._ndim != 3 or any(v < 0 for v in osz):
        raise RuntimeError(f"col2im: expected input (N, C*K, L) and 1 to 3 output sizes, got "
                           f"{_sizes(x)} and {osz}")
    g.dt = _compute_dtype(x, x, "col2im")
    g.op = OP_COL2IM
    _params(&g, D, kernel_size, stride, padding, dilation)
    for i in range(3):
        g.isz[i] = 1
    for i in range(D):
        g.isz[3 - D + i] = osz[i]
    _out_sizes(&g, "col2im")
    g.KL = g.ksz[0] * g.ksz[1] * g.ksz[2]
    if g.KL == 0 or x._shape[1] % g.KL != 0 or x._shape[2] != g.osz[0] * g.osz[1] * g.osz[2]:
        raise RuntimeError(f"col2im: input {_sizes(x)} does not match kernel "
                           f"{[g.ksz[3 - D + j] for j in range(D)]} and {g.osz[0] * g.osz[1] * g.osz[2]} "
                           f"blocks")
    g.N = x._shape[0]
    g.C = x._shape[1] // g.KL
    g.Co = g.C
    g.G = 1
    g.Cg = g.C
    g.Cog = g.C
    _finish(&g)
    cdef Tensor y = _result(g.dt, [g.N, g.C] + osz)
    if y._numel == 0:
        return _back(y, want)
    x = _prep(x, g.dt)
    g.x = x.ptr()
    g.y = y.ptr()
    _plan(&g, 0, g.C, g.N, g.N * g.C * g.KL * g.OL)
    with nogil:
        _run(&g)
    return _back(y, want)


def _tuning(col_bytes=None, serial_work=None, chunks_per_thread=None, winograd=None,
            wino_min_channels=None):
    """Read (and, for experiments, set) the column-buffer size, the serial threshold, the
    chunks per thread and the Winograd switch."""
    global COL_BYTES, SERIAL_WORK, CHUNKS_PER_THREAD, WINO_ENABLED, WINO_MIN_CHANNELS
    if winograd is not None:
        WINO_ENABLED = bool(winograd)
    if wino_min_channels is not None:
        WINO_MIN_CHANNELS = max(1, int(wino_min_channels))
    if chunks_per_thread is not None:
        CHUNKS_PER_THREAD = max(1, int(chunks_per_thread))
    if col_bytes is not None:
        COL_BYTES = max(1, int(col_bytes))
    if serial_work is not None:
        SERIAL_WORK = max(1, int(serial_work))
    return {"col_bytes": COL_BYTES, "serial_work": SERIAL_WORK,
            "chunks_per_thread": CHUNKS_PER_THREAD, "winograd": WINO_ENABLED,
            "wino_min_channels": WINO_MIN_CHANNELS}
