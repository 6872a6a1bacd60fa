"""``Parameter``: a Tensor that a Module registers as a parameter (``torch.nn.Parameter``)."""
import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd._autograd import _make_subclass

__all__ = ["Parameter", "Buffer"]


class Parameter(rt.Tensor):
    """A leaf tensor that requires grad by default and is registered as a parameter when
    assigned to a Module attribute. Shares memory with ``data``.

    >>> p = Parameter(rt.zeros(2, 3))
    >>> p.requires_grad, p.shape
    (True, rt_tensor.Size([2, 3]))
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = rt.empty(0)
        if not isinstance(data, rtt.Tensor):
            raise TypeError(f"Parameter: expected a Tensor as data, got {type(data).__name__}")
        return _make_subclass(cls, data, requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach().clone(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.detach().clone(), self.requires_grad)
        if self.grad is not None:
            result.grad = self.grad.clone()
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer:
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (``torch.nn.Buffer``): ``self.running = Buffer(rt.zeros(3), persistent=True)``."""

    def __init__(self, data, *, persistent=True):
        self.data = data
        self.persistent = persistent
