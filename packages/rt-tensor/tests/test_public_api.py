"""The public API is explicit and locked: rt_tensor.__all__ must equal tests/public_api.txt.
Adding or removing a public name means updating that file in the same change."""
import pathlib

import rt_tensor as rtt
from rt_tensor import (_creation, _random, _format, _dlpack, _elementwise, _reduce, _index,
                       _shape_ops, _sort, _linalg)

LOCKED = pathlib.Path(__file__).with_name("public_api.txt").read_text().split()


def test_all_matches_the_locked_list():
    assert len(rtt.__all__) == len(set(rtt.__all__)), "duplicate names in __all__"
    assert sorted(rtt.__all__) == sorted(LOCKED)


def test_every_public_name_exists():
    missing = [name for name in rtt.__all__ if not hasattr(rtt, name)]
    assert not missing


def test_every_module_export_is_public():
    for module in (_creation, _random, _format, _dlpack, _elementwise, _reduce, _index,
                   _shape_ops, _sort, _linalg):
        assert set(module.__all__) <= set(rtt.__all__), module.__name__


def test_star_import_gives_exactly_all():
    namespace = {}
    exec("from rt_tensor import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(rtt.__all__)


def test_pytorch_names_users_reach_for():
    for name in ["tensor", "zeros", "ones", "arange", "randn", "manual_seed", "cat", "stack",
                 "where", "matmul", "einsum", "sum", "mean", "max", "argmax", "sort", "topk",
                 "exp", "log", "sigmoid", "clamp", "float32", "int64", "bool", "from_numpy",
                 "from_dlpack", "is_tensor"]:
        assert name in rtt.__all__, name
