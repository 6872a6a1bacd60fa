/* rt's thread pool: one per process, shared by every kernel module through _parallel.pyx.
 *
 * Why not OpenMP (measured, see docs/performance.md): an OpenMP parallel region ends in a
 * barrier that waits for every team thread, so when another process holds a core a 2-thread
 * region waits for a descheduled thread (PyTorch stalls ~8 ms per region that way), and
 * libgomp spinning next to OpenBLAS's own pool slowed both 25-80x (BUILD-NOTES.md).
 *
 * Here work is split into chunks that threads claim with an atomic counter; the caller claims
 * chunks too and only waits for chunks another thread has actually started. A worker that is
 * not running when the job is posted claims nothing, so 2 threads are never slower than 1
 * (beyond at most one chunk); a caller left waiting for a preempted worker sleeps, which
 * lets the kernel run the worker on the caller's core. Workers spin briefly, then sleep on
 * a condition variable; when a job finds them asleep and done before they wake, they spin
 * longer (RT_WARM_SPIN_US) from then on. A worker woken onto the caller's CPU moves off it.
 * Nested calls, or calls while another Python thread holds the pool, run serially.
 */
#ifndef RT_PARALLEL_H
#define RT_PARALLEL_H
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sched.h>
#include <time.h>

#define RT_MAX_THREADS 256
/* how long the caller spins for chunks still running on other threads before it sleeps */
#define RT_SPIN_WAIT_US 30
/* how many pause instructions an idle worker spins for the next job before it sleeps */
#ifndef RT_WORKER_SPINS
#define RT_WORKER_SPINS 200
#endif
/* how long an idle worker spins (by the clock) before sleeping once a job found it asleep */
#define RT_WARM_SPIN_US 100

typedef void (*rt_task_fn)(void *ctx, int64_t begin, int64_t end);

typedef struct {
    /* job; written by the caller before it publishes a new generation in `claim` */
    rt_task_fn fn;
    void *ctx;
    int64_t n;            /* iterations */
    int64_t chunk;        /* iterations per chunk */
    int64_t nchunks;
    /* (generation << 32) | next chunk index */
    volatile uint64_t claim;
    volatile int64_t done;            /* chunks finished */
    volatile int shutdown;
    int nthreads;                     /* workers + the caller */
    int started;                      /* workers currently running */
    pthread_t threads[RT_MAX_THREADS];
    pthread_mutex_t sleep_mu;
    pthread_cond_t sleep_cv;
    volatile int sleepers;
    volatile int busy;                /* a caller holds the pool */
    volatile int caller_waiting;      /* the caller sleeps on done_cv */
    volatile int warm_spin;           /* workers spin RT_WARM_SPIN_US before sleeping */
    /* adaptive back-off: when the workers took no chunk of several jobs in a row (another
     * process holds their cores), the next jobs run serially, with exponentially rarer
     * probes; splitting work nobody helps with only costs */
    int starved_jobs;
    int backoff_len;
    int backoff_left;
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    volatile int caller_cpu;          /* the CPU the caller posted the current job from */
    /* counters for rt_tensor._parallel._pool_stats(): jobs split, jobs the caller ran alone
     * with the workers asleep / awake, jobs run serially while backing off, and workers
     * moved off the caller's CPU */
    int64_t stat_split, stat_alone_asleep, stat_alone_awake, stat_backoff, stat_moved;
} rt_pool_t;

static rt_pool_t rt_pool = {0};
static __thread int rt_in_worker = 0;
static int rt_pool_inited = 0;

static inline void rt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Claim one chunk of generation `gen`; returns its index or -1 when none is left. */
/* The claim word: generation (high 32 bits), chunks claimed from the front (bits 16-31,
 * by the caller) and from the back (bits 0-15, by the workers). The caller walks the range
 * upwards and the workers downwards, so with 2 threads each core gets the same half of the
 * data job after job, as OpenMP's static schedule does: an op that reads what the previous
 * op wrote finds its half in its own core's cache (a 100k-float abs().max() took 37 µs with
 * first-come chunks, 19 µs this way), and the halves still rebalance when one thread is
 * slow. 0xffffffff in the low bits closes a job. */
