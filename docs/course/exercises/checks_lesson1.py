"""Checks of lesson 1's exercises: each takes the module under test (your template or the
worked solution) and compares its answers with the views rt itself makes and with numpy."""
import numpy as np
import rt_tensor as rtt


def check_strides(module):
    for shape in [(5,), (3, 4), (2, 3, 4), (4, 1, 6), (2, 2, 3, 5)]:
        assert tuple(module.contiguous_strides(shape)) == rtt.zeros(*shape).stride(), shape
    assert tuple(module.contiguous_strides(())) == ()

    base = rtt.zeros(2, 3, 4)
    transposed = base.transpose(0, 2)                 # not contiguous: strides (1, 4, 12)
    for t in (base, transposed):
        for dims in [(0, 1, 2), (2, 0, 1), (1, 2, 0), (2, 1, 0)]:
            expected = t.permute(*dims).stride()
            assert tuple(module.permuted_strides(t.stride(), dims)) == expected, dims

    storage = rtt.arange(400, dtype=rtt.float32)
    t = storage[10:220].view(5, 6, 7)                 # a view with offset 10
    cases = [
        (slice(1, 4), slice(None), slice(None)),
        (slice(None, None, 2), slice(1, None, 3), slice(2, 6)),
        (slice(-3, None), slice(None, -1, 2), slice(None, None, 4)),
        (slice(4, 5), slice(0, 6, 5), slice(6, None)),
    ]
    for slices in cases:
        view = t[slices]
        shape, strides, offset = module.sliced_view(tuple(t.shape), t.stride(),
                                                    t.storage_offset(), slices)
        assert (tuple(shape), tuple(strides), offset) == \
            (tuple(view.shape), view.stride(), view.storage_offset()), slices
        # the three numbers read the very same elements out of the storage
        rebuilt = rtt.as_strided(storage, shape, strides, offset)
        assert np.array_equal(rebuilt.numpy(), t.numpy()[slices])


def check_as_strided(module):
    square = rtt.arange(12, dtype=rtt.float64).view(3, 4)
    for matrix in (square, square[1:, ::2], square.t()):
        result = module.transpose(matrix)
        assert result.untyped_storage() is matrix.untyped_storage(), "transpose copied"
        assert tuple(result.shape) == tuple(matrix.t().shape)
        assert result.stride() == matrix.t().stride()
        assert np.array_equal(result.numpy(), matrix.numpy().T)

    numbers = rtt.arange(20, dtype=rtt.float64)
    for vector, size, step in [(numbers, 4, 1), (numbers[3:], 5, 2), (numbers[::3], 2, 3)]:
        result = module.sliding_windows(vector, size, step)
        assert result.untyped_storage() is vector.untyped_storage(), "sliding_windows copied"
        expected = np.lib.stride_tricks.sliding_window_view(vector.numpy(), size)[::step]
        assert np.array_equal(result.numpy(), expected)
        assert result.stride() == vector.unfold(0, size, step).stride()

    for row in (rtt.tensor([1.0, 2.0, 3.0]), numbers[2:12:2]):
        result = module.repeat_rows(row, 4)
        assert result.untyped_storage() is row.untyped_storage(), "repeat_rows copied"
        assert result.stride() == row.expand(4, row.shape[0]).stride()
        assert result.stride()[0] == 0
        assert np.array_equal(result.numpy(), np.tile(row.numpy(), (4, 1)))
