"""The graph is freed after backward: many forward/backward iterations leave the memory
pool's in-use bytes flat and leave no reference cycles behind (checked with gc disabled, so
that only reference counting frees anything); saved tensors go when backward has used them.
"""
import contextlib
import gc
import weakref

import numpy as np
import pytest

import rt_autograd as rt
from rt_tensor import memory

F64 = rt.float64


def in_use():
    return memory.stats()["in_use_bytes"]


@contextlib.contextmanager
def gc_off():
    """Reference counting only; on exit the objects a collection would have found are
    reported (DEBUG_SAVEALL keeps them in gc.garbage instead of freeing them)."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    report = {}
    try:
        yield report
    finally:
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            report["collected"] = gc.collect()
            report["types"] = sorted({type(o).__name__ for o in gc.garbage})
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            if was:
                gc.enable()


def _leaves():
    rt.manual_seed(0)
    x = rt.randn(4, 4, dtype=F64, requires_grad=True)
    w = rt.randn(4, 4, dtype=F64, requires_grad=True)
    b = rt.randn(4, dtype=F64, requires_grad=True)
    return x, w, b


def _step(x, w, b):
    h = (x @ w + b).exp() * x
    h2 = h.reshape(16)[3:11] / 2
    loss = (h2 ** 2).sum() + (x - w).mean() + h.sum()
    loss.backward()


def test_10000_iterations_leave_in_use_bytes_flat():
    x, w, b = _leaves()
    for _ in range(10):                      # warm-up (first-use imports, caches) with gc on
        _step(x, w, b)
    with gc_off() as report:
        base = in_use()
        memory.reset_peak_stats()
        for _ in range(10_000):
            _step(x, w, b)
        after = in_use()
        peak = memory.stats()["peak_bytes"]
    assert after == base, f"in-use bytes grew from {base} to {after}"
    # one iteration's temporaries at a time, never the accumulation of many
    assert peak - base < 64 * 1024, (base, peak)
    assert report["collected"] == 0, report["types"]
    assert np.isfinite(x.grad.numpy()).all()


def test_10000_iterations_seed_graph_flat():
    x = rt.tensor(2.0, requires_grad=True)
    y = rt.tensor(3.0, requires_grad=True)
    (x * y + x ** 2).backward()
    with gc_off() as report:
        base = in_use()
        for _ in range(10_000):
            z = x * y + x ** 2
            z.backward()
        del z
        after = in_use()
    assert after == base
    assert report["collected"] == 0, report["types"]
    assert x.grad.item() == 7.0 * 10_001 and y.grad.item() == 2.0 * 10_001


def _scenario_no_backward(x, w, b):
    y = (x * w + b).exp().sum()
    del y


def _scenario_retain_graph(x, w, b):
    y = (x * w).exp().sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)


def _scenario_autograd_grad(x, w, b):
    y = (x @ w).exp().sum()
    rt.autograd.grad(y, [x, w])


def _scenario_double_backward(x, w, b):
    y = (x ** 3 * w).sum()
    g, = rt.autograd.grad(y, x, create_graph=True)
    (g * g).sum().backward()


def _scenario_hooks_and_retain_grad(x, w, b):
    h = x * w
    h.retain_grad()
    h.register_hook(lambda g: g * 2)
    handle = x.register_hook(lambda g: g)
    (h.exp() + b).sum().backward()
    handle.remove()
    assert h.grad is not None


def _scenario_inplace_on_views(x, w, b):
    h = x * 1
    h[0].mul_(2)
    h[:, 1] = w[:, 1]
    h.add_(b)
    (h * h).sum().backward()


class _Square(rt.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        ctx.note = "kept on ctx"
        return t * t

    @staticmethod
    def backward(ctx, g):
        t, = ctx.saved_tensors
        return 2 * t * g


def _scenario_custom_function(x, w, b):
    y = _Square.apply(x * w)
    z = _Square.apply(y)                 # the output of one Function saved by the next
    z.sum().backward()


def _scenario_output_saved_by_its_own_node(x, w, b):
    y = x.exp()                          # ExpBackward0 saves its output
    z = y.exp()
    z.sum().backward()


def _scenario_detach(x, w, b):
    y = (x * w).detach().requires_grad_()
    (y * b).sum().backward()


SCENARIOS = [_scenario_no_backward, _scenario_retain_graph, _scenario_autograd_grad,
             _scenario_double_backward, _scenario_hooks_and_retain_grad,
             _scenario_inplace_on_views, _scenario_custom_function,
             _scenario_output_saved_by_its_own_node, _scenario_detach]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__[10:] for s in SCENARIOS])
def test_no_reference_cycles_and_flat_memory(scenario):
    x, w, b = _leaves()
    scenario(x, w, b)                        # warm-up with gc on
    x.grad = w.grad = b.grad = None
    with gc_off() as report:
        base = in_use()
        for _ in range(200):
            scenario(x, w, b)
            x.grad = w.grad = b.grad = None
        after = in_use()
    assert report["collected"] == 0, f"reference cycles: {report['types']}"
    assert after == base, f"in-use bytes grew from {base} to {after}"


def test_graph_nodes_die_with_their_outputs_without_gc():
    x, w, b = _leaves()
    with gc_off():
        y = ((x * w).exp() + b).sum()
        nodes = []
        stack = [y.grad_fn]
        while stack:
            n = stack.pop()
            if n is None or type(n).__name__ == "AccumulateGrad":
                continue
            nodes.append(weakref.ref(n))
            stack.extend(e[0] for e in n.next_functions)
        assert len(nodes) >= 4
        del n, stack
        y.backward()
        assert all(r() is not None for r in nodes)       # y still holds its graph
        del y
        alive = [r() for r in nodes if r() is not None]
        assert alive == [], [a.name() for a in alive]


def test_graph_without_backward_dies_with_its_output():
    x, w, b = _leaves()
    with gc_off():
        y = (x * w).exp().sum()
        refs = [weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next_functions[0][0])]
        del y
        assert [r() for r in refs] == [None, None]


def test_leaf_dies_when_unreferenced_even_after_backward():
    with gc_off():
        x = rt.ones(8, dtype=F64, requires_grad=True)
        (x * 2).sum().backward()
        ref = weakref.ref(x)
        g = x.grad
        del x
        assert ref() is None
        assert g.tolist() == [2.0] * 8


def test_accumulate_grad_keeps_its_leaf_alive():
    # PyTorch's AccumulateGrad holds its variable: a graph keeps the leaf alive and
    # `grad_fn.next_functions[..][0].variable` is the leaf even when nothing else refers to
    # it (graph walkers such as torchviz rely on it). The leaf refers to its accumulator
    # weakly, so there is no cycle.
    y = (rt.ones(3, dtype=F64, requires_grad=True) + 1).sum()
    acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
    assert acc.name() == "torch::autograd::AccumulateGrad"
    assert acc.variable is not None
    assert acc.variable.tolist() == [1.0, 1.0, 1.0]


def test_backward_frees_saved_tensors_while_the_output_lives():
    n = 4096                                         # 32 KiB per float64 tensor
    x = rt.ones(n, dtype=F64, requires_grad=True)
    with gc_off():
        base = in_use()
        y = (x.exp() * x.exp()).sum()                # two saved intermediates, no other owner
        before = in_use()
        assert before - base >= 2 * n * 8
        y.backward()
        after = in_use()
        # the two saved exps are gone; x.grad (one tensor) is new; y (0-d) stays
        assert after - base <= n * 8 + 1024, (base, before, after)
        assert y.grad_fn is not None
        del y
        assert in_use() - base <= n * 8 + 1024


def test_retain_graph_keeps_saved_tensors_until_the_output_dies():
    n = 4096
    x = rt.ones(n, dtype=F64, requires_grad=True)
    with gc_off():
        base = in_use()
        y = (x.exp() * x.exp()).sum()
        y.backward(retain_graph=True)
        kept = in_use()
        assert kept - base >= 3 * n * 8                # two saved exps + x.grad
        del y
        assert in_use() - base <= n * 8 + 1024