static inline int64_t rt_claim(uint32_t gen, int from_back) {
    uint64_t v = __atomic_load_n(&rt_pool.claim, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((uint32_t)(v >> 32) != gen) return -1;
        int64_t front = (int64_t)((v >> 16) & 0xffffu), back = (int64_t)(v & 0xffffu);
        if (front + back >= rt_pool.nchunks) return -1;
        uint64_t next = from_back ? v + 1 : v + ((uint64_t)1 << 16);
        if (__atomic_compare_exchange_n(&rt_pool.claim, &v, next, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return from_back ? rt_pool.nchunks - 1 - back : front;
    }
}

static inline void rt_run_chunk(rt_task_fn fn, void *ctx, int64_t idx, int64_t chunk, int64_t n) {
    int64_t b = idx * chunk, e = b + chunk;
    if (e > n) e = n;
    fn(ctx, b, e);
    __atomic_fetch_add(&rt_pool.done, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&rt_pool.caller_waiting, __ATOMIC_SEQ_CST)) {
        pthread_mutex_lock(&rt_pool.done_mu);
        pthread_cond_broadcast(&rt_pool.done_cv);
        pthread_mutex_unlock(&rt_pool.done_mu);
    }
}

/* A woken worker may be queued on the caller's CPU (Linux places wakees near the waker) and
 * then runs only by preempting the caller, so the job runs serially at best, and the load
 * balancer may leave it there for a long time when the worker mostly sleeps. A worker that
 * finds itself on the running caller's CPU moves off it: narrowing its affinity migrates it
 * at once; restoring the mask right after does not move it back. */
static void rt_leave_caller_cpu(void) {
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu != rt_pool.caller_cpu ||
        __atomic_load_n(&rt_pool.caller_waiting, __ATOMIC_SEQ_CST))
        return;
    cpu_set_t mask, others;
    if (pthread_getaffinity_np(pthread_self(), sizeof(mask), &mask) != 0) return;
    others = mask;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0) return;
    if (pthread_setaffinity_np(pthread_self(), sizeof(others), &others) == 0) {
        __atomic_fetch_add(&rt_pool.stat_moved, 1, __ATOMIC_RELAXED);
        pthread_setaffinity_np(pthread_self(), sizeof(mask), &mask);
    }
}

static inline int64_t rt_now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Whether an idle worker that has spun `spins` times since `since_us` should spin on. */
static inline int rt_keep_spinning(int spins, int64_t since_us) {
    if (spins < RT_WORKER_SPINS) return 1;
    if (!__atomic_load_n(&rt_pool.warm_spin, __ATOMIC_RELAXED)) return 0;
    return (spins & 63) || rt_now_us() - since_us < RT_WARM_SPIN_US;
}

static void *rt_worker_main(void *arg) {
    (void)arg;
    rt_in_worker = 1;
    uint32_t seen = (uint32_t)(__atomic_load_n(&rt_pool.claim, __ATOMIC_ACQUIRE) >> 32);
    for (;;) {
        /* spin for the next job, then sleep */
        int spins = 0;
        int64_t idle_since = rt_now_us();
        uint32_t gen;
        for (;;) {
            if (__atomic_load_n(&rt_pool.shutdown, __ATOMIC_ACQUIRE)) return NULL;
            gen = (uint32_t)(__atomic_load_n(&rt_pool.claim, __ATOMIC_ACQUIRE) >> 32);
            if (gen != seen) break;
            if (rt_keep_spinning(++spins, idle_since)) { rt_cpu_relax(); continue; }
            pthread_mutex_lock(&rt_pool.sleep_mu);
            __atomic_fetch_add(&rt_pool.sleepers, 1, __ATOMIC_SEQ_CST);
            while (!rt_pool.shutdown &&
                   (uint32_t)(__atomic_load_n(&rt_pool.claim, __ATOMIC_SEQ_CST) >> 32) == seen)
                pthread_cond_wait(&rt_pool.sleep_cv, &rt_pool.sleep_mu);
            __atomic_fetch_sub(&rt_pool.sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&rt_pool.sleep_mu);
            spins = 0;
            idle_since = rt_now_us();
        }
        seen = gen;
        rt_leave_caller_cpu();
        for (;;) {
            /* read the job after the generation: the caller wrote it before publishing */
            rt_task_fn fn = rt_pool.fn; void *ctx = rt_pool.ctx;
            int64_t chunk = rt_pool.chunk, n = rt_pool.n;
            int64_t idx = rt_claim(gen, 1);
            if (idx < 0) break;
            rt_run_chunk(fn, ctx, idx, chunk, n);
        }
    }
}

static void rt_pool_stop(void) {
    if (rt_pool.started == 0) return;
    __atomic_store_n(&rt_pool.shutdown, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&rt_pool.sleep_mu);
    pthread_cond_broadcast(&rt_pool.sleep_cv);
    pthread_mutex_unlock(&rt_pool.sleep_mu);
    for (int i = 0; i < rt_pool.started; i++) pthread_join(rt_pool.threads[i], NULL);
    rt_pool.started = 0;
    __atomic_store_n(&rt_pool.shutdown, 0, __ATOMIC_RELEASE);
}

