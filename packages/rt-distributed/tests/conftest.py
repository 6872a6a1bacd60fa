"""Test helpers: ``run_mpi`` runs Python code or a script in N processes through rt-run.

Each launch costs about 1.5 s (mpiexec start-up), so the tests batch many checks into one
script per module. Every launch has a wall-clock limit (rt-run's ``--timeout`` and the
subprocess's own), and the scripts pass a short ``timeout`` to ``init_process_group``, so a
broken collective fails a test instead of hanging ``make test``.
"""
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

HERE = pathlib.Path(__file__).parent
SCRIPTS = HERE / "mpi_scripts"

sys.path.insert(0, str(HERE))


def run_mpi(code_or_script, n=2, timeout=60, args=(), launcher_args=()):
    """Run ``code_or_script`` (a path to a script, or Python source) in ``n`` processes
    with ``python -m rt_distributed.run``; returns the ``subprocess.CompletedProcess``
    (``stdout``, ``stderr``, ``returncode``). As root, Open MPI's run-as-root variables are
    set by the launcher."""
    is_script = isinstance(code_or_script, pathlib.Path) or (
        "\n" not in code_or_script and os.path.isfile(code_or_script))
    tmp = None
    path = pathlib.Path(code_or_script)
    if not is_script:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".py", prefix="rt_dist_", delete=False)
        tmp.write(str(code_or_script))
        tmp.close()
        path = pathlib.Path(tmp.name)
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(HERE)] + [p for p in
                                         [env.get("PYTHONPATH")] if p])
    cmd = [sys.executable, "-m", "rt_distributed.run", "-n", str(n), "--timeout",
           str(timeout), *launcher_args, str(path), *map(str, args)]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, env=env,
                              timeout=timeout + 30)
    finally:
        if tmp is not None:
            os.unlink(tmp.name)


def results(proc):
    """The ``RESULT <rank> <name> <status> [detail]`` lines of a check script, as a dict
    {(rank, name): (status, detail)}."""
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            parts = line.split(" ", 4)
            out[(int(parts[1]), parts[2])] = (parts[3], parts[4] if len(parts) > 4 else "")
    return out


@pytest.fixture(scope="session")
def mpi():
    """The ``run_mpi`` helper as a fixture."""
    return run_mpi
