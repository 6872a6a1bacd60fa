"""The backward engine, as PyTorch 2.x: Tensor.backward(gradient, retain_graph,
create_graph, inputs), autograd.backward, autograd.grad (grad_outputs, allow_unused,
materialize_grads, several outputs/inputs, non-leaf inputs), accumulation, freed graphs,
higher-order gradients, un-broadcasting, the saved-tensor version check, graph order.
"""
import sys

import numpy as np
import pytest

import rt_autograd as rt

F64 = rt.float64
SECOND_BACKWARD = ("Trying to backward through the graph a second time \\(or directly access "
                   "saved tensors after they have already been freed\\)")
IMPLICIT_SCALAR = "grad can be implicitly created only for scalar outputs"
NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"
MODIFIED_INPLACE = ("one of the variables needed for gradient computation has been modified by "
                    "an inplace operation")


def vals(t):
    return np.array(t.detach().numpy(), copy=True)


def leaf(values, dtype=F64):
    return rt.tensor(values, dtype=dtype, requires_grad=True)


# ---- the seed check and Tensor.backward -------------------------------------------------------

def test_seed_check_x_y_plus_x_squared():
    x = rt.tensor(2.0, requires_grad=True)
    y = rt.tensor(3.0, requires_grad=True)
    z = x * y + x ** 2
    z.backward()
    assert x.grad.item() == 7.0
    assert y.grad.item() == 2.0
    assert z.item() == 10.0


def test_backward_of_non_scalar_without_gradient_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=IMPLICIT_SCALAR):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=IMPLICIT_SCALAR):
        rt.autograd.grad(x * 2, x)
    assert x.grad is None


def test_backward_of_one_element_non_scalar_is_implicit():
    x = leaf([3.0])
    (x * 2).backward()                           # numel 1: allowed, as in PyTorch
    np.testing.assert_array_equal(vals(x.grad), [2.0])


def test_backward_with_gradient_argument():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(rt.tensor([1.0, 10.0, 100.0], dtype=F64))
    np.testing.assert_array_equal(vals(x.grad), [2.0, 40.0, 600.0])
    x.grad = None
    (x * x).backward(gradient=rt.tensor([1.0, 1.0, 1.0], dtype=F64))
    np.testing.assert_array_equal(vals(x.grad), [2.0, 4.0, 6.0])


def test_backward_gradient_shape_mismatch_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape: grad_output\\[0\\] has a shape "
                                           "of .*\\[3\\].* and output\\[0\\] has a shape of "
                                           ".*\\[2\\]"):
        (x * 2).backward(rt.ones(3, dtype=F64))


def test_backward_of_tensor_without_grad_fn_raises():
    with pytest.raises(RuntimeError, match=NO_GRAD_FN):
        rt.ones(1).sum().backward()
    with pytest.raises(RuntimeError, match=NO_GRAD_FN):
        rt.autograd.grad(rt.ones(1).sum(), [leaf([1.0])])


def test_backward_on_a_leaf_accumulates_into_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0
    x.backward(rt.tensor(5.0, dtype=F64))
    assert x.grad.item() == 6.0


def test_gradients_accumulate_over_backward_calls():
    x = leaf([1.0, 2.0])
    for _ in range(3):
        (x * x).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [6.0, 12.0])
    g = x.grad
    (x * 1).sum().backward()
    assert x.grad is g                            # accumulated in place, same tensor
    np.testing.assert_array_equal(vals(g), [7.0, 13.0])
    x.grad.zero_()
    (x * 5).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [5.0, 5.0])


def test_first_gradient_is_not_an_alias_of_the_incoming_one():
    # AccumulateGrad stores a copy: changing the output gradient later changes nothing
    x = leaf([1.0, 2.0])
    g = rt.tensor([1.0, 1.0], dtype=F64)
    (x * 1).backward(g)
    g.mul_(100)
    np.testing.assert_array_equal(vals(x.grad), [1.0, 1.0])


