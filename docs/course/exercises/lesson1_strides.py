"""Lesson 1, exercise 1: strides by hand.

The stride arithmetic behind ``contiguous()``, ``permute`` and basic slicing, with plain
integers: no tensors needed. Strides and offsets count elements, as in rt and PyTorch.
Check your answers with ``python docs/course/_runner.py check 1``.
"""


def contiguous_strides(shape):
    """The strides of a contiguous (row-major) tensor of this shape, as a tuple.

    The last dimension has stride 1; each dimension's stride is the next one's stride times
    the next one's size. ``contiguous_strides((2, 3, 4)) == (12, 4, 1)``.
    """
    raise NotImplementedError("exercise: compute the row-major strides of shape")


def permuted_strides(strides, dims):
    """The strides of ``t.permute(*dims)`` for a tensor ``t`` with these strides.

    ``permuted_strides((12, 4, 1), (2, 0, 1)) == (1, 12, 4)``.
    """
    raise NotImplementedError("exercise: reorder the strides as permute(*dims) does")


def sliced_view(shape, strides, offset, slices):
    """``(shape, strides, offset)`` of ``t[slices]`` for a tensor ``t`` with this shape,
    strides and storage offset; ``slices`` holds one ``slice`` per dimension (steps > 0;
    starts and stops may be None or negative, as in Python).

    Hint: ``slice(start, stop, step).indices(size)`` resolves None and negative values.
    """
    raise NotImplementedError("exercise: the shape, strides and offset of a sliced view")
