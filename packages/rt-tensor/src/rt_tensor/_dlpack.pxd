# DLPack interop (see _dlpack.pyx); nothing is cimported from here yet.
