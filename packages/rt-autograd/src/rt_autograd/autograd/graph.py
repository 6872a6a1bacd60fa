"""``torch.autograd.graph``: the Node type of the backward graph."""
from rt_autograd._autograd import AccumulateGrad, FunctionNode, Node

__all__ = ["Node", "AccumulateGrad", "FunctionNode"]
