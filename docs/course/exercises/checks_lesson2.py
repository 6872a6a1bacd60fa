"""Checks of lesson 2's exercises: each takes the module under test (your template or the
worked solution) and checks real numbers against numpy, finite differences and graphs built
here."""
import math

import numpy as np
import rt_autograd as rt


def check_silu(module):
    assert issubclass(module.SiLU, rt.autograd.Function)
    values = [-20.0, -3.0, -0.5, 0.0, 0.25, 2.0, 15.0]
    x = rt.tensor(values, dtype=rt.float64, requires_grad=True)
    y = module.silu(x)
    assert y.grad_fn is not None and y.grad_fn.name() == "SiLUBackward", \
        "silu(x) must go through SiLU.apply"
    xn = np.array(values)
    sigmoid = 1.0 / (1.0 + np.exp(-xn))
    assert np.allclose(y.detach().numpy(), xn * sigmoid, rtol=1e-14, atol=1e-300)

    grad_output = rt.tensor([1.0, -2.0, 0.5, 3.0, 1.5, -1.0, 0.25], dtype=rt.float64)
    y.backward(grad_output)
    expected = grad_output.numpy() * sigmoid * (1.0 + xn * (1.0 - sigmoid))
    assert np.allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-300)

    rt.manual_seed(2)
    for shape in [(5,), (2, 3)]:
        sample = (rt.randn(*shape, dtype=rt.float64) * 3).requires_grad_(True)
        assert rt.autograd.gradcheck(module.silu, (sample,))

    single = module.silu(rt.tensor([1.0], dtype=rt.float32))
    assert single.dtype == rt.float32
    assert math.isclose(single.item(), 1.0 / (1.0 + math.exp(-1.0)), rel_tol=1e-6)


def _reachable(output):
    nodes, to_visit = {}, [output.grad_fn]
    while to_visit:
        node = to_visit.pop()
        if id(node) not in nodes:
            nodes[id(node)] = node
            to_visit.extend(n for n, _ in node.next_functions if n is not None)
    return nodes


def check_order(module):
    a = rt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = rt.tensor([4.0, 5.0, 6.0], requires_grad=True)
    c = rt.tensor([7.0, 8.0, 9.0], requires_grad=True)
    constant = rt.tensor([0.5, 0.5, 0.5])
    h = (a * b).exp()
    outputs = {
        "(a * b + c).sum()": (a * b + c).sum(),
        "(a * a + a).sum()": (a * a + a).sum(),
        "diamond": (h * h + h.sin() + c * constant).sum(),
        "chain": (((a * 2).tanh() * b).relu() - c).mean(),
        "a short and a long path": (h + h.sin().cos().exp()).sum(),
    }
    for name, output in outputs.items():
        order = module.topological_order(output)
        nodes = _reachable(output)
        assert len(order) == len(nodes), f"{name}: {len(order)} nodes, expected {len(nodes)}"
        assert {id(n) for n in order} == set(nodes), f"{name}: not the graph's nodes"
        position = {id(n): i for i, n in enumerate(order)}
        for node in nodes.values():
            for nxt, _ in node.next_functions:
                if nxt is not None:
                    assert position[id(node)] < position[id(nxt)], \
                        f"{name}: {node.name()} must come before {nxt.name()}"


def check_accumulation(module):
    rt.manual_seed(1)
    inputs = rt.randn(10, 3, dtype=rt.float64)
    targets = rt.randn(10, dtype=rt.float64)
    x, t = inputs.numpy(), targets.numpy()
    for micro_batch in (1, 3, 4, 10):
        w = rt.tensor([0.5, -1.0, 2.0], dtype=rt.float64, requires_grad=True)
        w.grad = rt.full((3,), 100.0, dtype=rt.float64)       # a stale gradient
        passes = []
        handle = w.register_hook(lambda grad: passes.append(1))
        result = module.accumulated_gradient(w, inputs, targets, micro_batch)
        handle.remove()
        expected = 2.0 / 10 * x.T @ (x @ w.detach().numpy() - t)   # d/dw mean((xw - t)^2)
        assert np.allclose(result.numpy(), expected, rtol=1e-12), micro_batch
        assert np.allclose(w.grad.numpy(), expected, rtol=1e-12), micro_batch
        assert len(passes) == math.ceil(10 / micro_batch), \
            f"micro_batch={micro_batch}: {len(passes)} backward passes reached w"
