"""Independent oracles: each optimizer's update written with numpy from its paper / PyTorch's
documented algorithm (https://pytorch.org/docs/stable/optim.html), not from rt's code.

``REFERENCES[name](params, grads_per_step, **kwargs)`` runs len(grads_per_step) steps on
float64 copies of ``params`` (a list of arrays) and returns the final parameters; the grad
of step t for parameter i is ``grads_per_step[t][i]``. A grad of None skips that parameter
for that step (no state change), as the optimizers do.
"""
import math

import numpy as np

REFERENCES = {}


def reference(name):
    def register(fn):
        REFERENCES[name] = fn
        return fn
    return register


@reference("SGD")
def np_sgd(params, grads_per_step, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
           nesterov=False, maximize=False):
    params = [p.astype(np.float64).copy() for p in params]
    bufs = [None] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            d = -g if maximize else g.copy()
            d = d + weight_decay * params[i]
            if momentum:
                bufs[i] = d.copy() if bufs[i] is None else momentum * bufs[i] + (1 - dampening) * d
                d = d + momentum * bufs[i] if nesterov else bufs[i]
            params[i] = params[i] - lr * d
    return params


@reference("Adam")
def np_adam(params, grads_per_step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
            amsgrad=False, maximize=False, decoupled_weight_decay=False):
    b1, b2 = betas
    params = [p.astype(np.float64).copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    vmax = [np.zeros_like(p) for p in params]
    t = [0] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            t[i] += 1
            d = -g if maximize else g.copy()
            if decoupled_weight_decay:
                params[i] = params[i] * (1 - lr * weight_decay)
            else:
                d = d + weight_decay * params[i]
            m[i] = b1 * m[i] + (1 - b1) * d
            v[i] = b2 * v[i] + (1 - b2) * d * d
            vmax[i] = np.maximum(vmax[i], v[i])
            m_hat = m[i] / (1 - b1 ** t[i])
            v_hat = (vmax[i] if amsgrad else v[i]) / (1 - b2 ** t[i])
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


@reference("AdamW")
def np_adamw(params, grads_per_step, weight_decay=1e-2, **kw):
    return np_adam(params, grads_per_step, weight_decay=weight_decay,
                   decoupled_weight_decay=True, **kw)


@reference("RMSprop")
def np_rmsprop(params, grads_per_step, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
               momentum=0, centered=False, maximize=False):
    params = [p.astype(np.float64).copy() for p in params]
    v = [np.zeros_like(p) for p in params]
    g_ave = [np.zeros_like(p) for p in params]
    b = [np.zeros_like(p) for p in params]
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = -g if maximize else g.copy()
            g = g + weight_decay * params[i]
            v[i] = alpha * v[i] + (1 - alpha) * g * g
            v_tilde = v[i]
            if centered:
                g_ave[i] = alpha * g_ave[i] + (1 - alpha) * g
                v_tilde = v_tilde - g_ave[i] ** 2
            if momentum > 0:
                b[i] = momentum * b[i] + g / (np.sqrt(v_tilde) + eps)
                params[i] = params[i] - lr * b[i]
            else:
                params[i] = params[i] - lr * g / (np.sqrt(v_tilde) + eps)
    return params


@reference("Adagrad")
def np_adagrad(params, grads_per_step, lr=1e-2, lr_decay=0, weight_decay=0,
               initial_accumulator_value=0, eps=1e-10, maximize=False):
    params = [p.astype(np.float64).copy() for p in params]
    state_sum = [np.full_like(p, initial_accumulator_value) for p in params]
    t = [0] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            t[i] += 1
            g = -g if maximize else g.copy()
            lr_t = lr / (1 + (t[i] - 1) * lr_decay)
            g = g + weight_decay * params[i]
            state_sum[i] = state_sum[i] + g * g
            params[i] = params[i] - lr_t * g / (np.sqrt(state_sum[i]) + eps)
    return params


@reference("Adadelta")
def np_adadelta(params, grads_per_step, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0,
                maximize=False):
    params = [p.astype(np.float64).copy() for p in params]
    v = [np.zeros_like(p) for p in params]
    u = [np.zeros_like(p) for p in params]
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = -g if maximize else g.copy()
            g = g + weight_decay * params[i]
            v[i] = v[i] * rho + g * g * (1 - rho)
            dx = np.sqrt(u[i] + eps) / np.sqrt(v[i] + eps) * g
            u[i] = u[i] * rho + dx * dx * (1 - rho)
            params[i] = params[i] - lr * dx
    return params


@reference("Rprop")
def np_rprop(params, grads_per_step, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50),
             maximize=False):
    eta_minus, eta_plus = etas
    size_min, size_max = step_sizes
    params = [p.astype(np.float64).copy() for p in params]
    g_prev = [np.zeros_like(p) for p in params]
    eta = [np.full_like(p, lr) for p in params]
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = -g if maximize else g.copy()
            same = g_prev[i] * g > 0
            flipped = g_prev[i] * g < 0
            eta[i] = np.where(same, np.minimum(eta[i] * eta_plus, size_max), eta[i])
            eta[i] = np.where(flipped, np.maximum(eta[i] * eta_minus, size_min), eta[i])
            g = np.where(flipped, 0.0, g)
            params[i] = params[i] - eta[i] * np.sign(g)
            g_prev[i] = g
    return params


