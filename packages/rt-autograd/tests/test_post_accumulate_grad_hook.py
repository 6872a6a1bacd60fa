"""Tensor.register_post_accumulate_grad_hook (PyTorch 2.1+): ``hook(tensor)`` runs on a leaf
right after its gradient has been accumulated into ``.grad``, during backward, once per
backward, in no-grad mode; leaves only; ``handle.remove()``. DDP's bucketed all-reduce is
driven by it."""
import numpy as np
import pytest

import rt_autograd as rt

F64 = rt.float64


def vals(t):
    return np.array(t.detach().numpy(), copy=True)


def leaf(values):
    return rt.tensor(values, dtype=F64, requires_grad=True)


def test_the_documented_sgd_example():
    v = rt.tensor([0., 0., 0.], requires_grad=True)
    lr = 0.01
    h = v.register_post_accumulate_grad_hook(lambda p: p.add_(p.grad, alpha=-lr))
    v.backward(rt.tensor([1., 2., 3.]))
    np.testing.assert_allclose(vals(v), [-0.01, -0.02, -0.03], rtol=1e-6)
    np.testing.assert_array_equal(vals(v.grad), [1., 2., 3.])
    h.remove()
    v.backward(rt.tensor([1., 1., 1.]))
    # removed: no second update, the gradient still accumulates
    np.testing.assert_allclose(vals(v), [-0.01, -0.02, -0.03], rtol=1e-6)
    np.testing.assert_array_equal(vals(v.grad), [2., 3., 4.])


def test_hook_gets_the_tensor_with_the_accumulated_grad_once_per_backward():
    w = leaf([1.0, 2.0])
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append((p, vals(p.grad))))
    # w is used twice: the engine sums both contributions first, the hook fires once
    (w * 3.0 + w * w).sum().backward()
    assert len(seen) == 1
    assert seen[0][0] is w
    np.testing.assert_array_equal(seen[0][1], [3 + 2 * 1.0, 3 + 2 * 2.0])
    # a second backward accumulates: the hook sees the sum
    (w * 10.0).sum().backward()
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[1][1], [5 + 10, 7 + 10])


def test_hooks_run_in_registration_order_after_tensor_hooks():
    w = leaf([1.0])
    order = []
    w.register_hook(lambda g: (order.append("tensor"), g * 2)[1])
    w.register_post_accumulate_grad_hook(lambda p: order.append(("post1", p.grad.item())))
    w.register_post_accumulate_grad_hook(lambda p: order.append(("post2", p.grad.item())))
    (w * 5.0).sum().backward()
    # the tensor hook doubled the gradient before it was accumulated
    assert order == ["tensor", ("post1", 10.0), ("post2", 10.0)]


def test_hook_fires_during_backward_before_deeper_leaves_are_reached():
    x = leaf([2.0])
    w1 = leaf([3.0])
    w2 = leaf([5.0])
    inner = w1 * x
    y = (w2 * inner).sum()
    seen = {}
    w2.register_post_accumulate_grad_hook(lambda p: seen.update(w1_grad=w1.grad))
    w1.register_post_accumulate_grad_hook(lambda p: seen.update(done=p.grad.item()))
    y.backward()
    assert seen["w1_grad"] is None          # w2's gradient was ready first
    assert seen["done"] == 10.0
    assert w2.grad.item() == 6.0


def test_hook_runs_in_no_grad_mode_unless_create_graph():
    w = leaf([1.0, 2.0])
    modes = []
    w.register_post_accumulate_grad_hook(lambda p: modes.append(rt.is_grad_enabled()))
    (w * w).sum().backward()
    (w * w).sum().backward(create_graph=True)
    assert modes == [False, True]


def test_not_called_without_a_gradient_for_the_leaf():
    a = leaf([1.0])
    b = leaf([2.0])
    calls = []
    a.register_post_accumulate_grad_hook(lambda p: calls.append("a"))
    b.register_post_accumulate_grad_hook(lambda p: calls.append("b"))
    # autograd.grad accumulates nothing: no hook
    (ga,) = rt.autograd.grad((a * b).sum(), (a,))
    assert ga.item() == 2.0 and calls == []
    # backward(inputs=...) accumulates only into the inputs
    (a * b).sum().backward(inputs=[b])
    assert calls == ["b"] and a.grad is None


def test_removing_one_hook_keeps_the_others():
    w = leaf([1.0])
    calls = []
    h1 = w.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    w.register_post_accumulate_grad_hook(lambda p: calls.append(2))
    h1.remove()
    h1.remove()                             # removing twice is harmless
    w.sum().backward()
    assert calls == [2]


def test_registering_on_a_non_leaf_or_a_tensor_without_grad_raises():
    w = leaf([1.0])
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered "
                                           "on non-leaf tensors"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                           "require gradient"):
        rt.tensor([1.0]).register_post_accumulate_grad_hook(lambda p: None)


def test_an_exception_in_the_hook_propagates_out_of_backward():
    w = leaf([1.0])

    def bad(p):
        raise ValueError("from the hook")
    w.register_post_accumulate_grad_hook(bad)
    with pytest.raises(ValueError, match="from the hook"):
        w.sum().backward()


def test_hook_can_replace_grad_with_a_view_that_later_accumulates_in_place():
    # DDP's gradient_as_bucket_view: the hook points .grad at a view of a flat buffer, later
    # backwards accumulate into that buffer in place
    flat = rt.zeros(3, dtype=F64)
    w = leaf([1.0, 2.0, 3.0])

    def to_view(p):
        if p.grad.data_ptr() != flat.data_ptr():
            flat.copy_(p.grad)
            p.grad = flat.view(3)
    w.register_post_accumulate_grad_hook(to_view)
    (w * 2.0).sum().backward()
    (w * 3.0).sum().backward()
    np.testing.assert_array_equal(vals(flat), [5.0, 5.0, 5.0])
    assert w.grad.data_ptr() == flat.data_ptr()


def test_accumulation_runs_as_soon_as_the_gradient_is_ready_in_later_graphs_too():
    # PyTorch runs AccumulateGrad with the highest priority. A leaf's accumulator is made at
    # its first use and kept; in a later graph it must still run before the nodes that come
    # after it (here: the backward of w1 * x, recorded after w2's accumulator existed).
    x = leaf([2.0])
    w1 = leaf([3.0])
    w2 = leaf([5.0])
    (w2 * 1.0).sum().backward()            # w2's accumulator is created here
    events = []
    w2.register_post_accumulate_grad_hook(lambda p: events.append("w2 accumulated"))
    for _ in range(2):
        events.clear()
        inner = w1 * x
        inner.register_hook(lambda g: events.append("inner's gradient"))
        (w2 * inner).sum().backward()
        assert events == ["w2 accumulated", "inner's gradient"]
