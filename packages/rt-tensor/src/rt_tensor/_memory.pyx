# cython: language_level=3
"""A caching allocator with size classes, after PyTorch's CPU caching idea.

Freed blocks go onto a free list of their size class and are handed out again, so a
training loop reaches the OS only in its first steps. Classes are 64 bytes and then four
per power of two (at most 25% slack). Cached bytes are bounded by a limit (default 1 GiB,
``RT_POOL_CACHE_LIMIT`` bytes, or ``set_cache_limit``); a block freed above the limit goes
back to the OS. A spinlock makes the pool thread-safe; the critical sections are a few
pointer moves.
"""
include "build_stamp.pxi"
import os


from libc.string cimport memset
from libc.stdint cimport uint64_t
from rt_tensor._types cimport index_t

cdef extern from *:
    """
    static volatile int rt_pool_lock_word = 0;
    static inline void rt_pool_lock(void) {
        while (__atomic_exchange_n(&rt_pool_lock_word, 1, __ATOMIC_ACQUIRE)) {
            while (__atomic_load_n(&rt_pool_lock_word, __ATOMIC_RELAXED)) {
            #if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
            #endif
            }
        }
    }
    static inline void rt_pool_unlock(void) { __atomic_store_n(&rt_pool_lock_word, 0, __ATOMIC_RELEASE); }
    static inline int rt_clz64(unsigned long long x) { return __builtin_clzll(x); }
    /* Blocks of 16 MiB and more lie in 2 MiB-aligned regions advised as huge pages (numpy
     * does so from 4 MiB, alloc.c): the kernel then backs them with 2 MiB pages even where
     * transparent huge pages are "madvise"-only, which makes a memory-bound pass over them
     * faster (fewer TLB misses: an Adam step on 10M floats 5.9 -> 4.7 ms; a 16 MB MPI
     * all_reduce 11.5 -> 6 ms). Not below 16 MiB: with the kernel's default "defrag=madvise"
     * the first touch of an advised region may compact memory synchronously, and a
     * checkpoint of 4 MB tensors loaded into fresh memory took 200 ms instead of 50.
     * The block itself starts a varying multiple of 64 bytes into its region: blocks that
     * all started on a 2 MiB boundary would map the same offsets to the same cache sets, and
     * a kernel streaming several of them (Adam: param, grad, two moments) thrashed. The
     * region's start is kept in the word before the block. */
    #include <stdlib.h>
    #if defined(__linux__)
    #include <sys/mman.h>
    #endif
    #define RT_HUGE_MIN ((size_t)1 << 24)
    #define RT_HUGE_ALIGN ((size_t)1 << 21)
    #define RT_ALIGN 64                 /* every block: a cache line, AVX-512's width */
    static unsigned rt_block_colour = 0;
    static inline void* rt_block_alloc(size_t size) {
        if (size < RT_HUGE_MIN) return aligned_alloc(RT_ALIGN, size);
        /* 64 .. 4032 bytes in, a different 64-byte line (and 4 KiB offset) each time */
        size_t offset = RT_ALIGN * (1 + (size_t)((__atomic_fetch_add(&rt_block_colour, 1,
                                                               __ATOMIC_RELAXED) * 37u) % 63u));
        size_t rounded = (size + offset + RT_HUGE_ALIGN - 1) & ~(RT_HUGE_ALIGN - 1);
        char* base = (char*)aligned_alloc(RT_HUGE_ALIGN, rounded);
        if (base == NULL) return NULL;
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        madvise(base, rounded, MADV_HUGEPAGE);
    #endif
        ((void**)(base + offset))[-1] = base;
        return base + offset;
    }
    static inline void rt_block_free(void* block, size_t size) {
        free(size < RT_HUGE_MIN ? block : ((void**)block)[-1]);
    }
    """
    void rt_pool_lock() nogil
    void rt_pool_unlock() nogil
    int rt_clz64(unsigned long long x) nogil
    void* rt_block_alloc(size_t size) nogil
    void rt_block_free(void* block, size_t size) nogil

cdef enum:
    NUM_CLASSES = 256

cdef void* free_lists[NUM_CLASSES]     # singly linked through each block's first word
cdef index_t in_use_bytes = 0
cdef index_t cached_bytes = 0
cdef index_t peak_bytes = 0
cdef index_t hits = 0
cdef index_t misses = 0
cdef index_t os_frees = 0
cdef index_t cache_limit = 1 << 30

cdef inline index_t class_of(index_t nbytes) noexcept nogil:
    """Index of the smallest class holding nbytes: 64 B, then 4 classes per power of 2."""
    if nbytes <= 64:
        return 0
    cdef int p = 63 - rt_clz64(<unsigned long long>(nbytes - 1))   # 2**p < nbytes <= 2**(p+1)
    cdef index_t k = (nbytes - 1 - ((<index_t>1) << p)) >> (p - 2)  # which quarter of the octave
    return 1 + (p - 6) * 4 + k

cdef inline index_t size_of(index_t cls) noexcept nogil:
    if cls == 0:
        return 64
    cdef index_t p = (cls - 1) // 4 + 6
    cdef index_t k = (cls - 1) % 4
    return ((<index_t>1) << p) + (k + 1) * ((<index_t>1) << (p - 2))


