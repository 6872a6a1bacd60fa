# The seeded random generator (Philox4x32-10, counter-based): the numbers depend only on
# (seed, offset, element index), never on the thread split.
from libc.stdint cimport uint32_t, uint64_t

cdef class Generator:
    cdef public uint64_t _seed
    cdef public uint64_t _offset      # next unused Philox block
    cdef object __weakref__

    cdef uint64_t reserve(self, uint64_t nblocks)

cdef void philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                        uint32_t k0, uint32_t k1, uint32_t* out) noexcept nogil
cdef Generator get_generator(object generator)
