# cython: language_level=3
"""The process-wide thread pool; see rt_parallel.h for why it is not OpenMP."""
include "build_stamp.pxi"
import os

from rt_tensor._types cimport index_t

cdef extern from "rt_parallel.h" nogil:
    ctypedef void (*rt_task_fn)(void* ctx, index_t begin, index_t end) noexcept nogil
    void rt_parallel_for(index_t n, index_t grain, rt_task_fn fn, void* ctx)
    void rt_pool_init(int nthreads)
    void rt_set_num_threads(int n)
    int rt_get_num_threads()
    int rt_effective_threads()
    int rt_default_threads()
    ctypedef struct rt_pool_t:
        index_t stat_split, stat_alone_asleep, stat_alone_awake, stat_backoff, stat_moved
        int backoff_left
    rt_pool_t rt_pool


cdef void parallel_for(index_t n, index_t grain, task_fn fn, void* ctx) noexcept nogil:
    rt_parallel_for(n, grain, <rt_task_fn>fn, ctx)


cdef int num_threads() noexcept nogil:
    # what a kernel should plan for now: 1 while the pool backs off (see rt_parallel.h)
    return rt_effective_threads()


cdef int configured_threads() noexcept nogil:
    return rt_get_num_threads()


def set_num_threads(int n):
    """Set the number of threads used by rt_tensor kernels (including the caller).

    Like ``torch.set_num_threads``. ``n`` must be positive.
    """
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    with nogil:
        rt_set_num_threads(n)


def get_num_threads():
    """Number of threads used by rt_tensor kernels (``torch.get_num_threads``)."""
    return rt_get_num_threads()


def _pool_stats():
    """Counters of the pool's scheduling decisions since the process started, for tuning:
    jobs split over threads, split jobs the caller ran alone while the workers slept
    (``alone_asleep``) or were awake but got no CPU (``alone_awake``), jobs run serially
    while backing off, and workers moved off the caller's CPU."""
    return {"split": rt_pool.stat_split, "alone_asleep": rt_pool.stat_alone_asleep,
            "alone_awake": rt_pool.stat_alone_awake, "backoff": rt_pool.stat_backoff,
            "moved": rt_pool.stat_moved}


def _pool_force_backoff(int jobs):
    """For tests: make the next ``jobs`` parallel jobs run serially, as the pool does when its
    workers found no CPU time (the state that is otherwise reached only under contention)."""
    rt_pool.backoff_left = max(0, jobs)


def _initial_threads():
    for var in ("RT_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.strip().isdigit() and int(value) > 0:
            return int(value)
    return rt_default_threads()


rt_pool_init(_initial_threads())
