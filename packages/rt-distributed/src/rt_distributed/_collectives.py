"""Collectives on rt tensors over MPI, as ``torch.distributed``.

Every collective hands mpi4py the zero-copy numpy view of the tensor's own memory (no copy
through Python): ``all_reduce`` is ``comm.Allreduce(MPI.IN_PLACE, view, op)``,
``async_op=True`` uses the non-blocking call (``Iallreduce``, ...) and returns a ``Work``.
Tensors must be contiguous (``ValueError: Tensors must be contiguous``), as PyTorch's
backends require; tensors that require grad are used as they are (the collective is not
recorded by autograd, as in PyTorch).

Dtypes: every rt dtype moves as it is (bfloat16 as its 16-bit pattern). Reductions follow
PyTorch: bool ``SUM``/``PRODUCT`` are logical or/and (``MAX``/``MIN``), ``AVG`` of a bool
raises; ``AVG`` is ``SUM`` then a division by the world size, truncating toward zero for
integers; ``MAX``/``MIN`` and the bitwise ops do not take complex tensors; the bitwise ops
take integers and bool only. MPI has no float16/bfloat16 arithmetic, so reductions of those
go through a float32 temporary (summed in float32, rounded once to the tensor's dtype).

The list forms (``all_gather``, ``gather``, ``scatter``, ``reduce_scatter``) gather into or
send from one contiguous temporary and copy the tensors in or out (numpy copies in C);
``all_gather_into_tensor`` and ``reduce_scatter_tensor`` need no temporary at all.
"""
import datetime
import enum
import time

import numpy as np
import rt_tensor as _rtt

from ._process_group import _check_group, _format_timeout

__all__ = ["ReduceOp", "Work", "all_reduce", "broadcast", "all_gather",
           "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "gather",
           "scatter", "reduce", "send", "recv", "isend", "irecv"]

_Tensor = _rtt.Tensor
_numpy = _Tensor.numpy          # the base method: a view even of a tensor that requires grad
_view_as = _Tensor.view
_to = _Tensor.to
_copy_ = _Tensor.copy_
_BF16 = _rtt.bfloat16
_F16 = _rtt.float16
_BOOL = _rtt.bool
_INT16 = _rtt.int16
_F32 = _rtt.float32


class ReduceOp(enum.Enum):
    """Reduction operations, as ``torch.distributed.ReduceOp``."""
    SUM = 0
    PRODUCT = 1
    MIN = 2
    MAX = 3
    BAND = 4
    BOR = 5
    BXOR = 6
    AVG = 7


_BITWISE = (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR)
_ARITHMETIC = frozenset((ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT, ReduceOp.MIN,
                         ReduceOp.MAX))
_NATIVE_FLOATS = frozenset((_rtt.float32, _rtt.float64))


_MPI_OPS = {}


def _mpi_op(MPI, op):
    if not _MPI_OPS:
        _MPI_OPS.update({ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM,
                         ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                         ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
                         ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR})
    return _MPI_OPS[op]


# ---------------------------------------------------------------------------------- checks

def _check_tensor(t, param):
    if not isinstance(t, _Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{param}` of type "
                        f"Tensor but got {type(t)} instead.")
    if not t.is_contiguous():
        raise ValueError("Tensors must be contiguous")
    return t


def _check_tensor_list(ts, param):
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, _Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{param}` of type "
                        f"List[Tensor] but got {type(ts)} instead.")
    for t in ts:
        _check_tensor(t, param)
    return ts


def _check_op(op, name):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a ReduceOp (ReduceOp.SUM, ...), got {op!r}")
    return op


def _check_rank(pg, r, what, group_rank=None):
    """The root rank ``r`` checked; ``group_rank`` (torch's ``group_src``/``group_dst``), when
    given, names it instead (in the world, the only group, group ranks are world ranks)."""
    if group_rank is not None:
        r = group_rank
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
        raise TypeError(f"{what} must be an int, got {type(r).__name__}")
    if not 0 <= r < pg.size:
        raise ValueError(f"Invalid {what} {r}: the world has ranks 0 .. {pg.size - 1}")
    return int(r)


def _same_dtype(name, ref, ts, param):
    for i, t in enumerate(ts):
        if t.dtype != ref.dtype:
            raise ValueError(f"{name}: {param}[{i}] has dtype {t.dtype} but the tensor has "
                             f"dtype {ref.dtype}: all tensors must have the same dtype")


