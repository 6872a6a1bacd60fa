"""``parameters_to_vector`` / ``vector_to_parameters`` (``torch.nn.utils``)."""
import rt_autograd as rt

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """One 1-D tensor: every parameter flattened, concatenated in order (differentiable)."""
    return rt.cat([param.view(-1) for param in parameters])


def _typename(obj):
    module = type(obj).__module__
    prefix = "" if module in ("builtins", None) else module + "."
    return prefix + type(obj).__qualname__


def vector_to_parameters(vec, parameters):
    """Sets each parameter's ``.data`` to its slice of ``vec`` (viewed in its shape), in
    order; the parameters then share ``vec``'s memory, as in PyTorch."""
    if not isinstance(vec, rt.Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
