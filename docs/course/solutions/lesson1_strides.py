"""Lesson 1, exercise 1: strides by hand (worked solution)."""


def contiguous_strides(shape):
    """The strides of a contiguous (row-major) tensor of this shape, as a tuple."""
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)      # PyTorch counts a size-0 dimension as 1 here
    return tuple(reversed(strides))


def permuted_strides(strides, dims):
    """The strides of ``t.permute(*dims)``: dimension i of the result is dimension dims[i]."""
    return tuple(strides[d] for d in dims)


def sliced_view(shape, strides, offset, slices):
    """``(shape, strides, offset)`` of ``t[slices]``."""
    new_shape, new_strides = [], []
    for size, stride, s in zip(shape, strides, slices):
        start, stop, step = s.indices(size)
        new_shape.append(len(range(start, stop, step)))
        new_strides.append(stride * step)    # every step-th element
        offset += start * stride             # the view begins at element `start`
    return tuple(new_shape), tuple(new_strides), offset
