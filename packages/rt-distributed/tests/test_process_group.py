"""The process-group API in this (pytest's) process, where no process group exists: PyTorch's
errors before init_process_group, argument checks that come before MPI starts, Backend and
ReduceOp. Everything that needs MPI runs under mpiexec (test_collectives.py)."""
import datetime
import subprocess
import sys

import pytest

import rt_autograd as rt
import rt_distributed as dist

NOT_INIT = ("Default process group has not been initialized, please make sure to call "
            "init_process_group.")


CALLS = {
    "get_rank": lambda: dist.get_rank(),
    "get_world_size": lambda: dist.get_world_size(),
    "get_backend": lambda: dist.get_backend(),
    "barrier": lambda: dist.barrier(),
    "destroy_process_group": lambda: dist.destroy_process_group(),
    "all_reduce": lambda: dist.all_reduce(rt.ones(2)),
    "broadcast": lambda: dist.broadcast(rt.ones(2), 0),
    "all_gather": lambda: dist.all_gather([rt.ones(2)], rt.ones(2)),
    "reduce": lambda: dist.reduce(rt.ones(2), 0),
    "all_gather_into_tensor": lambda: dist.all_gather_into_tensor(rt.ones(2), rt.ones(2)),
    "reduce_scatter": lambda: dist.reduce_scatter(rt.ones(2), [rt.ones(2)]),
    "reduce_scatter_tensor": lambda: dist.reduce_scatter_tensor(rt.ones(2), rt.ones(2)),
    "gather": lambda: dist.gather(rt.ones(2)),
    "scatter": lambda: dist.scatter(rt.ones(2)),
    "send": lambda: dist.send(rt.ones(2), 1),
    "recv": lambda: dist.recv(rt.ones(2)),
    "isend": lambda: dist.isend(rt.ones(2), 1),
    "irecv": lambda: dist.irecv(rt.ones(2)),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_before_init_every_call_raises_torchs_value_error(name):
    assert not dist.is_initialized()
    with pytest.raises(ValueError) as e:
        CALLS[name]()
    assert str(e.value) == NOT_INIT


def test_availability():
    assert dist.is_available() is True
    assert dist.is_mpi_available() is True
    assert dist.is_initialized() is False


def test_init_argument_errors_come_before_mpi_starts():
    with pytest.raises(ValueError, match="Invalid backend: 'nccl'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="Invalid backend: 'smoke-signals'"):
        dist.init_process_group(backend="smoke-signals")
    with pytest.raises(TypeError, match="datetime.timedelta"):
        dist.init_process_group(timeout=30)
    with pytest.raises(ValueError, match="timeout must be positive"):
        dist.init_process_group(timeout=datetime.timedelta(0))
    with pytest.raises(ValueError, match="Cannot specify both init_method and store"):
        dist.init_process_group(init_method="env://", store=object())
    with pytest.raises(TypeError, match="world_size must be an int"):
        dist.init_process_group(world_size="2")
    assert not dist.is_initialized()


def test_importing_the_package_does_not_start_mpi():
    code = ("import sys, rt_distributed, rt_distributed.run; "
            "print('mpi4py.MPI' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_backend_names_as_torch():
    assert dist.Backend("MPI") == "mpi" == dist.Backend.MPI
    assert dist.Backend("Gloo") == dist.Backend.GLOO == "gloo"
    assert isinstance(dist.Backend("mpi"), str)
    assert dist.Backend("custom") == "custom"
    with pytest.raises(ValueError, match="string-ish"):
        dist.Backend(3)


def test_reduce_op_members():
    names = ["SUM", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "AVG"]
    assert [op.name for op in dist.ReduceOp] == names
    assert dist.ReduceOp.SUM != dist.ReduceOp.AVG
    assert str(dist.ReduceOp.MAX) == "ReduceOp.MAX"
