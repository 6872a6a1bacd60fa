"""Every collective, reduction op and dtype on 1, 2 and 3 processes against numpy oracles:
tests/mpi_scripts/collectives.py runs all the checks in one mpiexec launch per world size
(each rank prints one RESULT line per check) and each check is one test here."""
import pytest

from conftest import SCRIPTS, results, run_mpi
from mpi_scripts import collectives as script

WORLDS = (1, 2, 3)


@pytest.fixture(scope="module", params=WORLDS, ids=lambda n: f"n{n}")
def launch(request):
    n = request.param
    proc = run_mpi(SCRIPTS / "collectives.py", n=n, timeout=240)
    return n, proc, results(proc)


def test_the_job_ends_cleanly(launch):
    n, proc, _ = launch
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rank in range(n):
        assert f"DONE {rank}" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.parametrize("name", list(script.CHECKS))
def test_check(launch, name):
    n, proc, found = launch
    for rank in range(n):
        status, detail = found.get((rank, name), ("MISSING", proc.stderr[-2000:]))
        assert status == "OK", f"rank {rank} of {n}: {detail}"
