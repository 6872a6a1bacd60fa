"""User-defined ops with ``rt_autograd.autograd.Function``, as PyTorch 2.x's
``torch.autograd.Function`` behaves (docs: "Extending torch.autograd", ``FunctionCtx``):
forward/backward static methods and ``apply``, ``ctx.save_for_backward``/``saved_tensors``,
``ctx.needs_input_grad``, ``ctx.mark_dirty``, ``ctx.mark_non_differentiable``,
``ctx.set_materialize_grads``, non-tensor arguments, several outputs, returning an input,
``once_differentiable``, the ``<Name>Backward`` node, gradcheck/gradgradcheck of a custom
Function, and PyTorch's errors for bad gradients.
"""
import numpy as np
import pytest

import rt_autograd as rt
from rt_autograd.autograd import Function, FunctionCtx, once_differentiable
from rt_autograd.testing import gradcheck, gradgradcheck


def vals(t):
    return np.array(t.detach().numpy(), copy=True)


def leaf(values, dtype=rt.float64):
    return rt.tensor(values, dtype=dtype, requires_grad=True)


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y


class Cube(Function):
    """x**3 with a backward written in differentiable ops (twice differentiable)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x * x


class MulAdd(Function):
    """(a * b, a + b): two inputs, two outputs."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b, a + b

    @staticmethod
    def backward(ctx, g_prod, g_sum):
        a, b = ctx.saved_tensors
        return g_prod * b + g_sum, g_prod * a + g_sum


# ---- forward, backward, the node -----------------------------------------------------------

def test_custom_function_forward_and_backward():
    x = leaf([0.0, 1.0, -2.0])
    y = Exp.apply(x)
    np.testing.assert_allclose(vals(y), np.exp([0.0, 1.0, -2.0]))
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), np.exp([0.0, 1.0, -2.0]))


def test_grad_fn_is_named_after_the_class():
    x = leaf([1.0, 2.0])
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward"
    assert type(y.grad_fn).__name__ == "ExpBackward"
    assert repr(y.grad_fn).startswith("<ExpBackward object at ")
    assert "grad_fn=<ExpBackward>" in repr(y)
    assert isinstance(y.grad_fn, FunctionCtx)
    (fn, nr), = y.grad_fn.next_functions
    assert nr == 0 and fn.variable is x            # AccumulateGrad of the leaf


def test_ctx_is_the_node_and_keeps_attributes():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor):
            ctx.factor = factor
            ctx.in_shape = tuple(x.shape)
            return x * factor

        @staticmethod
        def backward(ctx, g):
            assert ctx.in_shape == (2,)
            return g * ctx.factor, None

    x = leaf([1.0, 2.0])
    y = Scale.apply(x, 2.5)
    assert y.grad_fn.factor == 2.5
    y.sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [2.5, 2.5])


def test_no_input_requires_grad_records_nothing():
    x = rt.tensor([1.0, 2.0], dtype=rt.float64)
    y = Exp.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    with rt.no_grad():
        z = Exp.apply(leaf([1.0]))
    assert not z.requires_grad and z.grad_fn is None


def test_forward_runs_with_grad_mode_off():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen["grad_enabled"] = rt.is_grad_enabled()
            y = x * 2
            seen["inner_requires_grad"] = y.requires_grad
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    y = Probe.apply(leaf([1.0]))
    assert seen == {"grad_enabled": False, "inner_requires_grad": False}
    assert y.grad_fn.name() == "ProbeBackward"


def test_legacy_instantiation_and_missing_methods_raise():
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward "
                                           "method is deprecated"):
        Exp()

    class NoForward(Function):
        pass

    with pytest.raises(NotImplementedError, match="You must implement the forward function for "
                                                  "custom autograd.Function."):
        NoForward.apply(leaf([1.0]))

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    y = NoBackward.apply(leaf([1.0]))
    with pytest.raises(NotImplementedError, match="You must implement either the backward or "
                                                  "vjp method for your custom autograd.Function "
                                                  "to use it with backward mode AD."):
        y.sum().backward()


# ---- save_for_backward / saved_tensors -----------------------------------------------------

def test_save_inputs_outputs_and_none():
    class Saver(Function):
        @staticmethod
        def forward(ctx, x, w):
            y = x * w
            ctx.save_for_backward(x, None, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, nothing, y = ctx.saved_tensors
            assert nothing is None
            np.testing.assert_allclose(vals(y), vals(x) * 3.0)
            return g * 3.0, g * x

    x = leaf([1.0, 2.0])
    w = leaf([3.0, 3.0])
    Saver.apply(x, w).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [3.0, 3.0])
    np.testing.assert_array_equal(vals(w.grad), [1.0, 2.0])