static void rt_after_fork_child(void) {
    /* the child has only the forking thread: forget the workers, start new ones lazily */
    rt_pool.started = 0;
    rt_pool.sleepers = 0;
    rt_pool.busy = 0;
    rt_pool.shutdown = 0;
    pthread_mutex_init(&rt_pool.sleep_mu, NULL);
    pthread_cond_init(&rt_pool.sleep_cv, NULL);
    pthread_mutex_init(&rt_pool.done_mu, NULL);
    pthread_cond_init(&rt_pool.done_cv, NULL);
    rt_pool.caller_waiting = 0;
}

static int rt_default_threads(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int c = CPU_COUNT(&set);
        if (c > 0) return c < RT_MAX_THREADS ? c : RT_MAX_THREADS;
    }
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)(c < RT_MAX_THREADS ? c : RT_MAX_THREADS) : 1;
}

static void rt_pool_init(int nthreads) {
    if (!rt_pool_inited) {
        pthread_mutex_init(&rt_pool.sleep_mu, NULL);
        pthread_cond_init(&rt_pool.sleep_cv, NULL);
        pthread_mutex_init(&rt_pool.done_mu, NULL);
        pthread_cond_init(&rt_pool.done_cv, NULL);
        pthread_atfork(NULL, NULL, rt_after_fork_child);
        rt_pool_inited = 1;
    }
    if (nthreads < 1) nthreads = 1;
    if (nthreads > RT_MAX_THREADS) nthreads = RT_MAX_THREADS;
    rt_pool.nthreads = nthreads;
}

/* Start the workers on first use, so importing rt_tensor creates no threads. */
static void rt_pool_ensure_started(void) {
    int want = rt_pool.nthreads - 1;
    if (rt_pool.started == want) return;
    rt_pool_stop();
    for (int i = 0; i < want; i++) {
        if (pthread_create(&rt_pool.threads[i], NULL, rt_worker_main, NULL) != 0) break;
        rt_pool.started++;
    }
}

static void rt_set_num_threads(int n) {
    while (__atomic_exchange_n(&rt_pool.busy, 1, __ATOMIC_ACQUIRE)) rt_cpu_relax();
    rt_pool_stop();
    rt_pool_init(n);
    rt_pool.starved_jobs = rt_pool.backoff_len = rt_pool.backoff_left = 0;
    rt_pool.warm_spin = 0;
    __atomic_store_n(&rt_pool.busy, 0, __ATOMIC_RELEASE);
}

static int rt_get_num_threads(void) { return rt_pool.nthreads; }

/* The threads a kernel should plan for now: 1 while the pool is backing off. */
static int rt_effective_threads(void) {
    /* a kernel that plans serially here never reaches rt_parallel_for, so its run counts
     * towards the back-off too (else only such kernels would keep the pool serial forever);
     * a racy decrement from two Python threads only shortens the back-off */
    if (rt_pool.backoff_left > 0) {
        rt_pool.backoff_left--;
        rt_pool.stat_backoff++;
        return 1;
    }
    return rt_pool.nthreads;
}

/* Run fn over [0, n) in chunks of at least `grain` iterations. Serial when the work is
 * small, when called from inside a task, or when another caller holds the pool. */
