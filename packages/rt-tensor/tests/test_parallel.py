"""rt's thread pool: thread counts, concurrent callers, fork safety."""
import os
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




    import subprocess
    import sys
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