def test_saved_tensors_are_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = Exp.apply(x)
    y.sum().backward(retain_graph=True)     # kept: a second backward works
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), 2 * np.exp([1.0, 2.0]))
    message = "Trying to backward through the graph a second time"
    with pytest.raises(RuntimeError, match=message):
        y.sum().backward()
    with pytest.raises(RuntimeError, match=message):
        y.grad_fn.saved_tensors


def test_saved_tensor_modified_in_place_raises():
    x = leaf([1.0, 2.0])
    a = x * 1
    y = Cube.apply(a)
    a.add_(1)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient "
                                           "computation has been modified by an inplace "
                                           "operation: .* is at version 1; expected version 0 "
                                           "instead"):
        y.sum().backward()


def test_saved_output_modified_in_place_raises():
    x = leaf([1.0, 2.0])
    y = Exp.apply(x)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---- needs_input_grad and non-tensor arguments ---------------------------------------------

def test_needs_input_grad_in_forward_and_backward():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, k, name):
            seen.append(("forward", ctx.needs_input_grad))
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            seen.append(("backward", ctx.needs_input_grad))
            a_grad = g * 2 if ctx.needs_input_grad[0] else None
            b_grad = g * 2 if ctx.needs_input_grad[1] else None
            return a_grad, b_grad, None, None

    a = leaf([1.0])
    b = rt.tensor([1.0], dtype=rt.float64)
    Probe.apply(a, b, 2, "k").sum().backward()
    assert seen == [("forward", (True, False, False, False)),
                    ("backward", (True, False, False, False))]
    assert b.grad is None


def test_non_tensor_arguments_of_any_kind():
    class Poly(Function):
        @staticmethod
        def forward(ctx, coeffs, x, power, label, nothing):
            assert coeffs == [1.0, 2.0] and label == "poly" and nothing is None
            ctx.save_for_backward(x)
            ctx.coeffs, ctx.power = coeffs, power
            return coeffs[0] + coeffs[1] * x ** power

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return None, g * ctx.coeffs[1] * ctx.power * x ** (ctx.power - 1), None, None, None

    x = leaf([1.0, 2.0])
    y = Poly.apply([1.0, 2.0], x, 3, "poly", None)
    np.testing.assert_array_equal(vals(y), [3.0, 17.0])
    y.sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [6.0, 24.0])
    assert gradcheck(lambda t: Poly.apply([1.0, 2.0], t, 3, "poly", None), (leaf([0.5, -1.0]),))


# ---- several outputs, materialized gradients -----------------------------------------------

def test_multiple_outputs_share_the_node():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    p, s = MulAdd.apply(a, b)
    assert p.grad_fn is s.grad_fn
    assert (p.output_nr, s.output_nr) == (0, 1)
    (p.sum() + 2 * s.sum()).backward()
    np.testing.assert_array_equal(vals(a.grad), [5.0, 6.0])
    np.testing.assert_array_equal(vals(b.grad), [3.0, 4.0])


def test_unused_output_gets_a_zero_gradient_by_default():
    seen = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen["g2"] = g2
            return g1 * 2 + g2 * 3

    x = leaf([1.0, 2.0])
    first, _ = Two.apply(x)
    first.sum().backward()
    assert seen["g2"] is not None
    np.testing.assert_array_equal(vals(seen["g2"]), [0.0, 0.0])
    assert seen["g2"].dtype == rt.float64
    np.testing.assert_array_equal(vals(x.grad), [2.0, 2.0])


def test_set_materialize_grads_false_passes_none():
    seen = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen["grads"] = (g1, g2)
            out = None
            if g1 is not None:
                out = g1 * 2
            if g2 is not None:
                out = g2 * 3 if out is None else out + g2 * 3
            return out

    x = leaf([1.0, 2.0])
    _, second = Two.apply(x)
    second.sum().backward()
    g1, g2 = seen["grads"]
    assert g1 is None
    np.testing.assert_array_equal(vals(g2), [1.0, 1.0])
    np.testing.assert_array_equal(vals(x.grad), [3.0, 3.0])


def test_non_tensor_outputs_pass_through():
    class WithInfo(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, "info", None

        @staticmethod
        def backward(ctx, g, g_info, g_none):
            return g * 2

    x = leaf([1.0])
    y, info, nothing = WithInfo.apply(x)
    assert info == "info" and nothing is None
    y.sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [2.0])


# ---- returning an input ----------------------------------------------------------------------

