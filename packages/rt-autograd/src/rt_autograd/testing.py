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


def _check_inputs(inputs, diff_idx):
    """PyTorch's ``_check_inputs``: a warning for inputs that are not double precision, and an
    error for inputs with a stride-0 dimension (perturbing one element would move several)."""
    for i in diff_idx:
        t = inputs[i]
        if t.dtype not in (_rtt.float64, _rtt.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          f"point or complex. This check will likely fail if all the inputs "
                          f"are not of double precision floating point or complex. ",
                          UserWarning, stacklevel=3)
        if not all(st > 0 or sz <= 1 for st, sz in zip(t.stride(), t.shape)):
            raise RuntimeError(f"The {i}th input has a dimension with stride 0. gradcheck only "
                               f"supports inputs that are non-overlapping to be able to compute "
                               f"the numerical gradients correctly. You should call .contiguous "
                               f"on the input before passing it to gradcheck.")


def _fmt(a):
    with np.printoptions(precision=4, suppress=True, threshold=200):
        return np.array2string(a.real if not np.iscomplexobj(a) or not np.any(a.imag) else a)


def _analytical_rows(out, diff_inputs, v):
    """Jacobian of ``Re(conj(v) * out)`` w.r.t. each differentiable input, one row per output
    element: arrays [out_numel, in_numel] (complex128), by ``autograd.grad`` with one-hot
    ``grad_output``s."""
    from rt_autograd import autograd
    n_out = out.numel()
    jac = [np.zeros((n_out, x.numel()), np.complex128) for x in diff_inputs]
    for k in range(n_out):
        go = _rtt.zeros(out.shape, dtype=out.dtype)
        go.view(-1)[k] = v
        grads = autograd.grad(out, diff_inputs, go, retain_graph=True, allow_unused=True)
        for pos, g in enumerate(grads):
            if g is None:
                continue
            x = diff_inputs[pos]
            if tuple(g.shape) != tuple(x.shape):
                raise GradcheckError("Analytical gradient has incorrect size")
            jac[pos][k] = g.detach().to(_rtt.complex128).numpy().reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Check the gradients of ``func`` at ``inputs`` against finite differences.

    ``inputs``: a tensor or tuple (only tensors that require grad are checked; they should be
    float64 or complex128). Outputs that do not require grad are ignored, unless no output
    does: then their numerical derivatives must be zero. Complex outputs are checked through
    their real and imaginary parts. Backward is run twice per output element: results that
    differ by more than ``nondet_tol`` fail ("not reentrant"). Returns True, or raises
    ``GradcheckError`` (returns False with ``raise_exception=False``) with the two Jacobians
    (rows: input elements, columns: output elements, as PyTorch prints them). Forward-mode
    AD does not exist in rt: ``check_forward_ad`` and the batched checks are accepted and
    ignored; ``fast_mode`` runs the full (slow-mode) check.

    >>> x = rt.randn(3, dtype=rt.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t).sum(), (x,))
    True
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad "
                             "to be True")
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs)
                if isinstance(t, _rtt.Tensor) and getattr(t, "requires_grad", False)]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    _check_inputs(inputs, diff_idx)
    if not check_backward_ad:
        return True
    try:
        return _gradcheck(func, inputs, diff_idx, eps, atol, rtol, nondet_tol,
                          check_grad_dtypes)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(func, inputs, diff_idx, eps, atol, rtol, nondet_tol, check_grad_dtypes):
    func_out = _outputs(func, inputs)
    diff_inputs = [inputs[i] for i in diff_idx]
    numerical = _numerical_jacobians(func, inputs, diff_idx, eps)
    rows, row = [], 0
    for o in func_out:
        rows.append(row)
        row += o.numel()
    if not any(o.requires_grad for o in func_out):
        # no differentiable output: the function must not change with its inputs
        for i in diff_idx:
            for col in numerical[i]:
                for part in col:
                    if np.any(part != 0):
                        raise GradcheckError("Numerical gradient for function expected to be "
                                             "zero")
        return True
    diff_outs = [(o, rows[n]) for n, o in enumerate(func_out) if o.requires_grad]
    for oi, (out, start) in enumerate(diff_outs):
        n_out = out.numel()
        if check_grad_dtypes:
            from rt_autograd import autograd
            go = _rtt.zeros(out.shape, dtype=out.dtype)
            grads = autograd.grad(out, diff_inputs, go, retain_graph=True, allow_unused=True)
            for x, g in zip(diff_inputs, grads):
                if g is not None and g.dtype != x.dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
        for v in ((1, 1j) if out.dtype.is_complex else (1,)):
            analytical = _analytical_rows(out, diff_inputs, v)
            again = _analytical_rows(out, diff_inputs, v)
            for a1, a2 in zip(analytical, again):
                if a1.size and not np.max(np.abs(a1 - a2)) <= nondet_tol:
                    raise GradcheckError(
                        f"Backward is not reentrant, i.e., running backward with same input and "
                        f"grad_output multiple times gives different values, although analytical "
                        f"gradient matches numerical gradient.The tolerance for nondeterminism "
                        f"was {nondet_tol}.")
            prefix = ("" if not out.dtype.is_complex else
                      f"While considering the {'real' if v == 1 else 'imaginary'} part of "
                      f"complex outputs only, ")
            for j, i in enumerate(diff_idx):
                x = inputs[i]
                # expected: dL/dx (+ i dL/dy) for L = Re(conj(v) * out[k])
                expected = np.empty((n_out, x.numel()), np.complex128)
                for e, col in enumerate(numerical[i]):
                    dx = (np.conj(v) * col[0][start:start + n_out]).real
                    if len(col) > 1:
                        dy = (np.conj(v) * col[1][start:start + n_out]).real
                        expected[:, e] = dx + 1j * dy
                    else:
                        expected[:, e] = dx
                got = analytical[j]
                if not np.allclose(got, expected, rtol=rtol, atol=atol):
                    raise GradcheckError(
                        f"{prefix}Jacobian mismatch for output {oi} with respect to input {j},\n"
                        f"numerical:{_fmt(expected.T)}\nanalytical:{_fmt(got.T)}\n")
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
            data = gen.uniform(-1, 1, tuple(o.shape))
            if o.dtype.is_complex:
                data = data + 1j * gen.uniform(-1, 1, tuple(o.shape))
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
