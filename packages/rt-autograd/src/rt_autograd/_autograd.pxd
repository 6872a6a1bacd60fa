# The autograd core (see _autograd.pyx): other Cython code cimports these to read a tensor's
# autograd state without Python attribute lookups.
from rt_tensor._tensor cimport Tensor as BaseTensor


cdef class Tensor(BaseTensor):
    cdef bint _requires_grad
    cdef object _grad              # Tensor or None
    cdef Node _grad_fn             # None for leaves
    cdef int _output_nr            # which output of _grad_fn this tensor is
    cdef bint _retains_grad
    cdef object _accumulator       # the leaf's AccumulateGrad node (it refers back weakly)
    cdef object _view_base         # the tensor this one is a (tracked) view of, or None
    cdef long long _view_version   # the storage version when the view's history was set
    cdef list _leaf_hooks          # hooks registered on a leaf (its AccumulateGrad reads them)
    cdef bint _inference           # created inside inference_mode

    cdef _set_requires_grad(self, bint value)


cdef class Node:
    cdef public tuple next_functions   # ((Node or None, output_nr), ...) one per input
    cdef list _input_meta              # per input: (shape tuple, dtype) or None
    cdef list _output_meta             # per output: (shape tuple, dtype)
    cdef list _saved                   # SavedTensor or plain objects
    cdef bint _released
    cdef public long long _sequence_nr
    cdef list _pre_hooks               # node hooks: fn(grad_outputs) -> new grad_outputs | None
    cdef list _post_hooks              # fn(grad_inputs, grad_outputs) -> new grad_inputs | None
    cdef dict _tensor_pre_hooks        # output_nr -> [fn(grad) -> grad | None]
    cdef dict _retain_hooks            # output_nr -> weakref to the tensor that retains grad
    cdef public tuple needs_input_grad
    cdef dict _metadata
    cdef list _leaves                  # leaf inputs, kept alive by the graph as in PyTorch
    cdef dict __dict__
    cdef object __weakref__


cpdef bint is_grad_enabled()
cdef bint needs_grad1(object a)
cdef bint needs_grad2(object a, object b)
