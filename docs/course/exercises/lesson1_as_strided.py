"""Lesson 1, exercise 2: views built with ``as_strided`` alone.

``rtt.as_strided(t, size, stride, storage_offset)`` makes a view of ``t``'s storage with any
shape, strides and offset you give it. Build each view below with it (and the input's own
``stride()`` and ``storage_offset()``: inputs may themselves be views). No copies: the
checks make sure the result shares the input's storage.
Check your answers with ``python docs/course/_runner.py check 1``.
"""
import rt_tensor as rtt


def transpose(matrix):
    """``matrix.t()`` for a 2-d tensor, built with ``rtt.as_strided``."""
    raise NotImplementedError("exercise: the transpose of a matrix with as_strided")


def sliding_windows(vector, size, step=1):
    """``vector.unfold(0, size, step)`` for a 1-d tensor, built with ``rtt.as_strided``:
    row i is ``vector[i * step : i * step + size]``."""
    raise NotImplementedError("exercise: the sliding windows of a vector with as_strided")


def repeat_rows(row, n):
    """``row.expand(n, len(row))`` for a 1-d tensor, built with ``rtt.as_strided``."""
    raise NotImplementedError("exercise: n copies of a row with stride 0, with as_strided")
