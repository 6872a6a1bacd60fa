"""``rt_autograd.testing.gradcheck`` / ``gradgradcheck`` (PyTorch's
``torch.autograd.gradcheck`` / ``gradgradcheck``): they pass correct gradients and catch wrong
ones: a Function with a deliberately wrong backward fails (False with
``raise_exception=False``, ``GradcheckError`` otherwise), for real and complex inputs and
outputs, several inputs and outputs, and outputs that are not differentiable; plus PyTorch's
input checks (no input requiring grad, non-double inputs, stride-0 inputs) and the
reentrancy check (``nondet_tol``).
"""
import numpy as np
import pytest

import rt_autograd as rt
from rt_autograd.autograd import Function
from rt_autograd.testing import GradcheckError, gradcheck, gradgradcheck


def leaf(values, dtype=rt.float64):
    return rt.tensor(values, dtype=dtype, requires_grad=True)


def scaled(factor_fwd, factor_bwd, name="Scaled"):
    """y = factor_fwd * x with backward g * factor_bwd: right when the two agree."""
    class Scaled(Function):
        @staticmethod
        def forward(ctx, x):
            return x * factor_fwd

        @staticmethod
        def backward(ctx, g):
            return g * factor_bwd

    Scaled.__name__ = name
    return Scaled


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x * x