def test_an_unshared_first_gradient_is_taken_over_not_copied():
    # as PyTorch's AccumulateGrad: a fresh gradient that nothing else refers to becomes .grad
    # itself; one that the caller or another edge still holds is copied
    import weakref
    made = []

    class Twice(rt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            out = g * 2
            made.append(weakref.ref(out))
            return out

    x = leaf([1.0, 2.0])
    Twice.apply(x).sum().backward()
    assert x.grad is made[0]()
    np.testing.assert_array_equal(vals(x.grad), [2.0, 2.0])
    y = leaf([1.0, 2.0])
    (y + y).sum().backward()               # one gradient object reaches y twice
    np.testing.assert_array_equal(vals(y.grad), [2.0, 2.0])


def test_diamond_graph_sums_contributions():
    x = leaf([1.0, 2.0])
    a = x * 2
    b = a * 3
    c = a * 4
    (b + c + a).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [16.0, 16.0])


def test_unused_leaf_gets_no_grad():
    x = leaf([1.0])
    y = leaf([2.0])
    (x * 2).sum().backward()
    assert y.grad is None


def test_leaf_grad_dtype_and_shape_follow_the_leaf():
    # un-broadcasting and dtype casting of gradients happen in one place in the engine
    x = rt.ones(3, 1, dtype=rt.float32, requires_grad=True)
    y = rt.ones(1, 4, dtype=F64, requires_grad=True)
    s = rt.ones(dtype=F64, size=()).requires_grad_()
    z = (x * y * s).sum()
    assert z.dtype == F64
    z.backward()
    assert x.grad.dtype == rt.float32 and tuple(x.grad.shape) == (3, 1)
    assert y.grad.dtype == F64 and tuple(y.grad.shape) == (1, 4)
    assert tuple(s.grad.shape) == ()
    np.testing.assert_array_equal(vals(x.grad), np.full((3, 1), 4.0))
    np.testing.assert_array_equal(vals(y.grad), np.full((1, 4), 3.0))
    assert s.grad.item() == 12.0


def test_deep_chain_does_not_recurse():
    x = leaf([1.0])
    y = x
    n = max(sys.getrecursionlimit() * 2, 5000)
    for _ in range(n):
        y = y + 1
    y.sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [1.0])


def test_wide_fan_in():
    x = leaf([1.0, 2.0])
    parts = [x * float(i) for i in range(200)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    total.sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [sum(range(200))] * 2)


def test_backward_works_under_no_grad():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    with rt.no_grad():
        y.backward()
    np.testing.assert_array_equal(vals(x.grad), [2.0, 4.0])
    assert rt.is_grad_enabled()


def test_node_runs_after_all_its_gradients_arrived():
    # topological order: the node of `a` runs once, with the sum of both paths
    x = leaf([1.0])
    a = x * 2
    calls = []
    a.grad_fn.register_prehook(lambda grads: calls.append(vals(grads[0])))
    b = a * 3
    c = (b * 1) * 1                     # a longer path to `a`
    (c + a).sum().backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [4.0])


def test_node_hooks_see_and_replace_gradients():
    x = leaf([1.0, 2.0])
    y = x * 3
    seen = {}

    def post(grad_inputs, grad_outputs):
        seen["in"] = vals(grad_inputs[0])
        seen["out"] = vals(grad_outputs[0])
        return (grad_inputs[0] * 0 + 7, grad_inputs[1]) if len(grad_inputs) > 1 else (
            grad_inputs[0] * 0 + 7,)

    h = y.grad_fn.register_hook(post)
    y.sum().backward()
    np.testing.assert_array_equal(seen["out"], [1.0, 1.0])
    np.testing.assert_array_equal(seen["in"], [3.0, 3.0])
    np.testing.assert_array_equal(vals(x.grad), [7.0, 7.0])
    h.remove()


# ---- retain_graph ------------------------------------------------------------------------------