cdef char* pool_alloc(index_t nbytes, index_t* cls_out) except? NULL:
    global in_use_bytes, cached_bytes, peak_bytes, hits, misses
    cdef index_t cls = class_of(nbytes)
    cdef index_t size = size_of(cls)
    cdef void* block = NULL
    if cls >= NUM_CLASSES:
        raise MemoryError(f"cannot allocate {nbytes} bytes")
    rt_pool_lock()
    block = free_lists[cls]
    if block != NULL:
        free_lists[cls] = (<void**>block)[0]
        cached_bytes -= size
        hits += 1
    else:
        misses += 1
    in_use_bytes += size
    if in_use_bytes > peak_bytes:
        peak_bytes = in_use_bytes
    rt_pool_unlock()
    if block == NULL:
        block = rt_block_alloc(size)
        if block == NULL:
            # give the cache back to the OS and try once more before failing
            _release_cache()
            block = rt_block_alloc(size)
            if block == NULL:
                rt_pool_lock()
                in_use_bytes -= size
                rt_pool_unlock()
                raise MemoryError(f"rt_tensor: out of memory allocating {nbytes} bytes")
    cls_out[0] = cls
    return <char*>block


cdef void pool_free(char* block, index_t cls) noexcept nogil:
    global in_use_bytes, cached_bytes, os_frees
    cdef index_t size = size_of(cls)
    cdef bint keep
    rt_pool_lock()
    in_use_bytes -= size
    keep = cached_bytes + size <= cache_limit
    if keep:
        (<void**>block)[0] = free_lists[cls]
        free_lists[cls] = block
        cached_bytes += size
    else:
        os_frees += 1
    rt_pool_unlock()
    if not keep:
        rt_block_free(block, size)


cdef void _release_cache() noexcept nogil:
    global cached_bytes
    cdef void* block
    cdef void* nxt
    cdef int i
    for i in range(NUM_CLASSES):
        rt_pool_lock()
        block = free_lists[i]
        free_lists[i] = NULL
        rt_pool_unlock()
        while block != NULL:
            nxt = (<void**>block)[0]
            rt_block_free(block, size_of(i))
            rt_pool_lock()
            cached_bytes -= size_of(i)
            rt_pool_unlock()
            block = nxt


cdef class Storage:
    """A block of memory shared by a tensor and its views. Not created directly."""

    def __cinit__(self):
        self.data = NULL
        self.nbytes = 0
        self.block_class = -1
        self.dl_managed = NULL
        self.version = 0

    def __dealloc__(self):
        if self.block_class >= 0 and self.data != NULL:
            pool_free(self.data, self.block_class)
        elif self.dl_managed != NULL:
            _release_dlpack(self.dl_managed, self.dl_versioned)
        self.data = NULL

    @property
    def nbytes(self):
        return self.nbytes

    def data_ptr(self):
        return <size_t>self.data

    def __repr__(self):
        return f"<rt_tensor Storage of {self.nbytes} bytes at 0x{<size_t>self.data:x}>"


cdef void _release_dlpack(void* managed, int versioned) noexcept:
    # DLManagedTensor: {DLTensor dl_tensor (48 bytes); void* manager_ctx; void (*deleter)(...)}
    # DLManagedTensorVersioned: {DLPackVersion (8 bytes); void* manager_ctx; deleter; flags; DLTensor}
    cdef char* p = <char*>managed
    cdef void (*deleter)(void*) noexcept nogil
    if versioned:
        deleter = (<void (**)(void*) noexcept nogil>(p + 16))[0]
    else:
        deleter = (<void (**)(void*) noexcept nogil>(p + 56))[0]
    if deleter != NULL:
        deleter(managed)


cdef Storage new_storage(index_t nbytes, bint zero):
    """A pool block of at least nbytes (at least 64, aligned to 64 bytes)."""
    cdef Storage s = Storage.__new__(Storage)
    cdef index_t cls
    s.data = pool_alloc(nbytes, &cls)
    s.block_class = cls
    s.nbytes = nbytes
    if zero and nbytes > 0:
        with nogil:
            memset(s.data, 0, nbytes)
    return s


cdef Storage external_storage(char* data, index_t nbytes, object owner):
    """Wrap memory owned by `owner` (kept alive as long as the storage)."""
    cdef Storage s = Storage.__new__(Storage)
    s.data = data
    s.nbytes = nbytes
    s.owner = owner
    return s


def stats():
    """Pool statistics: a dict with ``in_use_bytes`` (blocks held by live storages),
    ``cached_bytes`` (free blocks kept for reuse), ``peak_bytes`` (highest in_use_bytes),
    ``hits`` and ``misses`` (allocations served from the cache or from the OS),
    ``os_frees`` (blocks returned to the OS because the cache was full) and
    ``cache_limit``."""
    rt_pool_lock()
    result = dict(in_use_bytes=in_use_bytes, cached_bytes=cached_bytes, peak_bytes=peak_bytes,
                  hits=hits, misses=misses, os_frees=os_frees, cache_limit=cache_limit)
    rt_pool_unlock()
    return result


def empty_cache():
    """Return every cached free block to the OS (``torch.cuda.empty_cache``'s idea)."""
    with nogil:
        _release_cache()


def reset_peak_stats():
    """Set ``peak_bytes`` to the bytes in use now, and zero hits and misses."""
    global peak_bytes, hits, misses, os_frees
    rt_pool_lock()
    peak_bytes = in_use_bytes
    hits = misses = os_frees = 0
    rt_pool_unlock()


def set_cache_limit(limit_bytes):
    """Bound the cached (free) bytes; blocks freed above it go back to the OS."""
    global cache_limit
    limit = int(limit_bytes)
    if limit < 0:
        raise ValueError(f"set_cache_limit: limit_bytes must be >= 0, got {limit}")
    cache_limit = limit
    if cached_bytes > limit:
        empty_cache()


def get_cache_limit():
    return cache_limit


def _size_class_bytes(nbytes):
    """The block size the pool hands out for a request of nbytes (for tests and docs)."""
    return size_of(class_of(nbytes))


_env_limit = os.environ.get("RT_POOL_CACHE_LIMIT", "")
if _env_limit.isdigit():
    cache_limit = int(_env_limit)