def _check_list_len(pg, name, ts, param):
    if len(ts) != pg.size:
        raise ValueError(f"{name}: {param} must contain world_size ({pg.size}) tensors, got "
                         f"{len(ts)}")


def _same_numel(name, ref, ts, param):
    for i, t in enumerate(ts):
        if t.numel() != ref.numel():
            raise ValueError(f"{name}: {param}[{i}] has size {tuple(t.shape)} but the tensor "
                             f"has size {tuple(ref.shape)}: sizes must match")


def _reduction_kind(name, t, op):
    """How to reduce a dtype: 'native', 'bool' (as uint8) or 'float32' (a temporary)."""
    dt = t.dtype
    if dt in _NATIVE_FLOATS and op in _ARITHMETIC:
        return "native"
    if op in _BITWISE and (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"Cannot use {op} with non-integral dtype {dt}")
    if dt.is_complex and op not in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT):
        raise ValueError(f"{name} does not support {op} on complex tensors")
    if dt == _BOOL:
        if op == ReduceOp.AVG:
            raise ValueError("Cannot use ReduceOp.AVG with boolean inputs")
        return "bool"
    if dt == _F16 or dt == _BF16:
        return "float32"
    return "native"


# ------------------------------------------------------------------------------- the views

def _np(t):
    """The zero-copy numpy view of a contiguous tensor (bfloat16: its int16 bits)."""
    if t.dtype == _BF16:
        t = _view_as(t, _INT16)
    return _numpy(t)


def _reduce_buffer(t, kind):
    """(buffer for MPI, finisher after the reduction) for a reduction in place on t."""
    if kind == "native":
        return _numpy(t), None
    if kind == "bool":
        return _numpy(t).view(np.uint8), None
    tmp = _numpy(_to(t, _F32))        # float16/bfloat16: reduce in float32

    def back():
        _copy_(t, _rtt.from_numpy(tmp))
    return tmp, back


def _op_for(MPI, op, kind):
    if kind == "bool":
        op = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.PRODUCT: ReduceOp.MIN}.get(op, op)
    return _mpi_op(MPI, op)


def _divide(arr, n):
    """AVG's division in place: true division for floats, truncation toward zero for ints."""
    if arr.dtype.kind in "fc":
        np.divide(arr, n, out=arr)
    else:
        np.subtract(arr, np.fmod(arr, arr.dtype.type(n)), out=arr)
        np.floor_divide(arr, arr.dtype.type(n), out=arr)


def _finishers(*fs):
    return [f for f in fs if f is not None]


# ----------------------------------------------------------------------------------- Work

class Work:
    """The handle of a collective started with ``async_op=True``, as ``torch.distributed.Work``.

    ``wait()`` blocks until the collective is done (the result is then in the output tensors);
    ``is_completed()`` tests without blocking (and drives MPI's progress). ``wait(timeout)``
    with a ``datetime.timedelta`` raises ``RuntimeError`` when the collective is not done in
    time; without one, the process group's timeout applies and aborts the job.
    """

    def __init__(self, name, pg, requests, finish=(), outputs=(), keep=()):
        self._name = name
        self._pg = pg
        self._requests = list(requests)
        self._finish = list(finish)
        self._outputs = list(outputs)
        self._keep = keep             # buffers MPI reads or writes until completion
        self._done = False
        pg.pending.add(self)          # alive until complete, even when the caller drops it

    def __repr__(self):
        state = "completed" if self._done else "pending"
        return f"<rt_distributed.Work {self._name} ({state})>"

    def _complete(self):
        self._done = True
        self._requests = []
        self._pg.pending.discard(self)
        finish, self._finish = self._finish, []
        for f in finish:
            f()
        self._keep = ()

    def is_completed(self):
        """Whether the collective has finished (tests its MPI requests without blocking)."""
        if not self._done and self._pg.MPI.Request.Testall(self._requests):
            self._complete()
        return self._done

    def is_success(self):
        """Whether the collective finished successfully (it raises otherwise)."""
        return self.is_completed()

    def wait(self, timeout=None):
        """Block until the collective is done; returns True.

        ``timeout``: a ``datetime.timedelta``; when it passes first, ``RuntimeError``.
        """
        if self._done:
            return True
        MPI = self._pg.MPI
        if timeout is None:
            self._pg.run(f"{self._name} (async_op=True, Work.wait)", MPI.Request.Waitall,
                         self._requests)
            self._complete()
            return True
        if not isinstance(timeout, datetime.timedelta):
            raise TypeError(f"Work.wait: timeout must be a datetime.timedelta or None, got "
                            f"{type(timeout).__name__}")
        deadline = time.monotonic() + timeout.total_seconds()
        spins = 0
        while not MPI.Request.Testall(self._requests):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self._name} timed out after {_format_timeout(timeout)} "
                                   f"(Work.wait timeout) on rank {self._pg.rank} of "
                                   f"{self._pg.size}")
            spins += 1
            if spins > 64:
                time.sleep(min(1e-3, 1e-6 * (spins - 64)))
        self._complete()
        return True

    def synchronize(self):
        """Same as ``wait()``."""
        self.wait()

    def result(self):
        """The output tensors of the collective (waits for it first)."""
        self.wait()
        return list(self._outputs)


