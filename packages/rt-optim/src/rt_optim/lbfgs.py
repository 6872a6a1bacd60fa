"""L-BFGS, as ``torch.optim.LBFGS`` (PyTorch 2.x): the limited-memory BFGS two-loop
recursion (Nocedal, "Updating Quasi-Newton Matrices with Limited Storage", Math. Comp. 35,
1980; Liu & Nocedal, "On the limited memory BFGS method for large scale optimization",
Math. Programming 45, 1989; Nocedal & Wright, "Numerical Optimization", 2nd ed., Algorithm
7.4) with the initial Hessian scaled by gamma = s'y / y'y (ibid., eq. 7.20), and an optional
line search for the strong Wolfe conditions (ibid., Algorithms 3.5 and 3.6) with cubic
interpolation (ibid., eq. 3.59), in the variant of Mark Schmidt's minFunc that PyTorch (and
Lua Torch's ``optim`` before it) implements.

The vector work: L-BFGS works on one flat vector holding every parameter. An iteration is
a concatenation of the gradients, the curvature pair (y = Δg, s = t·d, s'y, y'y), the two-loop
recursion's 2m dot products and 2m axpy updates for m stored pairs, and one move of the
parameters. For float32/float64 parameters these run in ``_lbfgs.pyx`` as a few fused passes
(the two-loop recursion in 2m + 1 passes, each an axpy with the dot product the next step
needs), with the scalars rounded to the parameters' type where PyTorch keeps them as 0-d
tensors; other dtypes (and any tensor the kernels cannot take, e.g. a state loaded with
another dtype) take the tensor-op path below, which is the readable reference: the same
operations in the same order. Either way the state holds what PyTorch's does (lists of
vectors and 0-d tensors, ``t`` and ``H_diag`` as numbers or 0-d tensors), so ``state_dict``
has the same keys and types.
"""
import rt_autograd as rt

from rt_optim import _common, _lbfgs
from rt_optim.optimizer import Optimizer, _check_hyper

__all__ = ["LBFGS"]


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clipped to ``bounds`` (default: the interval between x1 and x2); the interval's midpoint
    when the cubic has no minimiser (Nocedal & Wright, eq. 3.59)."""
    if bounds is not None:
        low, high = bounds
    else:
        low, high = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square.sqrt()
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, low), high)
    return (low + high) / 2.0


def _abs_max(x):
    """max |x_i| of a real vector as two reductions instead of abs() (a vector) then max:
    the same value (NaN propagates)."""
    return rt.maximum(x.max(), x.min().neg())


def _strong_wolfe(evaluate, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search along ``d`` from the parameters ``x`` (loss ``f``, flat gradient ``g``,
    directional derivative ``gtd``) for a step satisfying the strong Wolfe conditions
    f(x + t·d) <= f + c1·t·gtd and |g(x + t·d)'d| <= -c2·gtd, with at most ``max_ls``
    evaluations after the first. ``evaluate(x, t, d)`` returns (loss, flat gradient) at
    x + t·d and restores x. Returns (loss, flat gradient, t, number of evaluations).

    First a bracketing phase grows the step (cubic extrapolation, at most 10x) until an
    interval holds an acceptable point (Nocedal & Wright, Algorithm 3.5); then a zoom phase
    shrinks the interval by cubic interpolation (Algorithm 3.6), stepping 10% of the interval
    away from an end when the interpolant keeps landing next to it (minFunc's safeguard)."""
    d_norm = _abs_max(d)
    g = g.clone()
    f_new, g_new = evaluate(x, t, d)
    evals = 1
    gtd_new = g_new.dot(d)

    # bracketing: previous point (t_prev) and the current trial t
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            # sufficient decrease fails (or the loss went up): a minimiser lies in between
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.clone()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            # the slope turned positive: a minimiser lies in between
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.clone()], [gtd_prev, gtd_new]
            break
        # still descending: extrapolate to a longer step
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous_t = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = previous_t, f_new, g_new.clone(), gtd_new
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    if ls_iter == max_ls:
        # out of evaluations while bracketing: fall back to [0, t]
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: keep [low, high] around an acceptable point; low has the smaller loss
    insufficient_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        top, bottom = max(bracket), min(bracket)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            # the trial is next to an end of the interval
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # no sufficient decrease, or not below the low end: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.clone(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old low end becomes the high end, so the interval keeps a minimiser
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.clone(), gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], evals