def test_second_backward_raises_pytorch_message():
    x = leaf([1.0, 2.0])
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y.backward()
    with pytest.raises(RuntimeError, match="Specify retain_graph=True if you need to backward "
                                           "through the graph a second time"):
        rt.autograd.grad(y, x)


def test_second_backward_through_freed_mul_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    rt.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = x.exp().sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_allclose(vals(x.grad), 2 * np.exp([1.0, 2.0]))
    g, = rt.autograd.grad(y, x, retain_graph=True)
    np.testing.assert_allclose(vals(g), np.exp([1.0, 2.0]))
    y.backward()                                          # frees it now
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y.backward()


def test_shared_subgraph_freed_by_first_backward():
    x = leaf([1.0])
    h = x.exp()
    y1 = (h * 2).sum()
    y2 = (h * 3).sum()
    y1.backward()                                          # frees ExpBackward's saved output
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y2.backward()


# ---- create_graph: higher-order gradients ------------------------------------------------------

def _poly(x):
    # p(x) = x^4 - 2x^3 + 3x^2 - x + 5
    return x ** 4 - 2 * x ** 3 + 3 * x ** 2 - x + 5


def test_higher_order_derivatives_of_a_polynomial():
    xs = np.array([-1.5, 0.0, 0.5, 2.0])
    x = leaf(xs.tolist())
    y = _poly(x).sum()
    d1, = rt.autograd.grad(y, x, create_graph=True)
    assert d1.requires_grad and d1.grad_fn is not None
    d2, = rt.autograd.grad(d1.sum(), x, create_graph=True)
    d3, = rt.autograd.grad(d2.sum(), x, create_graph=True)
    d4, = rt.autograd.grad(d3.sum(), x, create_graph=True)
    np.testing.assert_allclose(vals(d1), 4 * xs ** 3 - 6 * xs ** 2 + 6 * xs - 1)
    np.testing.assert_allclose(vals(d2), 12 * xs ** 2 - 12 * xs + 6)
    np.testing.assert_allclose(vals(d3), 24 * xs - 12)
    np.testing.assert_allclose(vals(d4), np.full(4, 24.0))


@pytest.mark.parametrize("n", [2, 3, 5])
def test_d2_d3_of_power(n):
    x = leaf(1.5)
    y = x ** n
    d1, = rt.autograd.grad(y, x, create_graph=True)
    d2, = rt.autograd.grad(d1, x, create_graph=True)
    assert d1.item() == pytest.approx(n * 1.5 ** (n - 1))
    assert d2.item() == pytest.approx(n * (n - 1) * 1.5 ** (n - 2))
    d3, = rt.autograd.grad(d2, x, allow_unused=True, materialize_grads=True)
    assert d3.item() == pytest.approx(n * (n - 1) * (n - 2) * 1.5 ** (n - 3))


def test_second_derivative_of_exp_log_and_division():
    xs = np.array([0.5, 1.0, 2.0])
    x = leaf(xs.tolist())
    y = (x.exp() + x.log() + 1 / x).sum()
    d1, = rt.autograd.grad(y, x, create_graph=True)
    d2, = rt.autograd.grad(d1.sum(), x)
    np.testing.assert_allclose(vals(d1), np.exp(xs) + 1 / xs - 1 / xs ** 2)
    np.testing.assert_allclose(vals(d2), np.exp(xs) - 1 / xs ** 2 + 2 / xs ** 3)


# PyTorch warns once per process that backward(create_graph=True) makes a parameter/gradient
# reference cycle; these tests accept that warning either way.
_CYCLE_WARNING = "ignore:Using backward\\(\\) with create_graph=True:UserWarning"


@pytest.mark.filterwarnings(_CYCLE_WARNING)
def test_backward_create_graph_gives_differentiable_grad():
    x = leaf(2.0)
    (x ** 4).backward(create_graph=True)
    g = x.grad
    assert g.item() == 32.0 and g.requires_grad and g.grad_fn is not None
    x.grad = None
    g.backward()
    assert x.grad.item() == 48.0


