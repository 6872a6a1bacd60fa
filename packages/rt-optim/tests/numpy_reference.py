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
