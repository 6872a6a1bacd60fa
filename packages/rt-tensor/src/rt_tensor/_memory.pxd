# Storage: a reference-counted block of memory (DESIGN.md). Tensors hold a Storage; views
# share one. Blocks come from the caching pool in _memory.pyx unless the memory belongs to
# someone else (a numpy array, a DLPack producer), which `owner` keeps alive.
from rt_tensor._types cimport index_t

cdef class Storage:
    cdef char* data
    cdef index_t nbytes          # usable bytes
    cdef index_t block_class     # pool size class, or -1 when the memory is external
    cdef object owner            # keeps external memory alive
    cdef void* dl_managed        # a DLManagedTensor whose deleter runs on release
    cdef int dl_versioned
    cdef public index_t version  # in-place modification counter, shared by all views
    cdef object __weakref__

cdef Storage new_storage(index_t nbytes, bint zero)
cdef Storage external_storage(char* data, index_t nbytes, object owner)
