"""Lesson 4, exercise 1, worked solution: SGD with Nesterov momentum, by hand.

The buffer is the plain momentum buffer of lesson 4; Nesterov's variant steps along the
gradient plus the buffer's next move (``g + momentum * b``) instead of along the buffer. The
operations are those of ``rt_optim.sgd.sgd_reference``, in the same order.
"""
import rt_autograd as rt


def nesterov_step(param, buffer, lr, momentum):
    with rt.no_grad():
        grad = param.grad
        if buffer is None:
            buffer = grad.clone()
        else:
            buffer = momentum * buffer + grad
        param -= lr * (grad + momentum * buffer)
    return buffer