@reference("ASGD")
def np_asgd(params, grads_per_step, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
            maximize=False):
    """eta_t = lr / (1 + lambd·lr·t)^alpha, mu_t = 1 / max(1, t - t0); both are float32
    scalars in PyTorch's documented state, so they are rounded to float32 here too."""
    params = [p.astype(np.float64).copy() for p in params]
    ax = [np.zeros_like(p) for p in params]
    eta = [float(np.float32(lr))] * len(params)
    mu = [1.0] * len(params)
    t = [0] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            t[i] += 1
            g = -g if maximize else g.copy()
            g = g + weight_decay * params[i]
            params[i] = params[i] * (1 - lambd * eta[i]) - eta[i] * g
            ax[i] = params[i].copy() if mu[i] == 1 else ax[i] + mu[i] * (params[i] - ax[i])
            eta[i] = float(np.float32(lr / (1 + lambd * lr * t[i]) ** alpha))
            mu[i] = float(np.float32(1 / max(1, t[i] - t0)))
    return params


@reference("Adamax")
def np_adamax(params, grads_per_step, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
              maximize=False):
    """PyTorch's Adamax algorithm box (Kingma & Ba 2015, section 7.1, with eps in the
    infinity norm): u_t = max(beta2·u, |g| + eps), theta -= lr·m / ((1 - beta1^t)·u_t)."""
    b1, b2 = betas
    params = [p.astype(np.float64).copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    u = [np.zeros_like(p) for p in params]
    t = [0] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            t[i] += 1
            g = -g if maximize else g.copy()
            g = g + weight_decay * params[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            u[i] = np.maximum(b2 * u[i], np.abs(g) + eps)
            params[i] = params[i] - lr * m[i] / ((1 - b1 ** t[i]) * u[i])
    return params


@reference("NAdam")
def np_nadam(params, grads_per_step, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
             momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    """PyTorch's NAdam algorithm box (Dozat 2016): mu_t = beta1·(1 - ½·0.96^(t·psi)),
    m_hat = mu_{t+1}·m / (1 - prod_{i<=t+1} mu_i) + (1 - mu_t)·g / (1 - prod_{i<=t} mu_i),
    theta -= lr·m_hat / (sqrt(v / (1 - beta2^t)) + eps). PyTorch documents the running
    product prod_{i<=t} mu_i as state['mu_product'], a float32 scalar: it is rounded to
    float32 here too (the product of the next step is not stored, so it is not rounded)."""
    b1, b2 = betas
    params = [p.astype(np.float64).copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    mu_product = [np.float32(1.0)] * len(params)
    t = [0] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            t[i] += 1
            g = -g if maximize else g.copy()
            if decoupled_weight_decay:
                params[i] = params[i] - lr * weight_decay * params[i]
            else:
                g = g + weight_decay * params[i]
            mu_t = b1 * (1 - 0.5 * 0.96 ** (t[i] * momentum_decay))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t[i] + 1) * momentum_decay))
            mu_product[i] = np.float32(mu_product[i] * np.float32(mu_t))
            prod_t = float(mu_product[i])
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat = mu_next * m[i] / (1 - prod_t * mu_next) + (1 - mu_t) * g / (1 - prod_t)
            v_hat = v[i] / (1 - b2 ** t[i])
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


@reference("RAdam")
def np_radam(params, grads_per_step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
             decoupled_weight_decay=False, maximize=False):
    """Liu et al. 2020, Algorithm 2 (PyTorch's RAdam box): the length of the approximated
    SMA rho_t = rho_inf - 2·t·beta2^t / (1 - beta2^t); rectified Adam step when rho_t > 5,
    else the bias-corrected momentum step."""
    b1, b2 = betas
    rho_inf = 2 / (1 - b2) - 1
    params = [p.astype(np.float64).copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            t[i] += 1
            g = -g if maximize else g.copy()
            if decoupled_weight_decay:
                params[i] = params[i] - lr * weight_decay * params[i]
            else:
                g = g + weight_decay * params[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat = m[i] / (1 - b1 ** t[i])
            rho_t = rho_inf - 2 * t[i] * b2 ** t[i] / (1 - b2 ** t[i])
            if rho_t > 5:
                adaptive = math.sqrt(1 - b2 ** t[i]) / (np.sqrt(v[i]) + eps)
                r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                params[i] = params[i] - lr * m_hat * adaptive * r_t
            else:
                params[i] = params[i] - lr * m_hat
    return params


@reference("Lion")
def np_lion(params, grads_per_step, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0,
            maximize=False):
    """Chen et al. 2023, Algorithm 2: c = beta1·m + (1 - beta1)·g;
    theta -= lr·(sign(c) + lambda·theta); m = beta2·m + (1 - beta2)·g."""
    b1, b2 = betas
    params = [p.astype(np.float64).copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = -g if maximize else g.copy()
            c = b1 * m[i] + (1 - b1) * g
            params[i] = params[i] - lr * (np.sign(c) + weight_decay * params[i])
            m[i] = b2 * m[i] + (1 - b2) * g
    return params


@reference("LAMB")
def np_lamb(params, grads_per_step, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0,
            maximize=False):
    """You et al. 2020, Algorithm 2 (phi the identity), one trust ratio per tensor:
    r = m_hat / (sqrt(v_hat) + eps) + lambda·x, x -= lr·(||x|| / ||r||)·r, the ratio taken
    as 1 when either norm is 0."""
    b1, b2 = betas
    params = [p.astype(np.float64).copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            t[i] += 1
            g = -g if maximize else g.copy()
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat = m[i] / (1 - b1 ** t[i])
            v_hat = v[i] / (1 - b2 ** t[i])
            r = m_hat / (np.sqrt(v_hat) + eps) + weight_decay * params[i]
            x_norm = np.linalg.norm(params[i])
            r_norm = np.linalg.norm(r)
            trust = x_norm / r_norm if x_norm > 0 and r_norm > 0 else 1.0
            params[i] = params[i] - lr * trust * r
    return params
