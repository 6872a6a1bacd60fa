"""Lesson 2, exercise 3: gradient accumulation over micro-batches (worked solution)."""


def accumulated_gradient(w, inputs, targets, micro_batch):
    """The gradient of ``((inputs @ w - targets) ** 2).mean()``, one backward() per
    micro-batch, returned as ``w.grad``."""
    rows = inputs.shape[0]
    w.grad = None                                   # an old gradient must not leak in
    for start in range(0, rows, micro_batch):
        x = inputs[start:start + micro_batch]
        t = targets[start:start + micro_batch]
        # sum over the micro-batch / all rows: the micro-batch losses add up to the mean
        (((x @ w - t) ** 2).sum() / rows).backward()
    return w.grad
