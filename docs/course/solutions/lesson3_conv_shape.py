"""Lesson 3, exercise 2, worked solution: the output size of a convolution.

Each dimension is independent: the kernel covers ``dilation * (kernel_size - 1) + 1`` input
positions, the padded input has ``in + 2 * padding``, and the kernel fits at every
``stride``-th start position from 0 while it stays inside.
"""


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv2d_output_shape(height, width, kernel_size, stride=1, padding=0, dilation=1):
    sizes = []
    for size, k, s, p, d in zip((height, width), _pair(kernel_size), _pair(stride),
                                _pair(padding), _pair(dilation)):
        covered = d * (k - 1) + 1
        sizes.append((size + 2 * p - covered) // s + 1)
    return tuple(sizes)
