"""Lesson 3, exercise 3: a confusion matrix with rt ops.

Write ``confusion_matrix(predictions, labels, num_classes)``: ``predictions`` and ``labels``
are 1-D int64 tensors of the same length holding class indices in ``0 .. num_classes - 1``.
Return a ``(num_classes, num_classes)`` int64 rt tensor whose entry ``[t, p]`` counts the
examples of true class ``t`` that were predicted as ``p`` (the diagonal holds the correct
ones). Use rt ops only, no numpy and no Python loop over the examples.

Hint: ``labels * num_classes + predictions`` numbers the cells of the flattened matrix;
count how often each number occurs (``Tensor.index_add_`` or ``Tensor.scatter_add_``).

Check it:  python docs/course/_runner.py check 3
"""
import rt_autograd as rt


def confusion_matrix(predictions, labels, num_classes):
    raise NotImplementedError("exercise: write confusion_matrix")
