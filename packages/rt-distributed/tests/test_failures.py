"""A failing rank ends the whole job with its message instead of leaving the others waiting.

The init timeout of these jobs is far longer than the launch's own limit wherever the test is
about something else than the timeout, so a job that ends in time was ended by the abort
(the exception hook, mpiexec noticing a dead rank), not by a timeout. Exit status 124 would
be rt-run's own --timeout: it must not be that.
"""
import textwrap

from conftest import run_mpi

LAUNCH_LIMIT = 45            # seconds rt-run gives each job
LONG = 600                   # init_process_group timeout where the timeout is not the point


def job(body, init_timeout=LONG):
    return textwrap.dedent(f"""\
        import datetime, os, signal, sys, time
        import rt_autograd as rt
        import rt_distributed as dist
        dist.init_process_group(timeout=datetime.timedelta(seconds={init_timeout}))
        rank = dist.get_rank()
        t = rt.ones(8)
        """) + textwrap.dedent(body)


def ended_by_abort(proc):
    assert proc.returncode not in (0, 124), (proc.returncode, proc.stderr[-3000:])


def test_an_exception_in_rank_1_ends_the_job_with_its_message():
    proc = run_mpi(job("""\
        if rank == 1:
            raise ValueError("boom from rank 1")
        dist.all_reduce(t)            # rank 0 waits here for a rank that is gone
        print("rank 0 finished")
        """), n=2, timeout=LAUNCH_LIMIT)
    ended_by_abort(proc)
    assert "rt_distributed: rank 1 failed: Traceback" in proc.stderr
    assert "ValueError: boom from rank 1" in proc.stderr
    assert "rank 0 finished" not in proc.stdout


def test_the_exception_hook_chains_the_previous_one():
    proc = run_mpi(textwrap.dedent("""\
        import sys
        def custom_hook(exc_type, exc, tb):
            sys.stderr.write("CUSTOM HOOK SAW " + exc_type.__name__ + "\\n")
        sys.excepthook = custom_hook
        """) + job("""\
        if rank == 0:
            raise KeyError("lost key")
        dist.barrier()
        print("rank 1 finished")
        """), n=2, timeout=LAUNCH_LIMIT)
    ended_by_abort(proc)
    assert "CUSTOM HOOK SAW KeyError" in proc.stderr
    assert "rt_distributed: rank 0 failed" in proc.stderr and "lost key" in proc.stderr
    assert "rank 1 finished" not in proc.stdout


def test_a_rank_that_exits_without_finalizing_ends_the_job():
    proc = run_mpi(job("""\
        if rank == 1:
            os._exit(3)
        dist.all_reduce(t)
        print("rank 0 finished")
        """), n=2, timeout=LAUNCH_LIMIT)
    ended_by_abort(proc)
    assert "rank 0 finished" not in proc.stdout


def test_a_rank_killed_by_a_signal_ends_the_job():
    proc = run_mpi(job("""\
        if rank == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        dist.all_reduce(t)
        print("rank 0 finished")
        """), n=2, timeout=LAUNCH_LIMIT)
    ended_by_abort(proc)
    assert "rank 0 finished" not in proc.stdout


def test_a_rank_that_never_joins_times_out_the_collective():
    proc = run_mpi(job("""\
        if rank == 1:
            time.sleep(300)           # never joins; the job's abort ends this sleep too
        dist.all_reduce(t)
        print("rank 0 finished")
        """, init_timeout=2), n=2, timeout=LAUNCH_LIMIT)
    ended_by_abort(proc)
    assert "rt_distributed: rank 0 failed: RuntimeError: all_reduce timed out after 2 s" \
        in proc.stderr
    assert "dist.all_reduce(t)" in proc.stderr       # where rank 0 was waiting
    assert "rank 0 finished" not in proc.stdout


def test_work_wait_with_a_timeout_raises_a_catchable_runtime_error():
    proc = run_mpi(job("""\
        if rank == 1:
            time.sleep(3)             # joins late
        work = dist.all_reduce(t, async_op=True)
        if rank == 0:
            try:
                work.wait(timeout=datetime.timedelta(seconds=0.2))
            except RuntimeError as e:
                print("CAUGHT", e)
        assert work.wait() is True
        print("SUM", rank, t.numpy().tolist())
        """), n=2, timeout=LAUNCH_LIMIT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "CAUGHT all_reduce timed out after 0.2 s (Work.wait timeout) on rank 0 of 2" \
        in proc.stdout
    for rank in (0, 1):
        assert f"SUM {rank} {[2.0] * 8}" in proc.stdout


def test_an_exception_in_a_world_of_one_is_an_ordinary_traceback():
    proc = run_mpi(job("""\
        dist.all_reduce(t)
        raise ValueError("single failure")
        """), n=1, timeout=LAUNCH_LIMIT)
    assert proc.returncode == 1
    assert "ValueError: single failure" in proc.stderr
    assert "rt_distributed: rank" not in proc.stderr and "MPI_ABORT" not in proc.stderr
