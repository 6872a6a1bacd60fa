"""Families of functional ops (see rt_nn/functional.py)."""