@pytest.mark.filterwarnings(_CYCLE_WARNING)
def test_create_graph_accumulates_differentiably():
    x = leaf(2.0)
    (x ** 3).backward(create_graph=True)
    (x ** 2).backward(create_graph=True)          # x.grad = 3x^2 + 2x, with history
    g = x.grad
    assert g.item() == 16.0 and g.requires_grad
    h, = rt.autograd.grad(g, x)
    assert h.item() == 14.0                        # 6x + 2


def _hessian(f, x):
    """Hessian of scalar f at x by rows of double backward."""
    n = x.numel()
    rows = []
    for i in range(n):
        xi = x.detach().clone().requires_grad_()
        g, = rt.autograd.grad(f(xi), xi, create_graph=True)
        row, = rt.autograd.grad(g.reshape(-1)[i], xi, allow_unused=True, materialize_grads=True)
        rows.append(vals(row).reshape(-1))
    return np.stack(rows)


def test_hessian_vector_product_elementwise():
    xs = np.array([1.0, -1.0, 0.5])
    v = np.array([1.0, 2.0, -3.0])
    x = leaf(xs.tolist())
    f = (x ** 3).sum() + (x * x.exp()).sum()
    g, = rt.autograd.grad(f, x, create_graph=True)
    hv, = rt.autograd.grad(g, x, grad_outputs=rt.tensor(v.tolist(), dtype=F64))
    h_diag = 6 * xs + (2 + xs) * np.exp(xs)
    np.testing.assert_allclose(vals(hv), h_diag * v)


def test_hessian_vector_product_of_a_quadratic_form():
    # f(w) = 0.5 w^T A w + sum(w^3): H = (A + A^T)/2 + diag(6 w)
    A = np.array([[2.0, 1.0], [0.0, 3.0]])
    ws = np.array([1.0, -1.0])
    v = np.array([1.0, 2.0])
    At = rt.tensor(A.tolist(), dtype=F64)

    def f(w):
        return (w @ At @ w) * 0.5 + (w ** 3).sum()

    w = leaf(ws.tolist())
    g, = rt.autograd.grad(f(w), w, create_graph=True)
    np.testing.assert_allclose(vals(g), 0.5 * (A + A.T) @ ws + 3 * ws ** 2)
    hv, = rt.autograd.grad(g, w, grad_outputs=rt.tensor(v.tolist(), dtype=F64))
    H = 0.5 * (A + A.T) + np.diag(6 * ws)
    np.testing.assert_allclose(vals(hv), H @ v)
    np.testing.assert_allclose(_hessian(f, w), H)


def test_hessian_vector_product_via_dot_trick():
    # Pearlmutter: Hv = d/dx (g . v), with g = df/dx built with create_graph
    xs = np.array([0.3, 0.7])
    v = rt.tensor([1.0, -1.0], dtype=F64)
    x = leaf(xs.tolist())
    f = (x[0] ** 2) * (x[1] ** 3)
    g, = rt.autograd.grad(f, x, create_graph=True)
    hv, = rt.autograd.grad((g * v).sum(), x)
    a, b = xs
    H = np.array([[2 * b ** 3, 6 * a * b ** 2], [6 * a * b ** 2, 6 * a ** 2 * b]])
    np.testing.assert_allclose(vals(hv), H @ np.array([1.0, -1.0]))


def test_mixed_partial_derivatives():
    x = leaf(2.0)
    y = leaf(3.0)
    f = x ** 2 * y ** 3
    gx, gy = rt.autograd.grad(f, (x, y), create_graph=True)
    gxy, = rt.autograd.grad(gx, y, retain_graph=True)
    gyx, = rt.autograd.grad(gy, x)
    assert gxy.item() == gyx.item() == pytest.approx(6 * 2.0 * 9.0)