def test_returning_an_input_gives_a_new_tensor_with_history():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = leaf([1.0, 2.0])
    y = Identity.apply(x)
    assert y is not x
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn.name() == "IdentityBackward"
    np.testing.assert_array_equal(vals(y), [1.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [3.0, 3.0])


# ---- mark_dirty: an in-place custom function -------------------------------------------------

class DoubleInplace(Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_mark_dirty_rebases_the_input():
    x = leaf([1.0, 2.0])
    a = x * 1
    v0 = a._version
    out = DoubleInplace.apply(a)
    assert out is a
    assert a._version > v0
    assert a.grad_fn.name() == "DoubleInplaceBackward"
    np.testing.assert_array_equal(vals(a), [2.0, 4.0])
    (a * a).sum().backward()                   # d/dx (2x)^2 = 8x
    np.testing.assert_array_equal(vals(x.grad), [8.0, 16.0])


def test_mark_dirty_on_a_leaf_that_requires_grad_raises():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation."):
        DoubleInplace.apply(leaf([1.0]))


def test_mark_dirty_without_grad_just_runs():
    t = rt.tensor([1.0, 3.0], dtype=rt.float64)
    out = DoubleInplace.apply(t)
    assert out is t and not t.requires_grad
    np.testing.assert_array_equal(vals(t), [2.0, 6.0])


def test_mark_dirty_invalidates_earlier_saved_values():
    x = leaf([1.0, 2.0])
    a = x * 1
    y = a * a                                   # saves a
    DoubleInplace.apply(a)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_mark_dirty_gradcheck():
    def fn(x):
        return DoubleInplace.apply(x.clone())

    assert gradcheck(fn, (leaf([1.0, -2.0]),))
    assert gradgradcheck(fn, (leaf([1.0, -2.0]),))


def test_mark_dirty_on_a_view_updates_the_base():
    x = leaf([1.0, 1.0, 1.0])
    a = x.clone()
    DoubleInplace.apply(a[:2])
    a.sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [2.0, 2.0, 1.0])


def test_mark_dirty_tensor_must_be_returned():
    class Forgets(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="Some elements marked as dirty during the forward "
                                           "method were not returned as output. The inputs "
                                           "that are modified inplace must all be outputs of "
                                           "the Function."):
        Forgets.apply(leaf([1.0]) * 1)


# ---- mark_non_differentiable ----------------------------------------------------------------

class SortWithIndices(Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = x.sort()
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.n = x.shape[0]
        return values, indices

    @staticmethod
    def backward(ctx, g, g_indices):
        indices, = ctx.saved_tensors
        grad = rt.zeros(ctx.n, dtype=g.dtype)
        for pos, i in enumerate(indices.tolist()):
            grad[i] = g[pos]
        return grad


def test_mark_non_differentiable_indices():
    x = leaf([3.0, 1.0, 2.0])
    values, indices = SortWithIndices.apply(x)
    assert values.requires_grad and not indices.requires_grad and indices.grad_fn is None
    (values * rt.tensor([1.0, 10.0, 100.0], dtype=rt.float64)).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [100.0, 1.0, 10.0])


def test_mark_non_differentiable_float_output_gets_zero_gradient():
    seen = {}

    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            kept, dropped = x * 2, x * 3
            ctx.mark_non_differentiable(dropped)
            return kept, dropped

        @staticmethod
        def backward(ctx, g_kept, g_dropped):
            seen["g_dropped"] = g_dropped
            return g_kept * 2

    x = leaf([1.0, 2.0])
    kept, dropped = Split.apply(x)
    assert kept.requires_grad and not dropped.requires_grad
    kept.sum().backward()
    np.testing.assert_array_equal(vals(seen["g_dropped"]), [0.0, 0.0])
    np.testing.assert_array_equal(vals(x.grad), [2.0, 2.0])
    assert gradcheck(lambda t: Split.apply(t), (leaf([0.5, 1.5]),))


def test_integer_outputs_are_not_differentiable():
    class ArgmaxToo(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x.argmax()

        @staticmethod
        def backward(ctx, g, g_index):
            return g * 2

    values, index = ArgmaxToo.apply(leaf([1.0, 5.0]))
    assert values.requires_grad and not index.requires_grad
    assert index.item() == 1


# ---- once_differentiable --------------------------------------------------------------------

class OnceSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        assert not rt.is_grad_enabled()
        x, = ctx.saved_tensors
        return 2 * x * g


def test_once_differentiable_first_order():
    x = leaf([1.0, -3.0])
    OnceSquare.apply(x).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [2.0, -6.0])
    assert gradcheck(OnceSquare.apply, (leaf([0.3, 2.0]),))


def test_once_differentiable_backward_does_not_record():
    x = leaf([1.0, -3.0])
    g, = rt.autograd.grad(OnceSquare.apply(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(vals(g), [2.0, -6.0])
    assert not g.requires_grad
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        rt.autograd.grad(g.sum(), x)


def test_once_differentiable_second_order_raises_pytorch_error():
    # PyTorch 2.13: the gradient gets an Error node, which raises when backward reaches it
    x = leaf([1.0, -3.0])
    v = leaf([1.0, 1.0])
    g, = rt.autograd.grad(OnceSquare.apply(x), x, v, create_graph=True)
    assert g.requires_grad
    assert g.grad_fn.name() == "torch::autograd::Error"
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                           "marked with @once_differentiable"):
        g.sum().backward()


# ---- gradcheck / gradgradcheck of custom Functions ------------------------------------------

def test_custom_function_gradcheck_and_gradgradcheck():
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))
    a, b = leaf([0.5, -1.0]), leaf([2.0, 0.25])
    assert gradcheck(MulAdd.apply, (a, b))
    assert gradgradcheck(MulAdd.apply, (a, b))
    # non-contiguous input
    m = rt.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=rt.float64).t().requires_grad_()
    assert gradcheck(Cube.apply, (m,))


