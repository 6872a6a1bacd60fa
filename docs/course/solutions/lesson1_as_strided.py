"""Lesson 1, exercise 2: views built with ``as_strided`` alone (worked solution)."""
import rt_tensor as rtt


def transpose(matrix):
    """``matrix.t()``: swap the two sizes and the two strides; same first element."""
    rows, cols = matrix.shape
    row_stride, col_stride = matrix.stride()
    return rtt.as_strided(matrix, (cols, rows), (col_stride, row_stride),
                          matrix.storage_offset())


def sliding_windows(vector, size, step=1):
    """``vector.unfold(0, size, step)``: window i starts step * i elements further on."""
    (length,), (stride,) = vector.shape, vector.stride()
    count = (length - size) // step + 1
    return rtt.as_strided(vector, (count, size), (step * stride, stride),
                          vector.storage_offset())


def repeat_rows(row, n):
    """``row.expand(n, len(row))``: stride 0 along the new dimension reads the row again."""
    return rtt.as_strided(row, (n, row.shape[0]), (0, row.stride(0)), row.storage_offset())
