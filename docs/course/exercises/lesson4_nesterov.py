"""Lesson 4, exercise 1: SGD with Nesterov momentum, by hand.

Write ``nesterov_step(param, buffer, lr, momentum)``: one step of SGD with Nesterov momentum
on one parameter tensor, as PyTorch's algorithm box gives it
(https://pytorch.org/docs/stable/generated/torch.optim.SGD.html; no dampening, no weight
decay), with g = ``param.grad``:

    b <- g                     on the first step (``buffer`` is None)
    b <- momentum * b + g      on the other steps
    g <- g + momentum * b      (the Nesterov look-ahead)
    param <- param - lr * g

Update ``param`` in place, without recording the update in autograd's graph, and return the
new buffer b (the caller passes it back in on the next step).

Check it:  python docs/course/_runner.py check 4
"""
import rt_autograd as rt


def nesterov_step(param, buffer, lr, momentum):
    raise NotImplementedError("exercise: write nesterov_step")