def test_custom_function_complex_gradcheck():
    class Square(Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, g):
            z, = ctx.saved_tensors
            return g * (2 * z).conj()          # grad * conj(f'(z)): PyTorch's convention

    z = leaf([1 + 2j, -0.5 + 0.25j], dtype=rt.complex128)
    assert gradcheck(Square.apply, (z,))


def test_custom_function_composes_with_builtin_ops():
    x = leaf([0.5, 2.0])
    y = Exp.apply(Cube.apply(x) * 2)            # exp(2 x^3)
    y.sum().backward()
    xv = np.array([0.5, 2.0])
    np.testing.assert_allclose(vals(x.grad), np.exp(2 * xv ** 3) * 6 * xv ** 2)
    assert gradgradcheck(lambda t: Cube.apply(Cube.apply(t) * 2), (leaf([0.5, -0.7]),))


# ---- bad gradients from backward -------------------------------------------------------------

def _returning(fn, nargs=1):
    class Returning(Function):
        @staticmethod
        def forward(ctx, x, *rest):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return fn(g)

    return Returning


def test_too_few_gradients_raises():
    with pytest.raises(RuntimeError, match=r"function ReturningBackward returned an incorrect "
                                           r"number of gradients \(expected 2, got 1\)"):
        _returning(lambda g: g).apply(leaf([1.0]), 3).sum().backward()


def test_too_many_gradients_raises():
    with pytest.raises(RuntimeError, match=r"function ReturningBackward returned an incorrect "
                                           r"number of gradients \(expected 1, got 2\)"):
        _returning(lambda g: (g, g)).apply(leaf([1.0])).sum().backward()


def test_trailing_none_gradients_are_ignored():
    x = leaf([1.0, 2.0])
    _returning(lambda g: (g, None, None)).apply(x).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [1.0, 1.0])


def test_gradient_of_wrong_shape_raises():
    x = leaf([1.0, 2.0, 3.0])
    fn = _returning(lambda g: rt.ones(2, dtype=rt.float64))
    with pytest.raises(RuntimeError, match=r"Function ReturningBackward returned an invalid "
                                           r"gradient at index 0 - got \[2\] but expected shape "
                                           r"compatible with \[3\]"):
        fn.apply(x).sum().backward()


def test_gradient_expandable_to_the_input_is_summed():
    # PyTorch's validate_outputs: a gradient the input's shape broadcasts to is summed down
    x = leaf([1.0, 2.0, 3.0])
    _returning(lambda g: rt.ones(2, 3, dtype=rt.float64)).apply(x).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [2.0, 2.0, 2.0])


def test_gradient_of_other_dtype_is_cast_to_the_input_dtype():
    x = leaf([1.0, 2.0])
    _returning(lambda g: g.to(rt.float32) * 2).apply(x).sum().backward()
    assert x.grad.dtype == rt.float64
    np.testing.assert_array_equal(vals(x.grad), [2.0, 2.0])


def test_non_tensor_gradient_raises_pytorch_error():
    with pytest.raises(RuntimeError, match=r"expected Variable or None \(got int\)"):
        _returning(lambda g: 3).apply(leaf([1.0])).sum().backward()


def test_gradient_for_a_non_tensor_argument_raises():
    with pytest.raises(RuntimeError, match="function ReturningBackward returned a gradient "
                                           "different than None at position 2, but the "
                                           "corresponding forward input was not a Variable"):
        _returning(lambda g: (g, g)).apply(leaf([1.0]), 3).sum().backward()


# ---- PyTorch 2.x API surface the core does not have yet -------------------------------------

def test_setup_context_style():
    class Scale(Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, k = inputs
            ctx.k = k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = leaf([1.0, 2.0])
    Scale.apply(x, 3.0).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [3.0, 3.0])


def test_autograd_function_module_path():
    from rt_autograd.autograd.function import Function as F2   # noqa: F401
    from rt_autograd.autograd.function import once_differentiable as od   # noqa: F401
    assert F2 is Function and od is once_differentiable