static void rt_parallel_for(int64_t n, int64_t grain, rt_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int nt = rt_pool.nthreads;
    if (nt <= 1 || n - grain < grain /* n < 2 * grain, overflow-safe */ || rt_in_worker ||
        __atomic_exchange_n(&rt_pool.busy, 1, __ATOMIC_ACQUIRE)) {
        fn(ctx, 0, n);
        return;
    }
    if (rt_pool.backoff_left > 0) {
        rt_pool.backoff_left--;
        rt_pool.stat_backoff++;
        __atomic_store_n(&rt_pool.busy, 0, __ATOMIC_RELEASE);
        fn(ctx, 0, n);
        return;
    }
    rt_pool_ensure_started();
    if (rt_pool.started == 0) {
        __atomic_store_n(&rt_pool.busy, 0, __ATOMIC_RELEASE);
        fn(ctx, 0, n);
        return;
    }
    /* a few chunks per thread: small enough that a preempted thread costs little */
    int64_t nchunks = (int64_t)nt * 4;
    if (nchunks > n / grain) nchunks = n / grain;
    if (nchunks < 2) nchunks = 2;
    int64_t chunk = (n + nchunks - 1) / nchunks;
    nchunks = (n + chunk - 1) / chunk;

    rt_pool.fn = fn; rt_pool.ctx = ctx; rt_pool.n = n;
    rt_pool.chunk = chunk; rt_pool.nchunks = nchunks;
    rt_pool.caller_cpu = sched_getcpu();
    __atomic_store_n(&rt_pool.done, 0, __ATOMIC_RELEASE);
    uint64_t old = __atomic_load_n(&rt_pool.claim, __ATOMIC_ACQUIRE);
    uint32_t gen = (uint32_t)(old >> 32) + 1;
    __atomic_store_n(&rt_pool.claim, ((uint64_t)gen) << 32, __ATOMIC_SEQ_CST);
    int woke_sleepers = __atomic_load_n(&rt_pool.sleepers, __ATOMIC_SEQ_CST) > 0;
    if (woke_sleepers) {
        pthread_mutex_lock(&rt_pool.sleep_mu);
        pthread_cond_broadcast(&rt_pool.sleep_cv);
        pthread_mutex_unlock(&rt_pool.sleep_mu);
    }
    int64_t idx, mine = 0;
    rt_in_worker = 1;
    while ((idx = rt_claim(gen, 0)) >= 0) { rt_run_chunk(fn, ctx, idx, chunk, n); mine++; }
    rt_in_worker = 0;
    rt_pool.stat_split++;
    if (mine == nchunks && woke_sleepers) {
        /* The workers were asleep and woke too late. On some VMs waking a thread takes
         * longer than a whole 1e6-element job, so that says nothing about a busy machine:
         * keep the workers spinning between jobs from now on instead of backing off
         * (backing off here left 2 threads at serial speed for whole runs). */
        rt_pool.stat_alone_asleep++;
        __atomic_store_n(&rt_pool.warm_spin, 1, __ATOMIC_RELAXED);
    } else if (mine == nchunks) {
        /* The workers were awake and still took nothing: they got no CPU, another process
         * holds their cores. Stop spinning there and back off after two such jobs. */
        rt_pool.stat_alone_awake++;
        __atomic_store_n(&rt_pool.warm_spin, 0, __ATOMIC_RELAXED);
        if (++rt_pool.starved_jobs >= 2) {
            rt_pool.backoff_len = rt_pool.backoff_len ? rt_pool.backoff_len * 2 : 4;
            if (rt_pool.backoff_len > 256) rt_pool.backoff_len = 256;
            rt_pool.backoff_left = rt_pool.backoff_len;
            rt_pool.starved_jobs = 0;
        }
    } else {
        rt_pool.starved_jobs = 0;
        rt_pool.backoff_len = 0;
    }
    /* Wait only for chunks that other threads have claimed and are running: spin briefly,
     * then sleep. Sleeping matters when another process holds the worker's core and the
     * worker was preempted mid-chunk: this core goes idle, so the kernel moves the worker
     * here at once instead of after the other process's time slice (milliseconds). */
    if (__atomic_load_n(&rt_pool.done, __ATOMIC_ACQUIRE) < nchunks) {
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int spins = 0;
        while (__atomic_load_n(&rt_pool.done, __ATOMIC_ACQUIRE) < nchunks) {
            rt_cpu_relax();
            if ((++spins & 63) == 0) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                int64_t us = (int64_t)(t.tv_sec - t0.tv_sec) * 1000000 + (t.tv_nsec - t0.tv_nsec) / 1000;
                if (us > RT_SPIN_WAIT_US) break;
            }
        }
        if (__atomic_load_n(&rt_pool.done, __ATOMIC_SEQ_CST) < nchunks) {
            pthread_mutex_lock(&rt_pool.done_mu);
            __atomic_store_n(&rt_pool.caller_waiting, 1, __ATOMIC_SEQ_CST);
            while (__atomic_load_n(&rt_pool.done, __ATOMIC_SEQ_CST) < nchunks)
                pthread_cond_wait(&rt_pool.done_cv, &rt_pool.done_mu);
            __atomic_store_n(&rt_pool.caller_waiting, 0, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&rt_pool.done_mu);
        }
    }
    /* close the job: no late claim of this generation can succeed once the next job's
     * fields are written (the index is past any nchunks) */
    __atomic_store_n(&rt_pool.claim, (((uint64_t)gen) << 32) | 0xffffffffu, __ATOMIC_RELEASE);
    __atomic_store_n(&rt_pool.busy, 0, __ATOMIC_RELEASE);
}
#endif