def _as_real(tensor):
    """A real view of a complex tensor, its last dimension holding (real, imag) pairs
    (``torch.view_as_real``); a real tensor as it is."""
    if not tensor.is_complex():
        return tensor
    real = tensor.real
    return real.as_strided(tuple(tensor.shape) + (2,), tuple(real.stride()) + (1,),
                           real.storage_offset())


class LBFGS(Optimizer):
    """``torch.optim.LBFGS``: each ``step(closure)`` runs up to ``max_iter`` L-BFGS
    iterations. An iteration takes the direction d = -H·g from the two-loop recursion over
    the last ``history_size`` pairs (s = t·d, y = Δg; a pair is kept only if s'y > 1e-10),
    with H's initial diagonal s'y / y'y of the newest pair (the steepest descent direction on
    the very first iteration), then moves the parameters by t·d: with ``line_search_fn=None``
    t = ``lr`` (min(1, 1/‖g‖₁)·lr on the first iteration) and the closure is re-evaluated
    after the move (except on the last iteration); with ``'strong_wolfe'`` a line search
    starting from that t chooses it.

    A step stops early when the largest gradient entry is at most ``tolerance_grad``, when
    g'd > -``tolerance_change``, when the largest entry of t·d or the change of the loss is
    below ``tolerance_change``, or after ``max_eval`` closure evaluations (default
    ``max_iter * 5 // 4``).

    Only one parameter group is supported (ValueError otherwise, as PyTorch; a later
    ``add_param_group`` is refused at once, where PyTorch fails in ``step``). ``step``
    requires a closure that clears the gradients, recomputes the loss, calls ``backward`` and
    returns the loss; it is always called with gradients enabled, and ``step`` returns its
    first result. Parameters may be of any floating (or complex) dtype; a parameter without a
    gradient counts as a zero gradient.

    State, kept (as PyTorch) under the first parameter: ``func_evals``, ``n_iter`` (totals
    over all steps), ``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``al``.

    >>> import rt_autograd as rt, rt_optim
    >>> x = rt.tensor([3.0, -2.0], dtype=rt.float64, requires_grad=True)
    >>> target = rt.tensor([1.0, 2.0], dtype=rt.float64)
    >>> opt = rt_optim.LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((x - target) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> first_loss = opt.step(closure)
    >>> float(first_loss)
    20.0
    >>> [round(v, 6) for v in x.tolist()]
    [1.0, 2.0]
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        _check_hyper("learning rate", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    def add_param_group(self, param_group):
        # A group added after construction would be ignored by the flat-vector step; PyTorch
        # raises (in step) too, here it is refused where it happens.
        if getattr(self, "param_groups", None):
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # --- the flat vector ---------------------------------------------------------------------
    @property
    def _params(self):
        return self.param_groups[0]["params"]

    def _gather_flat_grad(self):
        """Every gradient as one new flat vector (zeros for a parameter without one)."""
        views = []
        for p in self._params:
            grad = p.grad
            if grad is None:
                view = rt.zeros(p.numel() * (2 if p.is_complex() else 1),
                                dtype=_as_real(p).dtype)
            else:
                view = _as_real(grad).reshape(-1)
            views.append(view)
        return rt.cat(views, 0)

    def _flat_grad(self, flat, prev=None, d=None, t=None):
        """(the flat gradient, its largest magnitude, pair). ``flat``: (dtype, numel) of the
        kernels' flat vector, the largest magnitude then a float, and ``pair`` the next
        iteration's (s'y, y'y) for y = g - ``prev``, s = ``d``·``t`` when those are given
        (else None); ``flat`` None: tensor ops, the largest magnitude a 0-d tensor."""
        if flat is not None:
            vector = rt.empty(flat[1], dtype=flat[0])
            if d is None or prev is None:
                res = _lbfgs.gather(self._params, vector)
            else:
                res = _lbfgs.gather(self._params, vector, prev, d, float(t))
            if res is not None:
                return vector, res[0], (None if res[1] is None else res[1:])
            vector = self._gather_flat_grad()
            return vector, float(_abs_max(vector)), None
        vector = self._gather_flat_grad()
        return vector, _abs_max(vector), None

    def _add_grad(self, step_size, update):
        """p += step_size · (p's slice of the flat vector ``update``), for every parameter."""
        if _lbfgs.move(self._params, float(step_size), update):
            return
        offset = 0
        for p in self._params:
            real = _as_real(p)
            numel = real.numel()
            real.add_(update[offset:offset + numel].view(real.shape), alpha=step_size)
            offset += numel

    def _clone_params(self):
        return [p.clone() for p in self._params]

    def _set_params(self, values):
        for p, value in zip(self._params, values):
            p.copy_(value)

    def _directional_evaluate(self, closure, x, t, d):
        """(loss, flat gradient) at x + t·d; the parameters are restored to x afterwards."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_params(x)
        return loss, flat_grad

    def _direction(self, flat, flat_grad, old_dirs, old_stps, ro, al, H_diag, fill=None):
        """(d, g'd, max|d|): the two-loop recursion (Nocedal & Wright, Algorithm 7.4), by the
        kernel (g'd and max|d| floats) where it takes the vectors, else by tensor ops (0-d
        tensors). ``fill``: (prev_flat_grad, d, t) when the newest pair (the last of
        ``old_dirs`` and ``old_stps``) is still to be written: y = g - prev, s = d·t."""
        if flat is not None:
            dtype = flat[0]
            d = rt.empty(flat[1], dtype=dtype)
            res = _lbfgs.direction(flat_grad, old_dirs, old_stps, ro, al, float(H_diag), d,
                                   lambda: rt.zeros((), dtype=dtype), fill)
            if res is not None:
                return d, res[0], res[1]
        if fill is not None:
            prev, d_old, t = fill
            rt.sub(flat_grad, prev, out=old_dirs[-1])
            rt.mul(d_old, t, out=old_stps[-1])
        num_old = len(old_dirs)
        q = flat_grad.neg()
        for i in range(num_old - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q.add_(old_dirs[i], alpha=-al[i])
        d = r = rt.mul(q, H_diag)
        for i in range(num_old):
            be_i = old_dirs[i].dot(r) * ro[i]
            r.add_(old_stps[i], alpha=al[i] - be_i)
        gtd, d_max = flat_grad.dot(d), _abs_max(d)
        if flat is not None:
            gtd, d_max = float(gtd), float(d_max)
        return d, gtd, d_max

    # --- the step ----------------------------------------------------------------------------
    def step(self, closure=None):
        """Run up to ``max_iter`` iterations; returns the closure's first loss.

        Args:
            closure: a callable that re-evaluates the model and returns the loss (required;
                TypeError without one, as calling PyTorch's ``LBFGS.step()`` without it).
        """
        if closure is None:
            raise TypeError("LBFGS.step() requires a closure: a function that clears the "
                            "gradients, recomputes the loss, calls loss.backward() and returns "
                            "the loss (LBFGS evaluates it several times per step)")
        if not callable(closure):
            raise TypeError(f"LBFGS.step() closure must be callable, got "
                            f"{type(closure).__name__}")
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        with rt.no_grad():
            return self._step(closure)

    def _step(self, user_closure):
        def closure():
            with rt.enable_grad():
                return user_closure()

        group = self.param_groups[0]
        lr = _common.scalar(group["lr"])
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]
        params = self._params

        # float32/float64 parameters of one dtype: the kernels (_lbfgs.pyx), whose scalars
        # are Python floats holding values of that type; a number compared with them is
        # rounded to the type first, as PyTorch compares a 0-d tensor with a number (the
        # losses are Python floats in both)
        kernels = _lbfgs.flat_dtype(params)
        if kernels is not None:
            code = kernels[0]
            flat = (params[0].dtype, kernels[1])
            grad_limit = _lbfgs.rounded(code, tolerance_grad)
            change_limit = _lbfgs.rounded(code, tolerance_change)
            min_curvature = _lbfgs.rounded(code, 1e-10)
        else:
            flat = None
            grad_limit, change_limit, min_curvature = tolerance_grad, tolerance_change, 1e-10

        # L-BFGS's state is global; PyTorch files it under the first parameter, so that
        # load_state_dict casts its tensors like any parameter's state
        state = self.state[params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        d = state.get("d")
        t = state.get("t")
        old_dirs = state.get("old_dirs")
        old_stps = state.get("old_stps")
        ro = state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        # pair: (s'y, y'y) of the next curvature pair, from the kernels' gather
        flat_grad, grad_max, pair = self._flat_grad(flat, prev_flat_grad, d, t)
        if grad_max <= grad_limit:
            return orig_loss           # already optimal: the state keeps no direction yet

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # --- direction ---
            if state["n_iter"] == 1:
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
                if flat is not None:
                    d, gtd, d_max = self._direction(flat, flat_grad, old_dirs, old_stps, ro,
                                                    [], H_diag)
                else:
                    d = flat_grad.neg()
                    gtd, d_max = flat_grad.dot(d), _abs_max(d)
            else:
                # the kernels: (s'y, y'y) first, the pair's vectors written only if it is
                # kept (by the direction's first pass); tensor ops: y and s first
                fill = None
                if flat is not None and pair is None:
                    pair = _lbfgs.curvature(flat_grad, prev_flat_grad, d, float(t))
                if pair is not None:
                    ys, yy = pair
                else:
                    y = flat_grad.sub(prev_flat_grad)
                    s = d.mul(t)
                    ys = y.dot(s)
                if ys > min_curvature:
                    # curvature condition holds: remember the pair (drop the oldest if full)
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    if pair is not None:
                        y = rt.empty(flat[1], dtype=flat[0])
                        s = rt.empty(flat[1], dtype=flat[0])
                        fill = (prev_flat_grad, d, t)
                        ro.append(rt.tensor(_lbfgs.quotient(code, 1.0, ys), dtype=flat[0]))
                        H_diag = rt.tensor(_lbfgs.quotient(code, ys, yy), dtype=flat[0])
                    else:
                        ro.append(1.0 / ys)
                        H_diag = ys / y.dot(y)
                    old_dirs.append(y)
                    old_stps.append(s)
                if "al" not in state:
                    state["al"] = [None] * history_size
                d, gtd, d_max = self._direction(flat, flat_grad, old_dirs, old_stps, ro,
                                                state["al"], H_diag, fill)
            pair = None

            # flat_grad is a fresh vector that nothing writes to, so it can be kept as it is
            # (PyTorch copies it into the previous buffer: one pass more)
            prev_flat_grad = flat_grad
            prev_loss = loss

            # --- step length ---
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr
            else:
                t = lr
            if gtd > -change_limit:
                break            # not a descent direction (to the tolerance)

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_params()

                def evaluate(x, step, direction):
                    return self._directional_evaluate(closure, x, step, direction)

                if flat is not None:
                    # the line search's arithmetic on g'd rounds in the parameters' type
                    gtd = rt.tensor(gtd, dtype=flat[0])
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    evaluate, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = _abs_max(flat_grad) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    # the last iteration does not re-evaluate: the next step() does (in a
                    # stochastic setting on a new batch)
                    loss = float(closure())
                    flat_grad, grad_max, pair = self._flat_grad(flat, prev_flat_grad, d, t)
                    opt_cond = grad_max <= grad_limit
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # --- stopping rules ---
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            # max|d·t| = |t|·max|d| exactly (rounding is monotonic): no product vector
            if flat is not None:
                moved = _lbfgs.rounded(code, d_max * abs(float(t)))
            else:
                moved = d_max * abs(t)
            if moved <= change_limit:
                break            # the step no longer moves the parameters
            if abs(loss - prev_loss) < tolerance_change:
                break            # the loss no longer changes

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss
        return orig_loss
