"""Variable-length sequences (``torch.nn.utils.rnn``): ``pad_sequence``, ``unpad_sequence``,
``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ``pack_sequence``,
``unpack_sequence``, ``invert_permutation``.

Packing and padding are one gather (``index_select``) each, with the indices computed once
in numpy, so they are differentiable and have no Python loop over time steps or batch items.
"""
from collections.abc import Iterable
from typing import NamedTuple, Optional

import numpy as np

import rt_autograd as rt

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: rt.Tensor
    batch_sizes: rt.Tensor
    sorted_indices: Optional[rt.Tensor]
    unsorted_indices: Optional[rt.Tensor]


class PackedSequence(PackedSequence_):
    """A packed batch of variable-length sequences: ``data`` holds time step 0 of every
    sequence, then step 1 of those still running, ...; ``batch_sizes[t]`` is how many
    sequences have a step ``t``. Build it with :func:`pack_padded_sequence` or
    :func:`pack_sequence`."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self

    def double(self):
        return self.to(dtype=rt.float64)

    def float(self):
        return self.to(dtype=rt.float32)

    def half(self):
        return self.to(dtype=rt.float16)

    def long(self):
        return self.to(dtype=rt.int64)

    def int(self):
        return self.to(dtype=rt.int32)

    def short(self):
        return self.to(dtype=rt.int16)

    def char(self):
        return self.to(dtype=rt.int8)

    def byte(self):
        return self.to(dtype=rt.uint8)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The inverse permutation (``out[permutation[i]] = i``), or None for None."""
    if permutation is None:
        return None
    output = rt.empty_like(permutation)
    output.scatter_(0, permutation, rt.arange(0, permutation.numel()))
    return output


def _lengths_array(lengths):
    if isinstance(lengths, rt.Tensor):
        return np.asarray(lengths.to(rt.int64).tolist(), dtype=np.int64).reshape(-1)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _pack_indices(lengths, batch, time_major_stride):
    """Rows of the (T*B, *) time-major input that make up the packed data, and batch_sizes.
    ``lengths`` sorted decreasing. Row of (t, b) is t * time_major_stride[0] + b * [1]."""
    max_len = int(lengths[0]) if lengths.size else 0
    t = np.arange(max_len)
    batch_sizes = (lengths[None, :] > t[:, None]).sum(axis=1)
    tt, bb = np.nonzero(lengths[None, :] > t[:, None])      # row-major: by t, then b
    rows = tt * time_major_stride[0] + bb * time_major_stride[1]
    return rows, batch_sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences with
    the given ``lengths``. With ``enforce_sorted`` the lengths must be decreasing; otherwise
    the batch is sorted here and the permutation kept in the result."""
    lens = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = rt.tensor(order.tolist(), dtype=rt.int64)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if input.dim() < 2:
        raise RuntimeError(f"pack_padded_sequence: expected a padded input with at least 2 "
                           f"dims (time and batch), got {input.dim()}")
    T, B = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if lens.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.size} (batch_size={B})")
    if B and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(np.diff(lens) > 0):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if B and lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: a length ({int(lens[0])}) exceeds the "
                           f"padded sequence length ({T})")
    rows, batch_sizes = _pack_indices(lens, B, (1, T) if batch_first else (B, 1))
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat.index_select(0, rt.tensor(rows.tolist(), dtype=rt.int64))
    return PackedSequence(data, rt.tensor(batch_sizes.tolist(), dtype=rt.int64),
                          sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of :func:`pack_padded_sequence`: (padded batch, lengths). The padded batch
    is (T, B, *) (or (B, T, *)), T = the longest length or ``total_length``."""
    batch_sizes = np.asarray(sequence.batch_sizes.tolist(), dtype=np.int64)
    max_seq_length = batch_sizes.size
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    B = int(batch_sizes[0]) if batch_sizes.size else 0
    lens = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(axis=1)    # per sorted batch item
    # the data row of (t, b), or the padding row (index n) where b has no step t
    n = data.shape[0]
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]) if batch_sizes.size else \
        np.zeros(0, np.int64)
    t = np.arange(max_seq_length)[:, None]
    b = np.arange(B)[None, :]
    valid = t < lens[None, :]
    off_t = np.zeros(max_seq_length, np.int64)
    off_t[:offsets.size] = offsets
    idx = np.where(valid, off_t[:, None] + b, n)                         # (T, B)
    if batch_first:
        idx = idx.T
    pad_row = rt.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    src = rt.cat([data, pad_row])
    out = src.index_select(0, rt.tensor(idx.reshape(-1).tolist(), dtype=rt.int64))
    padded = out.reshape(tuple(idx.shape) + tuple(data.shape[1:]))
    lengths = rt.tensor(lens.tolist(), dtype=rt.int64)
    if sequence.unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        return (padded.index_select(batch_dim, sequence.unsorted_indices),
                lengths[sequence.unsorted_indices])
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks variable-length tensors (L_i, *) into (L_max, B, *) (or (B, L_max, *) with
    ``batch_first``), filling with ``padding_value`` on the ``padding_side`` ('right' or
    'left').

    >>> pad_sequence([rt.ones(2), rt.ones(1)], batch_first=True).tolist()
    [[1.0, 1.0], [1.0, 0.0]]
    """
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if len(sequences) == 0:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences[1:]:
        if s.dim() == 0 or tuple(s.shape[1:]) != trailing:
            for d, (x, y) in enumerate(zip(s.shape[1:], trailing)):
                if x != y:
                    raise RuntimeError(f"The size of tensor a ({y}) must match the size of "
                                       f"tensor b ({x}) at non-singleton dimension {d + 1}")
            raise RuntimeError(f"pad_sequence: all sequences need the same trailing "
                               f"dimensions: got {list(s.shape)} and "
                               f"{list(sequences[0].shape)}")
    if sequences[0].dim() == 0:
        raise RuntimeError("pad_sequence: expected sequences with at least one dimension, "
                           "got a 0-d tensor")
    lens = np.asarray([s.shape[0] for s in sequences], dtype=np.int64)
    B, L = len(sequences), int(lens.max())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    n = int(lens.sum())
    pos = np.arange(L)[None, :]                                          # (1, L)
    if padding_side == "right":
        k = pos                                                          # step within seq
    else:
        k = pos - (L - lens[:, None])
    valid = (k >= 0) & (k < lens[:, None])
    idx = np.where(valid, starts[:, None] + k, n)                        # (B, L)
    if not batch_first:
        idx = idx.T
    dtype = sequences[0].dtype
    for s in sequences[1:]:
        dtype = rt.promote_types(dtype, s.dtype)
    pad_row = rt.full((1,) + trailing, padding_value, dtype=dtype)
    src = rt.cat([s.to(dtype) for s in sequences] + [pad_row])
    out = src.index_select(0, rt.tensor(idx.reshape(-1).tolist(), dtype=rt.int64))
    return out.reshape(tuple(idx.shape) + trailing)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of :func:`pad_sequence` (right padding): a list of (L_i, *) tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(length)] for seq, length in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of variable-length tensors (L_i, *) (decreasing lengths unless
    ``enforce_sorted=False``)."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The inverse of :func:`pack_sequence`: the list of tensors, in their original order."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
