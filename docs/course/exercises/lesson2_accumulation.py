"""Lesson 2, exercise 3: gradient accumulation over micro-batches.

Check your work with ``python docs/course/_runner.py check 2``.
"""


def accumulated_gradient(w, inputs, targets, micro_batch):
    """The gradient of the mean squared error ``((inputs @ w - targets) ** 2).mean()`` with
    respect to ``w``, computed by calling ``backward()`` once per micro-batch of
    ``micro_batch`` rows (the last one may be smaller), and returned as ``w.grad``.

    Two things to get right: each micro-batch's loss must be weighted so that the sum over
    micro-batches is the mean over *all* rows, and whatever ``w.grad`` held before the call
    must not count.
    """
    raise NotImplementedError("exercise: accumulate the gradient over micro-batches")