def _launch(pg, name, async_op, blocking, nonblocking, args, finish=(), outputs=(), keep=()):
    """Run a collective: blocking under the watchdog, or started and wrapped in a Work."""
    if async_op:
        req = nonblocking(*args)
        return Work(name, pg, [req], finish, outputs, keep)
    pg.run(name, blocking, *args)
    for f in finish:
        f()
    return None


# ----------------------------------------------------------------------------- collectives

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks, in place on every rank."""
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    _check_op(op, "all_reduce")
    kind = _reduction_kind("all_reduce", tensor, op)
    MPI = pg.MPI
    if kind == "native" and op is not ReduceOp.AVG and not async_op:   # the common case
        pg.run("all_reduce", pg.comm.Allreduce, MPI.IN_PLACE, _numpy(tensor),
               _mpi_op(MPI, op))
        return None
    buf, back = _reduce_buffer(tensor, kind)
    avg = (lambda: _divide(buf, pg.size)) if op == ReduceOp.AVG else None
    return _launch(pg, "all_reduce", async_op, pg.comm.Allreduce, pg.comm.Iallreduce,
                   (MPI.IN_PLACE, buf, _op_for(MPI, op, kind)), _finishers(avg, back),
                   [tensor], (buf,))


def broadcast(tensor, src, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` of every other rank."""
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    src = _check_rank(pg, src, "src", group_src)
    buf = _np(tensor)
    return _launch(pg, "broadcast", async_op, pg.comm.Bcast, pg.comm.Ibcast, (buf, src),
                   (), [tensor], (buf,))


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` over all ranks into ``tensor`` of rank ``dst`` (others unchanged)."""
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    _check_op(op, "reduce")
    dst = _check_rank(pg, dst, "dst", group_dst)
    kind = _reduction_kind("reduce", tensor, op)
    MPI = pg.MPI
    mop = _op_for(MPI, op, kind)
    if pg.rank == dst:
        buf, back = _reduce_buffer(tensor, kind)
        avg = (lambda: _divide(buf, pg.size)) if op == ReduceOp.AVG else None
        args, finish = (MPI.IN_PLACE, buf, mop, dst), _finishers(avg, back)
    else:
        buf, _ = _reduce_buffer(tensor, kind)     # a temporary for float16/bfloat16
        args, finish = (buf, None, mop, dst), ()
    return _launch(pg, "reduce", async_op, pg.comm.Reduce, pg.comm.Ireduce, args, finish,
                   [tensor], (buf,))


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather ``tensor`` of every rank into ``tensor_list`` (one tensor per rank) on all ranks.

    The tensors may differ in size between ranks (``tensor_list[i]`` has rank i's size).
    """
    pg = _check_group(group)
    _check_tensor_list(tensor_list, "tensor_list")
    _check_tensor(tensor, "tensor")
    _check_list_len(pg, "all_gather", tensor_list, "tensor_list")
    _same_dtype("all_gather", tensor, tensor_list, "tensor_list")
    own = tensor_list[pg.rank]
    if own.numel() != tensor.numel():
        raise ValueError(f"all_gather: tensor_list[{pg.rank}] (this rank's slot) has size "
                         f"{tuple(own.shape)} but the tensor has size {tuple(tensor.shape)}")
    counts = [t.numel() for t in tensor_list]
    src = _np(tensor).reshape(-1)
    flat = np.empty(sum(counts), dtype=src.dtype)
    outs = [_np(t).reshape(-1) for t in tensor_list]
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64).tolist()

    def scatter_out():
        for o, off, n in zip(outs, offsets, counts):
            np.copyto(o, flat[off:off + n])
    if all(c == counts[0] for c in counts):
        args = (src, flat)
        blocking, nonblocking = pg.comm.Allgather, pg.comm.Iallgather
    else:
        args = (src, [flat, counts, offsets, _mpi_type(pg.MPI, flat)])
        blocking, nonblocking = pg.comm.Allgatherv, pg.comm.Iallgatherv
    return _launch(pg, "all_gather", async_op, blocking, nonblocking, args, [scatter_out],
                   list(tensor_list), (src, flat))


def _mpi_type(MPI, arr):
    return MPI.Datatype.fromcode(arr.dtype.char)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Gather ``input_tensor`` of every rank, concatenated in rank order, into
    ``output_tensor`` (``world_size`` times as many elements) on all ranks. No temporary."""
    pg = _check_group(group)
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    if output_tensor.dtype != input_tensor.dtype:
        raise ValueError(f"all_gather_into_tensor: output tensor has dtype "
                         f"{output_tensor.dtype} but the input has {input_tensor.dtype}")
    if output_tensor.numel() != pg.size * input_tensor.numel():
        raise ValueError(f"all_gather_into_tensor: output tensor size {tuple(output_tensor.shape)}"
                         f" must equal world_size ({pg.size}) times the input size "
                         f"{tuple(input_tensor.shape)}")
    src, out = _np(input_tensor), _np(output_tensor)
    return _launch(pg, "all_gather_into_tensor", async_op, pg.comm.Allgather,
                   pg.comm.Iallgather, (src, out), (), [output_tensor], (src, out))


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list`` (one tensor per rank) over all ranks; rank i gets the reduction
    of every rank's ``input_list[i]`` in ``output``."""
    pg = _check_group(group)
    _check_tensor(output, "output")
    _check_tensor_list(input_list, "input_list")
    _check_op(op, "reduce_scatter")
    _check_list_len(pg, "reduce_scatter", input_list, "input_list")
    _same_dtype("reduce_scatter", output, input_list, "input_list")
    _same_numel("reduce_scatter", output, input_list, "input_list")
    kind = _reduction_kind("reduce_scatter", output, op)
    MPI = pg.MPI
    if kind == "float32":
        send = np.concatenate([_numpy(_to(t, _F32)).reshape(-1) for t in input_list])
    else:
        send = np.concatenate([_numpy(t).reshape(-1) for t in input_list])
        if kind == "bool":
            send = send.view(np.uint8)
    buf, back = _reduce_buffer(output, kind)
    avg = (lambda: _divide(buf, pg.size)) if op == ReduceOp.AVG else None
    return _launch(pg, "reduce_scatter", async_op, pg.comm.Reduce_scatter_block,
                   pg.comm.Ireduce_scatter_block, (send, buf, _op_for(MPI, op, kind)),
                   _finishers(avg, back), [output], (send, buf))


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` (``world_size`` chunks in rank order) over all ranks; rank i gets the
    reduction of chunk i in ``output``. No temporary (except for float16/bfloat16)."""
    pg = _check_group(group)
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    _check_op(op, "reduce_scatter_tensor")
    if output.dtype != input.dtype:
        raise ValueError(f"reduce_scatter_tensor: output has dtype {output.dtype} but the "
                         f"input has {input.dtype}")
    if input.numel() != pg.size * output.numel():
        raise ValueError(f"reduce_scatter_tensor: input tensor size {tuple(input.shape)} must "
                         f"equal world_size ({pg.size}) times the output size "
                         f"{tuple(output.shape)}")
    kind = _reduction_kind("reduce_scatter_tensor", output, op)
    MPI = pg.MPI
    send, _ = _reduce_buffer(input, kind)
    buf, back = _reduce_buffer(output, kind)
    avg = (lambda: _divide(buf, pg.size)) if op == ReduceOp.AVG else None
    return _launch(pg, "reduce_scatter_tensor", async_op, pg.comm.Reduce_scatter_block,
                   pg.comm.Ireduce_scatter_block, (send, buf, _op_for(MPI, op, kind)),
                   _finishers(avg, back), [output], (send, buf))


def _check_root_list(pg, name, tensor, tensors, arg, root, role):
    """gather's ``gather_list`` / scatter's ``scatter_list``: on the root rank, ``world_size``
    tensors of ``tensor``'s dtype and size; on every other rank, none (torch's messages)."""
    if pg.rank == root:
        if not tensors:
            raise ValueError(f"Argument ``{arg}`` must be specified on {role} rank.")
        _check_tensor_list(tensors, arg)
        _check_list_len(pg, name, tensors, arg)
        _same_dtype(name, tensor, tensors, arg)
        _same_numel(name, tensor, tensors, arg)
    elif tensors:
        raise ValueError(f"Argument ``{arg}`` must NOT be specified on non-{role} ranks.")


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False, group_dst=None):
    """Gather ``tensor`` of every rank into ``gather_list`` of rank ``dst``.

    ``gather_list`` (``world_size`` tensors of the tensor's size) only on ``dst``.
    """
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    dst = _check_rank(pg, dst, "dst", group_dst)
    _check_root_list(pg, "gather", tensor, gather_list, "gather_list", dst, "destination")
    src = _np(tensor).reshape(-1)
    if pg.rank == dst:
        flat = np.empty((pg.size, src.size), dtype=src.dtype)
        outs = [_np(t).reshape(-1) for t in gather_list]

        def scatter_out():
            for i, o in enumerate(outs):
                np.copyto(o, flat[i])
        args, finish, outputs = (src, flat, dst), [scatter_out], list(gather_list)
    else:
        flat = None
        args, finish, outputs = (src, None, dst), (), []
    return _launch(pg, "gather", async_op, pg.comm.Gather, pg.comm.Igather, args, finish,
                   outputs, (src, flat))


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False, group_src=None):
    """Send ``scatter_list[i]`` of rank ``src`` to ``tensor`` of rank i.

    ``scatter_list`` (``world_size`` tensors of the tensor's size) only on ``src``.
    """
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    src = _check_rank(pg, src, "src", group_src)
    _check_root_list(pg, "scatter", tensor, scatter_list, "scatter_list", src, "source")
    out = _np(tensor).reshape(-1)
    send = (np.concatenate([_np(t).reshape(-1) for t in scatter_list])
            if pg.rank == src else None)
    return _launch(pg, "scatter", async_op, pg.comm.Scatter, pg.comm.Iscatter,
                   (send, out, src), (), [tensor], (send, out))


def _check_peer(pg, peer, what):
    peer = _check_rank(pg, peer, what)
    if peer == pg.rank:
        label = "destination" if what == "dst" else "source"
        raise ValueError(f"Invalid {label} rank: should not be the same as rank of the "
                         f"current process.")
    return peer


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst`` (blocking until it is delivered or buffered)."""
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    dst = _check_peer(pg, dst if group_dst is None else group_dst, "dst")
    pg.run("send", pg.comm.Send, _np(tensor), dst, tag)


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (any rank when None); returns the sender."""
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    if group_src is not None:
        src = group_src
    MPI = pg.MPI
    source = MPI.ANY_SOURCE if src is None else _check_peer(pg, src, "src")
    status = MPI.Status()
    pg.run("recv", pg.comm.Recv, _np(tensor), source, tag, status)
    return status.Get_source()


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; returns a ``Work``."""
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    dst = _check_peer(pg, dst if group_dst is None else group_dst, "dst")
    buf = _np(tensor)
    return Work("isend", pg, [pg.comm.Isend(buf, dst, tag)], (), [tensor], (buf,))


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank when None); a ``Work``."""
    pg = _check_group(group)
    _check_tensor(tensor, "tensor")
    if group_src is not None:
        src = group_src
    MPI = pg.MPI
    source = MPI.ANY_SOURCE if src is None else _check_peer(pg, src, "src")
    buf = _np(tensor)
    return Work("irecv", pg, [pg.comm.Irecv(buf, source, tag)], (), [tensor], (buf,))
