"""The public API is explicit and locked, and every op of rt-tensor is accounted for: either
it records the graph here (a registered differentiable wrapper) or it is on the list of ops
that have no gradient in PyTorch either (integer/bool results, factories, utilities)."""
import pathlib

import rt_tensor as rtt

import rt_autograd as rt
from rt_autograd import _ops

LOCKED = pathlib.Path(__file__).with_name("public_api.txt").read_text().split()

# rt_tensor functions with no gradient (PyTorch: integer or bool results, random sampling,
# factories without inputs, configuration and utilities)
NOT_DIFFERENTIABLE = set("""
from_numpy from_dlpack as_tensor set_num_threads get_num_threads get_default_dtype
set_default_dtype promote_types can_cast manual_seed seed initial_seed get_rng_state
set_rng_state normal bernoulli multinomial poisson set_printoptions get_printoptions
printoptions isclose allclose equal greater greater_equal less less_equal not_equal eq ne lt
le gt ge bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift
bitwise_not logical_and logical_or logical_xor logical_not isnan isinf isfinite isposinf
isneginf signbit argmax argmin all any count_nonzero nonzero argwhere broadcast_shapes numel
is_tensor is_floating_point is_complex is_nonzero argsort unique unique_consecutive
searchsorted bucketize histc
""".split())

# Tensor methods with no gradient, or handled by the core type itself
NOT_DIFFERENTIABLE_METHODS = set("""
alias all allclose any argmax argmin argsort argwhere bernoulli bitwise_and bitwise_and_
bitwise_left_shift bitwise_left_shift_ bitwise_not bitwise_not_ bitwise_or bitwise_or_
bitwise_right_shift bitwise_right_shift_ bitwise_xor bitwise_xor_ bool byte char
count_nonzero cpu data_ptr detach device dim dtype element_size eq equal ge greater
greater_equal gt histc int is_complex is_contiguous is_cpu is_cuda is_floating_point
is_nonzero is_signed isclose isfinite isinf isnan isneginf isposinf item itemsize layout le
less less_equal logical_and logical_not logical_or logical_xor long lt multinomial nbytes
ndim ndimension ne nelement nonzero not_equal numel numpy shape short signbit size
storage_offset stride tolist unique unique_consecutive untyped_storage
""".split())


def test_all_matches_the_locked_list():
    assert len(rt.__all__) == len(set(rt.__all__)), "duplicate names in __all__"
    assert sorted(rt.__all__) == sorted(LOCKED)


def test_every_public_name_exists_and_star_import_gives_all():
    assert not [n for n in rt.__all__ if not hasattr(rt, n)]
    namespace = {}
    exec("from rt_autograd import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(rt.__all__)


def test_everything_of_rt_tensor_is_re_exported():
    assert set(rtt.__all__) <= set(rt.__all__)
    assert rt.Tensor is not rtt.Tensor and issubclass(rt.Tensor, rtt.Tensor)


def test_every_rt_tensor_function_records_or_has_no_gradient():
    unaccounted = []
    for name in rtt.__all__:
        obj = getattr(rtt, name)
        if isinstance(obj, type) or not callable(obj) or name in NOT_DIFFERENTIABLE:
            continue
        if name not in _ops.FUNCTIONS:
            unaccounted.append(name)
        else:
            assert getattr(rt, name) is _ops.FUNCTIONS[name], name
    assert not unaccounted, f"rt_tensor functions without a gradient: {unaccounted}"


def test_every_rt_tensor_method_records_or_has_no_gradient():
    unaccounted = [n for n in dir(rtt.Tensor) if not n.startswith("_") and
                   n not in _ops.METHODS and n not in NOT_DIFFERENTIABLE_METHODS]
    assert not unaccounted, f"Tensor methods without a gradient: {unaccounted}"


def test_non_differentiable_lists_name_real_things():
    assert NOT_DIFFERENTIABLE <= set(rtt.__all__)
    assert NOT_DIFFERENTIABLE_METHODS <= set(dir(rtt.Tensor))


def test_pytorch_names_users_reach_for():
    for name in ["tensor", "zeros", "randn", "no_grad", "enable_grad", "set_grad_enabled",
                 "inference_mode", "is_grad_enabled", "autograd", "Variable", "Tensor",
                 "matmul", "einsum", "cat", "where", "float32"]:
        assert name in rt.__all__, name
    assert callable(rt.autograd.grad) and callable(rt.autograd.backward)
    assert rt.autograd.Function is not None
