# Operation codes shared by Tensor's operators and the elementwise kernels. pxd-only.
cdef enum BinaryOp:
    OP_ADD
    OP_SUB
    OP_MUL
    OP_DIV          # true division
    OP_FLOOR_DIV
    OP_REMAINDER    # sign of the divisor, Python's %
    OP_POW
    OP_EQ
    OP_NE
    OP_LT
    OP_LE
    OP_GT
    OP_GE
    OP_AND          # bitwise/logical for bool
    OP_OR
    OP_XOR
    OP_LSHIFT
    OP_RSHIFT
    OP_MATMUL       # routed to _linalg
    NUM_BINARY_OPS

cdef enum UnaryOp:
    OP_NEG
    OP_POS
    OP_ABS
    OP_INVERT       # ~: bitwise not, logical not for bool
    NUM_UNARY_OPS
