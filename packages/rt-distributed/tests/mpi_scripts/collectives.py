"""Every collective, op and dtype against numpy, run in each of N processes by
test_collectives.py (``rt-run -n N collectives.py``).

Each rank builds every rank's input from a seed (name, rank), so each can compute the
expected result with numpy on its own; it runs the collective on rt tensors and prints
``RESULT <rank> <check> OK`` or ``RESULT <rank> <check> FAIL <why>``. A check's assertion
runs after its collective, so a failing check does not leave the other ranks waiting.
Importing this module only registers the checks (``CHECKS``), so the tests can name them.
"""
import datetime
import sys
import zlib

import numpy as np

CHECKS = {}


def check(name):
    def register(fn):
        assert name not in CHECKS, name
        CHECKS[name] = fn
        return fn
    return register


# ------------------------------------------------------------------------- data and oracles

FLOAT = ("float32", "float64", "float16", "bfloat16")
INTS = ("int8", "int32", "int64", "uint8")
ALL_DTYPES = FLOAT + INTS + ("bool", "complex64")
ROOT_DTYPES = ("float32", "float64", "int32", "int64", "uint8", "bool", "float16", "bfloat16")


def values(name, rank, shape, dtype):
    """Rank ``rank``'s input for check ``name``, as a numpy array (bfloat16 as float32 values
    that bfloat16 holds exactly; float16 as float16)."""
    rng = np.random.default_rng(zlib.crc32(f"{name}/{rank}".encode()))
    if dtype in ("float16", "bfloat16"):   # quarters in [-4, 4]: exact in both
        return (rng.integers(-16, 17, shape) / 4).astype(
            np.float16 if dtype == "float16" else np.float32)
    if dtype in ("float32", "float64"):
        return rng.uniform(-2, 2, shape).astype(dtype)
    if dtype == "complex64":
        return (rng.uniform(-2, 2, shape) + 1j * rng.uniform(-2, 2, shape)).astype(dtype)
    if dtype == "uint8":
        return rng.integers(0, 200, shape).astype(np.uint8)   # sums wrap around 256
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(-5, 6, shape).astype(dtype)


def bf16_round(x):
    """float32 -> the nearest bfloat16 (ties to even), as float32: the oracle's rounding."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 << 16
    return u.astype(np.uint32).view(np.float32)


def reduce_oracle(arrays, op, dtype):
    """The reduction of the ranks' arrays as torch defines it, computed with numpy."""
    n = len(arrays)
    if dtype == "bool":
        stack = np.stack(arrays)
        return {"SUM": stack.any(0), "MAX": stack.any(0), "PRODUCT": stack.all(0),
                "MIN": stack.all(0), "BAND": stack.all(0), "BOR": stack.any(0),
                "BXOR": np.bitwise_xor.reduce(stack, 0)}[op]
    if dtype in ("float16", "bfloat16"):     # computed in float32, rounded once
        stack = np.stack(arrays).astype(np.float32)
        r = {"SUM": stack.sum(0), "AVG": stack.sum(0) / np.float32(n),
             "PRODUCT": stack.prod(0), "MAX": stack.max(0), "MIN": stack.min(0)}[op]
        return r.astype(np.float16) if dtype == "float16" else bf16_round(r)
    stack = np.stack(arrays)
    if op in ("SUM", "AVG", "PRODUCT") and np.issubdtype(stack.dtype, np.integer):
        wide = stack.astype(np.int64)
        wide = (wide.prod(0) if op == "PRODUCT" else wide.sum(0)).astype(dtype)  # wraps as C
        if op == "AVG":       # the (wrapped) sum divided by the world size, truncated
            wide = np.trunc(wide.astype(np.float64) / n).astype(dtype)
        return wide
    return {"SUM": lambda: stack.sum(0), "AVG": lambda: stack.sum(0) / n,
            "PRODUCT": lambda: stack.prod(0), "MAX": lambda: stack.max(0),
            "MIN": lambda: stack.min(0), "BAND": lambda: np.bitwise_and.reduce(stack, 0),
            "BOR": lambda: np.bitwise_or.reduce(stack, 0),
            "BXOR": lambda: np.bitwise_xor.reduce(stack, 0)}[op]()


def to_rt(a, dtype):
    import rt_autograd as rt
    t = rt.from_numpy(np.ascontiguousarray(a).copy())
    return t.to(rt.bfloat16) if dtype == "bfloat16" else t


def to_np(t):
    import rt_autograd as rt
    return (t.float() if t.dtype == rt.bfloat16 else t).detach().numpy().copy()