class CubeDetachedBackward(Function):
    """First derivative right, but backward is not differentiable in x (x is detached): the
    second derivative autograd computes through it is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x.detach() * x.detach()


# ---- correct gradients pass ------------------------------------------------------------------

def test_correct_function_passes():
    x = leaf([0.5, -1.5, 2.0])
    assert gradcheck(lambda t: (t * t * t).sum(), (x,)) is True
    assert gradcheck(Cube.apply, (x,)) is True
    assert gradcheck(Cube.apply, x) is True                 # a single tensor, not a tuple
    assert gradgradcheck(Cube.apply, (x,)) is True


def test_zero_dim_and_non_contiguous_inputs():
    assert gradcheck(Cube.apply, (leaf(1.5),))
    m = rt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=rt.float64).t().requires_grad_()
    assert not m.is_contiguous()
    assert gradcheck(lambda t: t * t, (m,))
    assert gradgradcheck(Cube.apply, (m,))


def test_several_inputs_and_non_tensor_arguments():
    a, b = leaf([1.0, 2.0]), leaf([0.5, -1.0])
    c = rt.tensor([3.0, 4.0], dtype=rt.float64)              # does not require grad: not checked
    assert gradcheck(lambda x, k, y, z: x * y * k + z, (a, 2.0, b, c))
    assert gradgradcheck(lambda x, k, y, z: x * y * k + z, (a, 2.0, b, c))


def test_input_the_output_does_not_depend_on():
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    assert gradcheck(lambda x, unused: x * 2, (a, b))


def test_alias_in_autograd_namespace():
    assert rt.autograd.gradcheck(Cube.apply, (leaf([1.0]),))
    assert rt.autograd.gradgradcheck(Cube.apply, (leaf([1.0]),))


# ---- wrong gradients fail --------------------------------------------------------------------

def test_wrong_backward_fails():
    wrong = scaled(2.0, 3.0)
    x = leaf([1.0, 2.0])
    assert gradcheck(wrong.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match=r"Jacobian mismatch for output 0 with respect to "
                                             r"input 0,\nnumerical:[\s\S]*\nanalytical:") as info:
        gradcheck(wrong.apply, (x,))
    assert isinstance(info.value, RuntimeError)
    assert "2." in str(info.value) and "3." in str(info.value)
    assert gradcheck(scaled(2.0, 2.0).apply, (x,))          # the same op, right backward


def test_wrong_gradient_for_second_input_is_named():
    class Prod(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * b                      # second one should be g * a

    a, b = leaf([1.0, 2.0]), leaf([3.0, 5.0])
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 1"):
        gradcheck(Prod.apply, (a, b))


def test_wrong_gradient_for_second_output_is_named():
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 4                   # second output's derivative is 3

    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 1 with respect to "
                                             "input 0"):
        gradcheck(Two.apply, (leaf([1.0, 2.0]),))
    assert gradcheck(Two.apply, (leaf([1.0, 2.0]),), raise_exception=False) is False


def test_tolerances():
    off = scaled(1.0, 1.0 + 1e-4)                     # relative error 1e-4
    x = leaf([1.0, 2.0])
    assert gradcheck(off.apply, (x,))                  # rtol=1e-3 by default
    assert not gradcheck(off.apply, (x,), rtol=1e-6, atol=1e-9, raise_exception=False)
    assert gradcheck(scaled(1.0, 1.5).apply, (x,), atol=1.0)


def test_gradgradcheck_catches_a_non_differentiable_backward():
    x = leaf([0.5, -1.5])
    assert gradcheck(CubeDetachedBackward.apply, (x,))          # first order is right
    assert gradgradcheck(CubeDetachedBackward.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(CubeDetachedBackward.apply, (x,))


def test_gradgradcheck_explicit_and_non_contiguous_grad_outputs():
    x = leaf([0.5, -1.5, 1.0])
    go = leaf([1.0, -2.0, 0.5])
    assert gradgradcheck(Cube.apply, (x,), (go,))
    assert gradgradcheck(Cube.apply, (x,), gen_non_contig_grad_outputs=True)


# ---- complex ------------------------------------------------------------------------------------

def complex_square(conj_in_backward):
    class Square(Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, g):
            z, = ctx.saved_tensors
            d = 2 * z
            return g * (d.conj() if conj_in_backward else d)

    return Square


def test_complex_holomorphic_function():
    z = leaf([1 + 2j, -0.5 + 0.25j], dtype=rt.complex128)
    assert gradcheck(complex_square(True).apply, (z,))
    # without the conjugate (not PyTorch's convention) the gradient is wrong
    assert gradcheck(complex_square(False).apply, (z,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="While considering the real part of complex "
                                             "outputs only, Jacobian mismatch"):
        gradcheck(complex_square(False).apply, (z,))


def test_complex_input_real_output():
    class AbsSquared(Function):              # |z|^2, gradient 2z (PyTorch's convention)
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return (z * z.conj()).real

        @staticmethod
        def backward(ctx, g):
            z, = ctx.saved_tensors
            return g * 2 * z

    class AbsSquaredWrong(AbsSquared):
        @staticmethod
        def backward(ctx, g):
            z, = ctx.saved_tensors
            return g * 2 * z.conj()

    z = leaf([1 + 2j, -0.5 + 0.25j], dtype=rt.complex128)
    assert gradcheck(AbsSquared.apply, (z,))
    assert gradcheck(AbsSquaredWrong.apply, (z,), raise_exception=False) is False


def test_real_input_complex_output_checks_the_imaginary_part():
    c = 1 + 2j

    class ToComplex(Function):
        @staticmethod
        def forward(ctx, x):
            return x.to(rt.complex128) * c

        @staticmethod
        def backward(ctx, g):
            return (g * np.conj(c)).real

    class ToComplexRealOnly(ToComplex):
        @staticmethod
        def backward(ctx, g):                # right for the real part, misses the imaginary
            return g.real * np.real(c)

    x = leaf([1.0, -2.0])
    assert gradcheck(ToComplex.apply, (x,))
    with pytest.raises(GradcheckError, match="While considering the imaginary part of complex "
                                             "outputs only, Jacobian mismatch"):
        gradcheck(ToComplexRealOnly.apply, (x,))


def test_complex_gradgradcheck():
    z = leaf([1 + 2j, -0.5 + 0.25j], dtype=rt.complex128)
    assert gradgradcheck(lambda t: rt.einsum("i,i->i", t, t), (z,))


# ---- non-differentiable outputs ---------------------------------------------------------------

def test_non_differentiable_outputs_next_to_differentiable_ones_are_ignored():
    x = leaf([3.0, 1.0, 2.0])
    assert gradcheck(lambda t: (t * 2, t.argmax()), (x,))
    assert gradcheck(lambda t: (t * 2, (t * 3).detach()), (x,))

    class WithMarked(Function):
        @staticmethod
        def forward(ctx, t):
            kept, dropped = t * 2, t * 3
            ctx.mark_non_differentiable(dropped)
            return kept, dropped

        @staticmethod
        def backward(ctx, g, g_dropped):
            return g * 2

    assert gradcheck(WithMarked.apply, (x,))
    assert gradgradcheck(WithMarked.apply, (x,))


def test_only_non_differentiable_outputs_must_be_constant():
    x = leaf([3.0, 1.0, 2.0])
    assert gradcheck(lambda t: t.argmax(), (x,))             # integer output: constant
    assert gradcheck(lambda t: (t * 3).detach(), (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be "
                                             "zero"):
        gradcheck(lambda t: (t * 3).detach(), (x,))


# ---- input checks ------------------------------------------------------------------------------

def test_no_input_requires_grad():
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to "
                                         "require gradient, but none of the them have "
                                         "requires_grad=True."):
        gradcheck(lambda t: t * 2, (rt.tensor([1.0], dtype=rt.float64),))


def test_single_precision_input_warns():
    x = leaf([1.0, 2.0], dtype=rt.float32)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double "
                                         "precision floating point or complex."):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_stride_zero_input_is_refused():
    x = rt.tensor([1.0, 2.0], dtype=rt.float64).expand(3, 2).requires_grad_()
    with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0. "
                                           "gradcheck only supports inputs that are "
                                           "non-overlapping"):
        gradcheck(lambda t: t * 2, (x,))


def test_backward_ad_and_forward_ad_both_off():
    with pytest.raises(AssertionError, match="Expected at least one of check_forward_ad or "
                                             "check_backward_ad to be True"):
        gradcheck(Cube.apply, (leaf([1.0]),), check_backward_ad=False)


def test_pytorch_keyword_arguments_are_accepted():
    x = leaf([0.5, 1.0])
    assert gradcheck(Cube.apply, (x,), eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                     nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=True,
                     check_batched_grad=False, check_batched_forward_grad=False,
                     check_forward_ad=False, check_backward_ad=True, fast_mode=True,
                     masked=None)
    assert gradgradcheck(Cube.apply, (x,), None, eps=1e-6, atol=1e-5, rtol=1e-3,
                         gen_non_contig_grad_outputs=False, raise_exception=True,
                         nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                         check_batched_grad=False, check_fwd_over_rev=False,
                         check_rev_over_rev=True, fast_mode=False, masked=False)


# ---- reentrancy (nondet_tol) -------------------------------------------------------------------

def test_non_reentrant_backward_is_caught():
    calls = []

    class Drifting(Function):
        """Backward drifts by 1e-8 per call: invisible to the numerical comparison, but two
        runs with the same grad_output differ."""

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g * (2 + 1e-8 * len(calls))

    x = leaf([1.0, 2.0])
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(Drifting.apply, (x,))
    assert gradcheck(Drifting.apply, (x,), raise_exception=False) is False
    assert gradcheck(Drifting.apply, (x,), nondet_tol=1e-3)
