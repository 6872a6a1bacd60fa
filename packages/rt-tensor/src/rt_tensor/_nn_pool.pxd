from rt_tensor._types cimport index_t

# 2x2 stride-2 max pooling values (no indices, no padding) of `planes` contiguous (H, W)
# planes of dtype dt (float32/float64) into contiguous (H // 2, W // 2) planes, on the calling
# thread: for other kernels' epilogues (the convolution's fused Relu+MaxPool). The same bits
# as max_pool2d's values kernel.
cdef void max_pool2x2_values(int dt, const void* x, void* y, index_t planes, index_t H,
                             index_t W) noexcept nogil