# ---- autograd.grad -------------------------------------------------------------------------------

def test_grad_returns_tuple_and_leaves_grad_untouched():
    x = leaf([1.0, 2.0])
    r = rt.autograd.grad((x * x).sum(), x)
    assert isinstance(r, tuple) and len(r) == 1
    np.testing.assert_array_equal(vals(r[0]), [2.0, 4.0])
    assert x.grad is None
    assert not r[0].requires_grad


def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    g, = rt.autograd.grad(x * x, x, grad_outputs=rt.tensor([3.0, 5.0], dtype=F64))
    np.testing.assert_array_equal(vals(g), [6.0, 20.0])
    g, = rt.autograd.grad([x * 3], [x], grad_outputs=[rt.ones(2, dtype=F64)])
    np.testing.assert_array_equal(vals(g), [3.0, 3.0])


def test_grad_several_outputs_and_inputs():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    o1 = a * b
    o2 = a + b
    ga, gb = rt.autograd.grad([o1.sum(), o2.sum()], [a, b], retain_graph=True)
    np.testing.assert_array_equal(vals(ga), [4.0, 5.0])
    np.testing.assert_array_equal(vals(gb), [2.0, 3.0])
    ga, gb = rt.autograd.grad([o1, o2], [a, b], grad_outputs=[rt.tensor([1.0, 2.0], dtype=F64),
                                                           rt.tensor([3.0, 5.0], dtype=F64)])
    np.testing.assert_array_equal(vals(ga), [6.0, 13.0])
    np.testing.assert_array_equal(vals(gb), [4.0, 9.0])


def test_grad_with_respect_to_non_leaf_inputs():
    a = leaf([1.0, 2.0])
    c = a * 2
    d = c * c
    gc, ga = rt.autograd.grad(d.sum(), [c, a])
    np.testing.assert_array_equal(vals(gc), [4.0, 8.0])
    np.testing.assert_array_equal(vals(ga), [8.0, 16.0])
    assert a.grad is None


def test_grad_does_not_run_hooks_of_branches_it_does_not_need():
    a = leaf([1.0])
    b = leaf([2.0])
    calls = []
    bb = b * 1
    bb.register_hook(lambda g: calls.append(1))
    y = (a * 3 + bb).sum()
    ga, = rt.autograd.grad(y, a)
    assert ga.item() == 3.0
    assert calls == []                        # b's branch was not needed for a's gradient


def test_grad_applies_the_inputs_tensor_hooks():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    g, = rt.autograd.grad((x * 3).sum(), x)
    np.testing.assert_array_equal(vals(g), [30.0, 30.0])
    y = leaf([1.0, 2.0])
    h = y * 2
    h.register_hook(lambda g: g * 10)
    g, = rt.autograd.grad((h * 3).sum(), h)
    np.testing.assert_array_equal(vals(g), [30.0, 30.0])


def test_grad_of_a_tensor_with_respect_to_itself():
    q = leaf(3.0)
    g, = rt.autograd.grad(q, q)
    assert g.item() == 1.0
    h = q * 2
    g, = rt.autograd.grad(h, h, grad_outputs=rt.tensor(5.0, dtype=F64))
    assert g.item() == 5.0


def test_grad_allow_unused_and_materialize_grads():
    x = leaf([1.0, 2.0])
    u = leaf([5.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph. Set "
                                           "allow_unused=True if this is the desired behavior."):
        rt.autograd.grad(y, [x, u], retain_graph=True)
    gx, gu = rt.autograd.grad(y, [x, u], allow_unused=True, retain_graph=True)
    np.testing.assert_array_equal(vals(gx), [2.0, 2.0])
    assert gu is None
    gx, gu = rt.autograd.grad(y, [x, u], materialize_grads=True, retain_graph=True)
    np.testing.assert_array_equal(vals(gu), [0.0])
    assert gu.dtype == u.dtype and tuple(gu.shape) == (1,)
    with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed when "
                                         "materialize_grads=True"):
        rt.autograd.grad(y, [x, u], materialize_grads=True, allow_unused=False)


