"""N-d strided iteration (cimport-only: see _iter.pxd). No Python-level names."""