def assert_close(got, want, dtype):
    want = np.asarray(want)
    if dtype == "bfloat16":
        want = want.astype(np.float32)
    assert got.shape == want.shape, (got.shape, want.shape)
    if dtype in ("float32", "complex64"):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)
    elif dtype == "float64":
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    else:
        np.testing.assert_array_equal(got, want)


def finish(work, async_op):
    """The result of a collective: None when blocking, a completed Work when async."""
    import rt_distributed as dist
    if async_op:
        assert isinstance(work, dist.Work), type(work)
        assert work.wait() is True
        assert work.is_completed()
    else:
        assert work is None, work


def expect_error(exc_type, text, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        assert text in str(e), f"{text!r} not in {str(e)!r}"
        return
    raise AssertionError(f"no {exc_type.__name__} ({text})")


# ------------------------------------------------------------------------------- the checks

OPS = ("SUM", "AVG", "MAX", "MIN", "PRODUCT")


def _register_all_reduce():
    for dtype in ALL_DTYPES:
        for op in OPS + ("BAND", "BOR", "BXOR"):
            if dtype == "bool" and op == "AVG":
                continue
            if dtype in FLOAT + ("complex64",) and op in ("BAND", "BOR", "BXOR"):
                continue
            if dtype == "complex64" and op in ("MAX", "MIN"):
                continue
            if op in ("BAND", "BOR", "BXOR") and dtype not in ("int32", "uint8", "bool",
                                                               "int64"):
                continue
            for async_op in (False, True):
                name = f"all_reduce-{op}-{dtype}" + ("-async" if async_op else "")

                def fn(rank, world, name=name, dtype=dtype, op=op, async_op=async_op):
                    import rt_distributed as dist
                    shape = (3, 5)
                    arrays = [values(name, r, shape, dtype) for r in range(world)]
                    t = to_rt(arrays[rank], dtype)
                    finish(dist.all_reduce(t, op=getattr(dist.ReduceOp, op),
                                           async_op=async_op), async_op)
                    assert_close(to_np(t), reduce_oracle(arrays, op, dtype), dtype)
                check(name)(fn)


_register_all_reduce()


@check("all_reduce-shapes-0d-empty-large")
def _(rank, world):
    import rt_autograd as rt
    import rt_distributed as dist
    s = rt.tensor(float(rank + 1))
    dist.all_reduce(s)
    assert s.shape == () and s.item() == world * (world + 1) / 2
    e = rt.zeros(0, 4)
    dist.all_reduce(e)
    assert e.shape == (0, 4)
    big = [values("big", r, (1 << 18,), "float32") for r in range(world)]
    t = to_rt(big[rank], "float32")
    dist.all_reduce(t, dist.ReduceOp.MAX)
    assert_close(to_np(t), np.stack(big).max(0), "float32")


@check("all_reduce-requires-grad-in-place-same-storage")
def _(rank, world):
    import rt_autograd as rt
    import rt_distributed as dist
    w = rt.ones(4, requires_grad=True)
    ptr = w.data_ptr()
    dist.all_reduce(w)
    assert w.data_ptr() == ptr and w.requires_grad
    np.testing.assert_array_equal(w.detach().numpy(), np.full(4, world, np.float32))
    base = rt.zeros(2, 6)
    row = base[1]                       # a contiguous view into a bigger tensor
    row.fill_(rank + 1.0)
    dist.all_reduce(row)
    want = np.zeros((2, 6), np.float32)
    want[1] = world * (world + 1) / 2
    np.testing.assert_array_equal(base.numpy(), want)


def _register_rooted():
    for dtype in ROOT_DTYPES:
        for async_op in (False, True):
            sfx = f"-{dtype}" + ("-async" if async_op else "")

            def bcast(rank, world, dtype=dtype, async_op=async_op, name="broadcast" + sfx):
                import rt_distributed as dist
                for src in range(world):
                    arrays = [values(f"{name}{src}", r, (2, 3), dtype) for r in range(world)]
                    t = to_rt(arrays[rank], dtype)
                    finish(dist.broadcast(t, src, async_op=async_op), async_op)
                    assert_close(to_np(t), arrays[src], dtype)
            check("broadcast" + sfx)(bcast)

            def gather_(rank, world, dtype=dtype, async_op=async_op, name="gather" + sfx):
                import rt_autograd as rt
                import rt_distributed as dist
                dst = world - 1
                arrays = [values(name, r, (4,), dtype) for r in range(world)]
                t = to_rt(arrays[rank], dtype)
                out = ([to_rt(np.zeros_like(arrays[0]), dtype) for _ in range(world)]
                       if rank == dst else None)
                finish(dist.gather(t, out, dst=dst, async_op=async_op), async_op)
                if rank == dst:
                    for r in range(world):
                        assert_close(to_np(out[r]), arrays[r], dtype)
                assert_close(to_np(t), arrays[rank], dtype)   # the input is unchanged
                del rt
            check("gather" + sfx)(gather_)

            def scatter_(rank, world, dtype=dtype, async_op=async_op, name="scatter" + sfx):
                import rt_distributed as dist
                src = world - 1
                chunks = [values(name, r, (2, 2), dtype) for r in range(world)]
                t = to_rt(np.zeros_like(chunks[0]), dtype)
                lst = [to_rt(c, dtype) for c in chunks] if rank == src else None
                finish(dist.scatter(t, lst, src=src, async_op=async_op), async_op)
                assert_close(to_np(t), chunks[rank], dtype)
            check("scatter" + sfx)(scatter_)

            def all_gather_(rank, world, dtype=dtype, async_op=async_op,
                            name="all_gather" + sfx):
                import rt_distributed as dist
                arrays = [values(name, r, (3,), dtype) for r in range(world)]
                out = [to_rt(np.zeros_like(arrays[0]), dtype) for _ in range(world)]
                finish(dist.all_gather(out, to_rt(arrays[rank], dtype), async_op=async_op),
                       async_op)
                for r in range(world):
                    assert_close(to_np(out[r]), arrays[r], dtype)
            check("all_gather" + sfx)(all_gather_)

            def agit(rank, world, dtype=dtype, async_op=async_op,
                     name="all_gather_into_tensor" + sfx):
                import rt_distributed as dist
                arrays = [values(name, r, (2, 3), dtype) for r in range(world)]
                for shape in ((world * 2, 3), (world, 2, 3)):
                    out = to_rt(np.zeros(shape, arrays[0].dtype), dtype)
                    finish(dist.all_gather_into_tensor(out, to_rt(arrays[rank], dtype),
                                                       async_op=async_op), async_op)
                    assert_close(to_np(out), np.concatenate(arrays).reshape(shape), dtype)
            check("all_gather_into_tensor" + sfx)(agit)


_register_rooted()


def _register_reducing():
    cases = [("float32", "SUM"), ("float32", "AVG"), ("float64", "MAX"), ("int64", "SUM"),
             ("int32", "AVG"), ("uint8", "MIN"), ("bool", "SUM"), ("float16", "SUM"),
             ("bfloat16", "AVG"), ("float32", "PRODUCT")]
    for dtype, op in cases:
        for async_op in (False, True):
            sfx = f"-{op}-{dtype}" + ("-async" if async_op else "")

            def red(rank, world, dtype=dtype, op=op, async_op=async_op, name="reduce" + sfx):
                import rt_distributed as dist
                for dst in range(world):
                    arrays = [values(f"{name}{dst}", r, (5,), dtype) for r in range(world)]
                    t = to_rt(arrays[rank], dtype)
                    finish(dist.reduce(t, dst, op=getattr(dist.ReduceOp, op),
                                       async_op=async_op), async_op)
                    if rank == dst:
                        assert_close(to_np(t), reduce_oracle(arrays, op, dtype), dtype)
            check("reduce" + sfx)(red)

            def rs(rank, world, dtype=dtype, op=op, async_op=async_op,
                   name="reduce_scatter" + sfx):
                import rt_distributed as dist
                ins = [[values(f"{name}{i}", r, (2, 2), dtype) for i in range(world)]
                       for r in range(world)]
                out = to_rt(np.zeros_like(ins[0][0]), dtype)
                finish(dist.reduce_scatter(out, [to_rt(a, dtype) for a in ins[rank]],
                                           op=getattr(dist.ReduceOp, op), async_op=async_op),
                       async_op)
                want = reduce_oracle([ins[r][rank] for r in range(world)], op, dtype)
                assert_close(to_np(out), want, dtype)
            check("reduce_scatter" + sfx)(rs)

            def rst(rank, world, dtype=dtype, op=op, async_op=async_op,
                    name="reduce_scatter_tensor" + sfx):
                import rt_distributed as dist
                ins = [values(name, r, (world * 3, 2), dtype) for r in range(world)]
                inp = to_rt(ins[rank], dtype)
                out = to_rt(np.zeros((3, 2), ins[0].dtype), dtype)
                finish(dist.reduce_scatter_tensor(out, inp, op=getattr(dist.ReduceOp, op),
                                                  async_op=async_op), async_op)
                want = reduce_oracle([a[3 * rank:3 * rank + 3] for a in ins], op, dtype)
                assert_close(to_np(out), want, dtype)
                assert_close(to_np(inp), ins[rank], dtype)    # the input is unchanged
            check("reduce_scatter_tensor" + sfx)(rst)


_register_reducing()


@check("all_gather-uneven-sizes")
def _(rank, world):
    import rt_autograd as rt
    import rt_distributed as dist
    arrays = [np.arange(r + 1, dtype=np.int64) * 10 + r for r in range(world)]
    out = [rt.zeros(r + 1, dtype=rt.int64) for r in range(world)]
    for async_op in (False, True):
        finish(dist.all_gather(out, rt.from_numpy(arrays[rank].copy()), async_op=async_op),
               async_op)
        for r in range(world):
            np.testing.assert_array_equal(out[r].numpy(), arrays[r])


@check("send-recv-ring-and-any-source")
def _(rank, world):
    import rt_autograd as rt
    import rt_distributed as dist
    if world == 1:
        expect_error(ValueError, "should not be the same", dist.send, rt.zeros(2), 0)
        return
    nxt, prv = (rank + 1) % world, (rank - 1) % world
    payload = values("ring", rank, (6,), "float64")
    got = rt.zeros(6, dtype=rt.float64)
    if rank % 2 == 0:
        dist.send(rt.from_numpy(payload.copy()), nxt)
        sender = dist.recv(got, prv)
    else:
        sender = dist.recv(got, None)
        dist.send(rt.from_numpy(payload.copy()), nxt)
    assert sender == prv, (sender, prv)
    np.testing.assert_array_equal(got.numpy(), values("ring", prv, (6,), "float64"))
    # isend/irecv with tags, both directions at once
    a = rt.full((3,), float(rank), dtype=rt.float32)
    b = rt.zeros(3)
    works = [dist.isend(a, nxt, tag=7), dist.irecv(b, prv, tag=7)]
    for w in works:
        assert w.wait() is True
    np.testing.assert_array_equal(b.numpy(), np.full(3, prv, np.float32))
    assert works[1].result()[0] is b


@check("work-wait-timeout-and-barrier")
def _(rank, world):
    import rt_autograd as rt
    import rt_distributed as dist
    t = rt.ones(1000)
    w = dist.all_reduce(t, async_op=True)
    assert w.wait(timeout=datetime.timedelta(seconds=20)) is True
    assert w.is_completed() and w.is_success() and w.result()[0] is t
    np.testing.assert_array_equal(t.numpy(), np.full(1000, world, np.float32))
    assert w.wait() is True                  # a second wait is a no-op
    b = dist.barrier(async_op=True)
    assert isinstance(b, dist.Work) and b.wait()
    assert dist.barrier() is None
    pending = dist.all_reduce(rt.ones(1), async_op=True)
    expect_error(TypeError, "timedelta", pending.wait, 5)
    assert pending.wait()
    dist.barrier()


@check("process-group-queries")
def _(rank, world):
    import rt_distributed as dist
    assert dist.is_initialized() and dist.is_available() and dist.is_mpi_available()
    assert dist.get_rank() == rank and dist.get_world_size() == world
    assert dist.get_backend() == "mpi" and dist.get_backend() == dist.Backend.MPI
    expect_error(ValueError, "default process group", dist.get_rank, group=object())
    expect_error(ValueError, "twice", dist.init_process_group, "mpi")


@check("errors-bad-arguments")
def _(rank, world):
    import rt_autograd as rt
    import rt_distributed as dist
    R = dist.ReduceOp
    nc = rt.zeros(4, 3).t()
    for fn, args in [(dist.all_reduce, (nc,)), (dist.broadcast, (nc, 0)),
                     (dist.reduce, (nc, 0)), (dist.all_gather, ([rt.zeros(3, 4)] * world, nc)),
                     (dist.all_gather_into_tensor, (rt.zeros(world * 12), nc))]:
        expect_error(ValueError, "Tensors must be contiguous", fn, *args)
    expect_error(TypeError, "Expected parameter `tensor`", dist.all_reduce, [1.0, 2.0])
    expect_error(TypeError, "ReduceOp", dist.all_reduce, rt.ones(2), op="sum")
    expect_error(ValueError, "Cannot use ReduceOp.AVG with boolean inputs", dist.all_reduce,
                 rt.ones(2, dtype=rt.bool), op=R.AVG)
    expect_error(RuntimeError, "non-integral", dist.all_reduce, rt.ones(2), op=R.BAND)
    expect_error(ValueError, "does not support ReduceOp.MAX on complex", dist.all_reduce,
                 rt.ones(2, dtype=rt.complex64), op=R.MAX)
    expect_error(ValueError, "default process group", dist.all_reduce, rt.ones(2),
                 group="subgroup")
    expect_error(ValueError, f"Invalid src {world}", dist.broadcast, rt.ones(2), world)
    expect_error(ValueError, "Invalid dst -1", dist.reduce, rt.ones(2), -1)
    expect_error(ValueError, f"world_size ({world}) tensors, got {world + 1}",
                 dist.all_gather, [rt.zeros(2)] * (world + 1), rt.zeros(2))
    expect_error(ValueError, "dtype", dist.all_gather,
                 [rt.zeros(2, dtype=rt.float64)] * world, rt.zeros(2))
    expect_error(ValueError, f"tensor_list[{rank}]", dist.all_gather,
                 [rt.zeros(3)] * world, rt.zeros(2))
    expect_error(ValueError, "size (3,)", dist.reduce_scatter, rt.zeros(2),
                 [rt.zeros(3)] * world)
    expect_error(ValueError, f"world_size ({world}) times", dist.all_gather_into_tensor,
                 rt.zeros(world * 2 + 1), rt.zeros(2))
    expect_error(ValueError, f"world_size ({world}) times", dist.reduce_scatter_tensor,
                 rt.zeros(2), rt.zeros(world * 2 + 1))
    expect_error(ValueError, "dtype", dist.reduce_scatter_tensor, rt.zeros(2),
                 rt.zeros(world * 2, dtype=rt.float64))
    if rank == 0:
        expect_error(ValueError, "``gather_list`` must be specified on destination rank",
                     dist.gather, rt.zeros(2), None, 0)
        expect_error(ValueError, "``scatter_list`` must be specified on source rank",
                     dist.scatter, rt.zeros(2), None, 0)
        expect_error(ValueError, "Invalid destination rank: should not be the same",
                     dist.send, rt.zeros(2), 0)
    else:
        expect_error(ValueError, "must NOT be specified on non-destination ranks",
                     dist.gather, rt.zeros(2), [rt.zeros(2)] * world, 0)
        expect_error(ValueError, "must NOT be specified on non-source ranks",
                     dist.scatter, rt.zeros(2), [rt.zeros(2)] * world, 0)
        expect_error(ValueError, "Invalid source rank: should not be the same",
                     dist.recv, rt.zeros(2), rank)
    dist.barrier()


@check("destroy-and-init-again")
def _(rank, world):
    import rt_autograd as rt
    import rt_distributed as dist
    dist.destroy_process_group()
    assert not dist.is_initialized()
    expect_error(ValueError, "Default process group has not been initialized",
                 dist.all_reduce, rt.ones(1))
    expect_error(ValueError, "Invalid backend", dist.init_process_group, "nccl")
    expect_error(ValueError, "Invalid backend", dist.init_process_group, "carrier-pigeon")
    expect_error(TypeError, "datetime.timedelta", dist.init_process_group, timeout=30)
    expect_error(ValueError, f"world_size={world + 3} but MPI started {world}",
                 dist.init_process_group, world_size=world + 3)
    expect_error(ValueError, "rank=", dist.init_process_group, rank=(rank + 1) % world
                 if world > 1 else 5)
    assert not dist.is_initialized()
    dist.init_process_group("gloo", world_size=world, rank=rank,
                            timeout=datetime.timedelta(seconds=60))
    assert dist.get_backend() == "mpi"
    t = rt.ones(2)
    dist.all_reduce(t)
    np.testing.assert_array_equal(t.numpy(), [world, world])


def main(selected=None):
    import rt_distributed as dist
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=60))
    rank, world = dist.get_rank(), dist.get_world_size()
    for name, fn in CHECKS.items():
        if selected and name not in selected:
            continue
        try:
            fn(rank, world)
            print(f"RESULT {rank} {name} OK", flush=True)
        except Exception as e:  # a report, not a crash: the other ranks go on too
            msg = f"{type(e).__name__}: {e}".replace("\n", " | ")
            print(f"RESULT {rank} {name} FAIL {msg}", flush=True)
    dist.barrier()
    print(f"DONE {rank}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(set(sys.argv[1:]))
