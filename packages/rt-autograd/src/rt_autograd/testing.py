"""Finite-difference checks of gradients: ``gradcheck`` and ``gradgradcheck`` (PyTorch's
``torch.autograd.gradcheck`` arguments, slow mode).

For every input that requires grad and every output element, the gradient autograd returns
for a unit ``grad_output`` is compared with central differences of the scalar
``L = Re(conj(v) * out[k])`` (``v`` = 1, and also ``1j`` for complex outputs): for a real
input the expected gradient is dL/dx; for a complex input z = x + iy it is dL/dx + i dL/dy,
which is PyTorch's convention for complex gradients (the conjugate Wirtinger derivative
times 2; PyTorch docs, "Autograd for Complex Numbers").
"""
import warnings

import numpy as np

import rt_tensor as _rtt

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when analytical and numerical gradients differ."""


def _as_tuple(x):
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


def _numpy_view(t):
    """A writable numpy view of ``t``'s data (for perturbing it in place)."""
    return t.detach().numpy()


def _outputs(func, inputs):
    from rt_autograd import Tensor
    out = func(*inputs)
    outs = _as_tuple(out)
    return tuple(o for o in outs if isinstance(o, _rtt.Tensor))


def _eval_scalar_parts(func, inputs):
    """Every output's values as complex128 numpy arrays. Evaluated with grad mode on: the
    function may itself differentiate (gradgradcheck)."""
    from rt_autograd.grad_mode import enable_grad
    with enable_grad():
        outs = _outputs(func, inputs)
        return [o.detach().to(_rtt.complex128).numpy().copy() if o.dtype.is_complex
                else o.detach().to(_rtt.float64).numpy().astype(np.complex128)
                for o in outs]


def _numerical_jacobians(func, inputs, diff_idx, eps):
    """For each differentiable input i: array [out_elems_total, in_elems, 2] of d(out)/dx and
    d(out)/dy (complex-valued output derivatives), by central differences."""
    jac = {}
    for i in diff_idx:
        x = inputs[i]
        arr = _numpy_view(x)
        is_complex = x.dtype.is_complex
        parts = (1, 1j) if is_complex else (1,)
        cols = []
        for idx in np.ndindex(arr.shape):
            col = []
            for step in parts:
                orig = arr[idx]
                arr[idx] = orig + eps * step
                plus = _eval_scalar_parts(func, inputs)
                arr[idx] = orig - eps * step
                minus = _eval_scalar_parts(func, inputs)
                arr[idx] = orig
                col.append(np.concatenate([((p - m) / (2 * eps)).reshape(-1)
                                           for p, m in zip(plus, minus)]) if plus else
                           np.zeros(0, np.complex128))
            cols.append(col)
        jac[i] = cols
    return jac


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Check the gradients of ``func`` at ``inputs`` against finite differences.

    ``inputs``: a tensor or tuple (only tensors that require grad are checked; they should be
    float64 or complex128). Returns True, or raises ``GradcheckError`` (returns False with
    ``raise_exception=False``) naming the input, output and the two Jacobians.

    >>> x = rt.randn(3, dtype=rt.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t).sum(), (x,))
    True
    """
    from rt_autograd import autograd
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs)
                if isinstance(t, _rtt.Tensor) and getattr(t, "requires_grad", False)]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i].dtype not in (_rtt.float64, _rtt.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          f"point or complex. This check will likely fail if all the inputs "
                          f"are not of double precision floating point or complex. ",
                          UserWarning, stacklevel=2)
    if not check_backward_ad:
        return True
    outs = _outputs(func, inputs)
    diff_inputs = [inputs[i] for i in diff_idx]
    numerical = _numerical_jacobians(func, inputs, diff_idx, eps)
    row = 0
    for oi, out in enumerate(outs):
        n_out = out.numel()
        if not out.requires_grad:
            # a non-differentiable output must have zero numerical derivative
            for i in diff_idx:
                for j, col in enumerate(numerical[i]):
                    for part in col:
                        if np.any(np.abs(part[row:row + n_out]) > atol):
                            return _fail(f"Numerical gradient for function expected to be zero: "
                                         f"output {oi} does not require grad but changes with "
                                         f"input {i}", raise_exception)
            row += n_out
            continue
        vs = (1, 1j) if out.dtype.is_complex else (1,)
        for k in range(n_out):
            for v in vs:
                go = _rtt.zeros(out.shape, dtype=out.dtype)
                go.view(-1)[k] = v
                grads = autograd.grad(out, diff_inputs, go, retain_graph=True,
                                      allow_unused=True)
                for pos, i in enumerate(diff_idx):
                    x = inputs[i]
                    g = grads[pos]
                    if g is None:
                        ga = np.zeros(x.numel(), np.complex128)
                    else:
                        if tuple(g.shape) != tuple(x.shape):
                            return _fail(f"Gradient for input {i} has shape {tuple(g.shape)}, "
                                         f"expected {tuple(x.shape)}", raise_exception)
                        if check_grad_dtypes and g.dtype != x.dtype:
                            return _fail(f"Gradient has dtype mismatch: input {i} is {x.dtype}, "
                                         f"gradient is {g.dtype}", raise_exception)
                        ga = g.detach().to(_rtt.complex128).numpy().reshape(-1)
                    # expected: dL/dx (+ i dL/dy), L = Re(conj(v) * out[k])
                    cols = numerical[i]
                    expected = np.empty(x.numel(), np.complex128)
                    for j, col in enumerate(cols):
                        dx = (np.conj(v) * col[0][row + k]).real
                        if len(col) > 1:
                            dy = (np.conj(v) * col[1][row + k]).real
                            expected[j] = dx + 1j * dy
                        else:
                            expected[j] = dx
                    if not np.allclose(ga, expected, rtol=rtol, atol=atol):
                        return _fail(
                            f"Jacobian mismatch for output {oi} with respect to input {i},\n"
                            f"numerical:{expected}\nanalytical:{ga}\n"
                            f"(output element {k}, grad_output {v})", raise_exception)
        row += n_out
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second derivatives: ``gradcheck`` of the function mapping (inputs, grad_outputs)
    to the gradients of ``func`` (computed with ``create_graph=True``).

    ``grad_outputs`` default to random tensors that require grad, as PyTorch's.
    """
    from rt_autograd import autograd
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _outputs(func, inputs)
        gen = np.random.default_rng(0)
        grad_outputs = []
        for o in outs:
            if not o.requires_grad:
                continue
            data = gen.standard_normal(tuple(o.shape))
            if o.dtype.is_complex:
                data = data + 1j * gen.standard_normal(tuple(o.shape))
            g = _rtt.tensor(data, dtype=o.dtype)
            if gen_non_contig_grad_outputs and g.dim() >= 1:
                g = _rtt.stack([g, g], -1).select(-1, 0)
            g.requires_grad_(True)
            grad_outputs.append(g)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, t in enumerate(inputs)
                if isinstance(t, _rtt.Tensor) and getattr(t, "requires_grad", False)]

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func, ins) if o.requires_grad]
        diff = [ins[i] for i in diff_idx]
        grads = autograd.grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_grad_dtypes=check_grad_dtypes)
