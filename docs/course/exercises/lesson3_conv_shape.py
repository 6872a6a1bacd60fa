"""Lesson 3, exercise 2: the output size of a convolution.

Write ``conv2d_output_shape(height, width, kernel_size, stride=1, padding=0, dilation=1)``:
the ``(height, width)`` of what ``rt_nn.Conv2d`` returns for an input of that height and
width. ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are each an int (the same
for both dimensions) or an ``(h, w)`` pair, as in ``torch.nn.Conv2d``, whose documentation
gives the formula (https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html):

    out = floor((in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)

Example: a 3x3 kernel with padding 1 keeps 8x8 at 8x8; a 5x5 kernel with stride 2 takes
28x28 to 12x12.

Check it:  python docs/course/_runner.py check 3
"""


def conv2d_output_shape(height, width, kernel_size, stride=1, padding=0, dilation=1):
    raise NotImplementedError("exercise: write conv2d_output_shape")
