"""``Fold`` and ``Unfold`` (``torch.nn.modules.fold``): sliding local blocks to columns and
back (``rt_nn.functional.unfold`` / ``fold``)."""
from rt_nn._functional.conv import fold, unfold
from rt_nn.modules.module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Sums columns (N, C * prod(kernel_size), L) of sliding blocks into an image
    (N, C, *output_size); the adjoint of Unfold.

    >>> Fold(output_size=(4, 5), kernel_size=(2, 2))(rt.randn(1, 3 * 2 * 2, 12)).shape
    rt_tensor.Size([1, 3, 4, 5])
    """

    __constants__ = ["output_size", "kernel_size", "dilation", "padding", "stride"]

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self):
        return ("output_size={output_size}, kernel_size={kernel_size}, "
                "dilation={dilation}, padding={padding}, stride={stride}".format(**self.__dict__))


class Unfold(Module):
    """Extracts sliding local blocks of (N, C, H, W) as columns (N, C * prod(kernel_size), L).

    >>> Unfold(kernel_size=(2, 3))(rt.randn(2, 5, 3, 4)).shape
    rt_tensor.Size([2, 30, 4])
    """

    __constants__ = ["kernel_size", "dilation", "padding", "stride"]

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return ("kernel_size={kernel_size}, dilation={dilation}, padding={padding},"
                " stride={stride}".format(**self.__dict__))