def test_grad_input_that_does_not_require_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require "
                                           "grad"):
        rt.autograd.grad((x * 2).sum(), [rt.ones(1, dtype=F64)])


def test_grad_create_graph_result_requires_grad():
    x = leaf([1.0, 2.0])
    g, = rt.autograd.grad((x ** 2).sum(), x, create_graph=True)
    assert g.requires_grad
    g2, = rt.autograd.grad((x ** 2).sum(), x)
    assert not g2.requires_grad


def test_several_roots_on_the_same_node():
    # roots that share a grad_fn (outputs of one multi-output node, or one tensor given
    # twice) must each contribute; PyTorch: a.grad == [1, 1], b.grad == [6, 6]
    a = leaf([1.0, 2.0])
    o1, o2 = a.split(1)
    rt.autograd.backward([o1, o2], [rt.ones(1, dtype=F64), rt.ones(1, dtype=F64)])
    assert a.grad is not None, "the gradient was silently lost"
    np.testing.assert_array_equal(vals(a.grad), [1.0, 1.0])
    b = leaf([1.0, 2.0])
    y = (b * 3).sum()
    rt.autograd.backward([y, y])
    np.testing.assert_array_equal(vals(b.grad), [6.0, 6.0])
    c = leaf([1.0, 2.0])
    z = c * 3
    g, = rt.autograd.grad([z, z], c, [rt.ones(2, dtype=F64), rt.ones(2, dtype=F64)])
    np.testing.assert_array_equal(vals(g), [6.0, 6.0])


# ---- autograd.backward and the inputs= argument ------------------------------------------------

def test_autograd_backward_several_tensors():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    rt.autograd.backward([(a * b).sum(), (a + b).sum()])
    np.testing.assert_array_equal(vals(a.grad), [4.0, 5.0])
    np.testing.assert_array_equal(vals(b.grad), [2.0, 3.0])
    a.grad = b.grad = None
    rt.autograd.backward([a * b, a + b], [rt.ones(2, dtype=F64), rt.tensor([2.0, 2.0],
                                                                            dtype=F64)])
    np.testing.assert_array_equal(vals(a.grad), [5.0, 6.0])
    np.testing.assert_array_equal(vals(b.grad), [3.0, 4.0])
    a.grad = None
    rt.autograd.backward(a * 3, grad_tensors=rt.ones(2, dtype=F64))
    np.testing.assert_array_equal(vals(a.grad), [3.0, 3.0])


def test_backward_inputs_accumulates_only_into_them():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_array_equal(vals(a.grad), [3.0, 4.0])
    assert b.grad is None
    (a * b).sum().backward(inputs=b)
    np.testing.assert_array_equal(vals(b.grad), [1.0, 2.0])
    np.testing.assert_array_equal(vals(a.grad), [3.0, 4.0])


def test_backward_inputs_non_leaf_gets_grad():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    c = a * 2
    (c * b).sum().backward(inputs=[c])
    np.testing.assert_array_equal(vals(c.grad), [3.0, 4.0])
    assert a.grad is None and b.grad is None


def test_backward_inputs_empty_raises():
    a = leaf([1.0])
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be "
                                           "empty."):
        (a * 2).sum().backward(inputs=[])


# ---- saved tensors and the version counter -----------------------------------------------------

def test_saved_input_modified_in_place_raises():
    a = leaf([1.0, 2.0])
    b = a * 1
    c = b ** 2                       # saves b
    b.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED_INPLACE) as info:
        c.sum().backward()
    msg = str(info.value)
    assert "is at version 1; expected version 0 instead" in msg
    assert "[torch.DoubleTensor [2]]" in msg


