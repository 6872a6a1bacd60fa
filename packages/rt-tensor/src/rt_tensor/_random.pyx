# cython: language_level=3
"""(placeholder: filled in by its owner)"""
include "build_stamp.pxi"

__all__ = []
TENSOR_METHODS = {}
