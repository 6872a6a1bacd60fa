"""Lesson 5, exercise 2, worked solution: a converter for ONNX's RMSNormalization.

The axes are ``axis .. rank - 1`` (a negative axis counts from the end); the mean of the
squares over them, kept as size-1 dimensions, broadcasts back against ``x``.
"""
import rt_autograd as rt


def rms_normalization(node, x, scale):
    axis = node.attr("axis", -1)
    epsilon = node.attr("epsilon", 1e-5)
    rank = x.dim()
    if not -rank <= axis < rank:
        raise node.error(f"axis {axis} is out of range for a rank-{rank} input")
    axes = tuple(range(axis % rank, rank))
    mean_square = (x * x).mean(dim=axes, keepdim=True)
    return x / (mean_square + epsilon).sqrt() * scale