def test_saved_output_modified_in_place_raises():
    a = leaf([1.0, 2.0])
    b = a.exp()                      # saves its output
    b.mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED_INPLACE):
        b.sum().backward()


def test_saved_tensor_modified_in_place_under_no_grad_still_raises():
    a = leaf([1.0, 2.0])
    b = a * 1
    c = b * b
    with rt.no_grad():
        b[0] = 7.0
    with pytest.raises(RuntimeError, match=MODIFIED_INPLACE):
        c.sum().backward()


def test_saved_tensor_modified_through_a_view_raises():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = a * 1
    c = b.exp()
    d = (c * c).sum()
    c[0].mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED_INPLACE):
        d.backward()


def test_in_place_on_unsaved_non_leaf_is_differentiated():
    a = leaf([1.0, 2.0])
    b = a * 3                        # MulBackward saves a (and the scalar), not b
    b.add_(1)
    b.mul_(a)                        # b = (3a + 1) * a
    b.sum().backward()
    np.testing.assert_array_equal(vals(a.grad), 6 * np.array([1.0, 2.0]) + 1)


def test_setitem_on_non_leaf():
    a = leaf([1.0, 2.0, 3.0])
    b = a * 2
    b[1] = 0.0
    (b * b).sum().backward()
    np.testing.assert_array_equal(vals(a.grad), [8.0, 0.0, 24.0])


def test_in_place_on_view_of_non_leaf_updates_base_history():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = a * 1
    row = b[0]
    row.mul_(10)
    (b * b).sum().backward()
    np.testing.assert_array_equal(vals(a.grad), [[200.0, 400.0], [6.0, 8.0]])


def test_version_error_does_not_depend_on_retain_graph():
    a = leaf([1.0, 2.0])
    b = a * 1
    c = b * b
    c.sum().backward(retain_graph=True)
    b.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED_INPLACE):
        c.sum().backward()


def test_double_backward_through_in_place_on_a_view_of_a_non_leaf():
    # PyTorch (CopySlices is differentiable): h = a*1; h[0].mul_(3); y = sum(h^2):
    # dy/da = [[18a00.. ]] and the second derivative d(sum dy/da)/da = [[18, 18], [2, 2]]
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    h = a * 1
    h[0].mul_(3)
    g, = rt.autograd.grad((h ** 2).sum(), a, create_graph=True)
    np.testing.assert_array_equal(vals(g), [[18.0, 36.0], [6.0, 8.0]])
    assert g.requires_grad, "the gradient through CopySlices lost its graph"
    h2, = rt.autograd.grad(g.sum(), a)
    np.testing.assert_array_equal(vals(h2), [[18.0, 18.0], [2.0, 2.0]])


def test_second_derivative_through_in_place_on_a_view_with_a_tensor_operand():
    # h = a*1; h[1:].mul_(a[:1]); y = sum(h*h) = a0^2 + a0^2 a1^2:
    # g = [2a0 + 2a0 a1^2, 2a0^2 a1] = [10, 4]; d(sum g)/da = [2 + 2a1^2 + 4a1, 4a0 a1 + 2a0^2]
    a = leaf([1.0, 2.0])
    h = a * 1
    h[1:].mul_(a[:1])
    g, = rt.autograd.grad((h * h).sum(), a, create_graph=True)
    np.testing.assert_array_equal(vals(g), [10.0, 4.0])
    h2, = rt.autograd.grad(g.sum(), a)
    np.testing.assert_array_equal(vals(h2), [18.0, 10.0])


def test_second_derivative_through_setitem_on_a_non_leaf():
    a = leaf([1.0, 2.0])
    h = a * 1
    h[0] = a[1] * a[1]
    g, = rt.autograd.grad((h * h).sum(), a, create_graph=True)
    np.testing.assert_array_equal(vals(g), [0.0, 36.0])
    h2, = rt.autograd.grad(g.sum(), a)
    np.testing.assert_array_equal(vals(h2), [0.0, 50.0])
