"""rt's thread pool: thread counts, concurrent callers, fork safety."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import rt_tensor as rtt


@pytest.fixture
def restore_threads():
    prev = rtt.get_num_threads()
    yield
    rtt.set_num_threads(prev)


def test_default_is_the_cpu_count():
    out = subprocess.run([sys.executable, "-c", "import rt_tensor; print(rt_tensor.get_num_threads())"],
                         capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if k not in ("RT_NUM_THREADS", "OMP_NUM_THREADS")})
    assert int(out.stdout) == len(os.sched_getaffinity(0))


def test_changing_thread_counts_keeps_results(restore_threads):
    x = rtt.from_numpy(np.arange(1_000_000, dtype=np.float64))
    want = (np.arange(1_000_000, dtype=np.float64) * 2 + 1)
    for n in (1, 2, 3, 8, 1, 2):
        rtt.set_num_threads(n)
        assert rtt.get_num_threads() == n
        assert np.array_equal((x * 2 + 1).numpy(), want)


def test_concurrent_python_threads_share_the_pool(restore_threads):
    rtt.set_num_threads(2)
    x = rtt.from_numpy(np.ones(500_000, dtype=np.float32))
    failures = []

    def work():
        for _ in range(20):
            if float((x + 1).numpy()[::997].sum()) != 2.0 * len(range(0, 500_000, 997)):
                failures.append("wrong")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_pool_works_after_fork(restore_threads):
    rtt.set_num_threads(2)
    x = rtt.from_numpy(np.ones(400_000, dtype=np.float32))
    (x + 1)                                  # start the workers in the parent
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                             # child: the workers did not survive fork
        try:
            ok = float((x * 3).numpy().sum()) == 1_200_000.0
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    result = os.read(r, 1)
    os.waitpid(pid, 0)
    assert result == b"1"


def test_pool_stats_count_every_parallel_call(restore_threads):
    rtt.set_num_threads(2)
    x = rtt.from_numpy(np.ones(1_000_000, dtype=np.float32))
    before = rtt._parallel._pool_stats()
    for _ in range(10):
        y = x + x
    after = rtt._parallel._pool_stats()
    assert np.array_equal(y.numpy(), np.full(1_000_000, 2, np.float32))
    # each call is either split over the threads or run serially while backing off
    calls = (after["split"] - before["split"]) + (after["backoff"] - before["backoff"])
    assert calls == 10
    assert all(after[k] >= before[k] for k in before)


def test_more_threads_than_allowed_cpus_still_computes():
    # one allowed CPU: a worker can never leave the caller's CPU, and must not hang trying
    code = ("import os, numpy as np, rt_tensor as rtt\n"
            "os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
            "rtt.set_num_threads(4)\n"
            "x = rtt.from_numpy(np.arange(2_000_000, dtype=np.float64))\n"
            "for _ in range(50):\n"
            "    s = float((x * 2).sum())\n"
            "print(s == 2 * 1999999 * 2000000 / 2)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("shape", [(32, 512, 64), (512, 64, 32), (300, 300, 300),
                                   (1000, 200, 50)])
def test_a_split_product_gives_the_same_bits_while_the_pool_backs_off(shape):
    # under contention the pool runs jobs serially for a while ("back-off"); a GEMM split
    # into row/column blocks must keep its block boundaries then (BLAS edge paths depend on
    # them), or one seed gives two results on a busy machine
    from rt_tensor import _parallel
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = rtt.from_numpy(rng.standard_normal((m, k)).astype(np.float32))
    b = rtt.from_numpy(rng.standard_normal((k, n)).astype(np.float32))
    before = rtt.get_num_threads()
    try:
        rtt.set_num_threads(2)
        normal = rtt.matmul(a, b).numpy()
        _parallel._pool_force_backoff(1000)
        backing_off = rtt.matmul(a, b).numpy()
    finally:
        _parallel._pool_force_backoff(0)
        rtt.set_num_threads(before)
    np.testing.assert_array_equal(backing_off, normal)
    np.testing.assert_allclose(normal, a.numpy().astype(np.float64) @ b.numpy(), rtol=1e-4,
                               atol=1e-4)
