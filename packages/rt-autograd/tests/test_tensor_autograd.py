"""The autograd attributes of Tensor, as PyTorch 2.x has them: requires_grad, grad, grad_fn
and next_functions, is_leaf, detach/detach_, retain_grad, register_hook, .data, Variable,
repr, pickling and deepcopy, in-place rules on leaves and the version counter.

Engine behaviour (backward, autograd.grad, create_graph) is in test_engine.py; grad modes in
test_grad_mode.py; graph memory in test_memory.py.
"""
import copy
import pickle
import warnings

import numpy as np
import pytest

import rt_autograd as rt

NON_LEAF_GRAD_WARNING = ("The .grad attribute of a Tensor that is not a leaf Tensor is being "
                         "accessed")
INT_DTYPE_ERROR = "Only Tensors of floating point and complex dtype can require gradients"


def vals(t):
    return np.array(t.detach().numpy(), copy=True)


def leaf(values, dtype=rt.float64):
    return rt.tensor(values, dtype=dtype, requires_grad=True)


# ---- requires_grad ----------------------------------------------------------------------------

FACTORIES = {
    "tensor": lambda **kw: rt.tensor([1.0, 2.0], **kw),
    "zeros": lambda **kw: rt.zeros(2, 3, **kw),
    "ones": lambda **kw: rt.ones(2, **kw),
    "empty": lambda **kw: rt.empty(3, **kw),
    "full": lambda **kw: rt.full((2,), 1.5, **kw),
    "rand": lambda **kw: rt.rand(2, **kw),
    "randn": lambda **kw: rt.randn(2, 2, **kw),
    "eye": lambda **kw: rt.eye(2, **kw),
    "linspace": lambda **kw: rt.linspace(0, 1, 5, **kw),
    "arange(float)": lambda **kw: rt.arange(3.0, **kw),
    "zeros_like": lambda **kw: rt.zeros_like(rt.ones(2), **kw),
    "ones_like": lambda **kw: rt.ones_like(rt.ones(2), **kw),
    "full_like": lambda **kw: rt.full_like(rt.ones(2), 3.0, **kw),
    "randn_like": lambda **kw: rt.randn_like(rt.ones(2), **kw),
    "empty_like": lambda **kw: rt.empty_like(rt.ones(2), **kw),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_requires_grad_argument(name):
    make = FACTORIES[name]
    t = make(requires_grad=True)
    assert t.requires_grad is True
    assert t.is_leaf and t.grad_fn is None and t.grad is None
    assert isinstance(t, rt.Tensor)
    assert make().requires_grad is False
    assert make(requires_grad=False).requires_grad is False


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "complex64",
                                   "complex128"])
def test_floating_and_complex_dtypes_can_require_grad(dtype):
    t = rt.ones(2, dtype=getattr(rt, dtype), requires_grad=True)
    assert t.requires_grad and t.dtype == getattr(rt, dtype)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64"])
def test_integer_dtype_requires_grad_factory_argument_raises(dtype):
    with pytest.raises(RuntimeError, match=INT_DTYPE_ERROR):
        rt.zeros(2, dtype=getattr(rt, dtype), requires_grad=True)


def test_integer_tensor_requires_grad_raises_for_tensor_and_arange():
    with pytest.raises(RuntimeError, match=INT_DTYPE_ERROR):
        rt.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match=INT_DTYPE_ERROR):
        rt.arange(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=INT_DTYPE_ERROR):
        rt.tensor([1.0, 2.0], dtype=rt.int64, requires_grad=True)
    # an integer dtype given explicitly to float data still refuses; float dtype for ints works
    assert rt.tensor([1, 2], dtype=rt.float32, requires_grad=True).requires_grad


@pytest.mark.parametrize("how", ["requires_grad_", "attribute"])
def test_integer_tensor_requires_grad_method_and_attribute_raise(how):
    t = rt.tensor([1, 2])
    # PyTorch: requires_grad_() says "only Tensors of floating point dtype can require
    # gradients", the attribute the full message; both name floating point dtypes
    with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
        if how == "requires_grad_":
            t.requires_grad_()
        else:
            t.requires_grad = True
    assert t.requires_grad is False


def test_requires_grad_method_returns_self_and_toggles():
    t = rt.ones(2)
    assert t.requires_grad_() is t
    assert t.requires_grad
    assert t.requires_grad_(False) is t
    assert not t.requires_grad
    t.requires_grad = True
    assert t.requires_grad
    t.requires_grad = False
    assert not t.requires_grad


def test_requires_grad_propagates_to_results():
    a = rt.ones(2, requires_grad=True)
    b = rt.ones(2)
    assert (a + b).requires_grad and (b + a).requires_grad
    assert not (b + b).requires_grad
    assert (a * 2).requires_grad and (2 * a).requires_grad
    assert not (a + b).is_leaf
    assert (b + b).is_leaf
    # integer-valued results of comparisons never require grad
    assert not (a > b).requires_grad


def test_requires_grad_false_on_non_leaf_raises():
    y = rt.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf "
                                           "variables"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf "
                                           "variables"):
        y.requires_grad_(False)
    assert y.requires_grad


def test_requires_grad_true_on_non_leaf_raises_like_pytorch():
    # PyTorch 2.13: `y.requires_grad = True` on a non-leaf also raises "you can only change
    # requires_grad flags of leaf variables." (rt silently accepts it)
    y = rt.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf "
                                           "variables"):
        y.requires_grad = True


# ---- grad -------------------------------------------------------------------------------------

def test_grad_is_none_until_backward_then_a_plain_tensor():
    x = leaf([1.0, 2.0])
    assert x.grad is None
    (x * 3).sum().backward()
    assert isinstance(x.grad, rt.Tensor)
    assert x.grad.dtype == x.dtype and tuple(x.grad.shape) == (2,)
    assert not x.grad.requires_grad and x.grad.grad_fn is None
    np.testing.assert_array_equal(vals(x.grad), [3.0, 3.0])


def test_grad_setter_and_deleter():
    x = leaf([1.0, 2.0])
    x.grad = rt.tensor([5.0, 6.0], dtype=rt.float64)
    np.testing.assert_array_equal(vals(x.grad), [5.0, 6.0])
    (x * 1).sum().backward()               # accumulates into the assigned gradient
    np.testing.assert_array_equal(vals(x.grad), [6.0, 7.0])
    x.grad = None
    assert x.grad is None
    x.grad = rt.zeros(2, dtype=rt.float64)
    del x.grad
    assert x.grad is None


def test_grad_setter_refuses_wrong_shape_dtype_and_type():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="size"):
        x.grad = rt.zeros(3, dtype=rt.float64)
    with pytest.raises(RuntimeError):
        x.grad = rt.zeros(2, dtype=rt.float32)
    with pytest.raises(TypeError):
        x.grad = [1.0, 2.0]
    assert x.grad is None


def test_grad_of_non_leaf_is_none_with_pytorch_warning():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match=NON_LEAF_GRAD_WARNING):
        g = y.grad
    assert g is None
    with pytest.warns(UserWarning, match="retain_grad"):
        y.grad


def test_grad_of_leaf_or_retained_non_leaf_does_not_warn():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None
        assert y.grad is None
        assert rt.ones(2).grad is None          # a leaf that does not require grad
        y.sum().backward()
        np.testing.assert_array_equal(vals(y.grad), [1.0, 1.0])


# ---- grad_fn, next_functions, is_leaf ---------------------------------------------------------

def _name(edge):
    node, nr = edge
    return (None if node is None else node.name(), nr)


def test_graph_structure_of_the_seed_example():
    x = leaf(2.0)
    y = leaf(3.0)
    z = x * y + x ** 2
    assert z.grad_fn.name() == "AddBackward0"
    assert [_name(e) for e in z.grad_fn.next_functions] == [("MulBackward0", 0),
                                                           ("PowBackward0", 0)]
    mul, pow_ = (e[0] for e in z.grad_fn.next_functions)
    acc_x, acc_y = (e[0] for e in mul.next_functions)
    assert acc_x.name() == acc_y.name() == "torch::autograd::AccumulateGrad"
    assert type(acc_x).__name__ == "AccumulateGrad"
    assert acc_x.variable is x and acc_y.variable is y
    assert acc_x.next_functions == ()
    # x is used twice: both uses reach the same AccumulateGrad node
    assert pow_.next_functions[0][0] is acc_x
    assert z.is_leaf is False and x.is_leaf and y.is_leaf
    assert x.grad_fn is None


def test_next_functions_edge_for_tensor_that_does_not_require_grad_is_none():
    x = leaf([1.0, 2.0])
    c = rt.tensor([3.0, 4.0], dtype=rt.float64)
    for y in (x * c, x + c):
        assert _name(y.grad_fn.next_functions[0]) == ("torch::autograd::AccumulateGrad", 0)
        assert y.grad_fn.next_functions[1] == (None, 0)
    y = c * x
    assert y.grad_fn.next_functions[0] == (None, 0)


def test_next_functions_of_op_with_python_scalar_has_a_none_edge():
    # PyTorch wraps the scalar of `x * 2` / `x + 1` as a tensor: MulBackward0 / AddBackward0
    # have two next_functions, the second (None, 0); rt records only one
    x = leaf([1.0, 2.0])
    for y in (x * 2, x + 1):
        assert [_name(e) for e in y.grad_fn.next_functions] == [
            ("torch::autograd::AccumulateGrad", 0), (None, 0)]


def test_grad_fn_chain_and_output_numbers():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = (x.exp() * 2).sum()
    assert y.grad_fn.name().startswith("SumBackward")
    mul = y.grad_fn.next_functions[0][0]
    assert mul.name() == "MulBackward0"
    exp = mul.next_functions[0][0]
    assert exp.name() == "ExpBackward0"
    assert exp.next_functions[0][0].variable is x


class _TwoOutputs(rt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 * 2 + g2 * 3


def test_outputs_of_one_node_share_grad_fn_with_output_numbers():
    x = leaf([1.0, 2.0])
    a, b = _TwoOutputs.apply(x)
    assert a.grad_fn is b.grad_fn
    assert (a.output_nr, b.output_nr) == (0, 1)
    assert x.output_nr == 0
    (a.sum() + b.sum()).backward()
    np.testing.assert_array_equal(vals(x.grad), [5.0, 5.0])


def test_full_sum_grad_fn_is_SumBackward0():
    # PyTorch: x.sum() -> SumBackward0, x.sum(dim) -> SumBackward1
    x = leaf([1.0, 2.0])
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert x.sum(0).grad_fn.name() == "SumBackward1"


def test_accumulate_grad_node_is_shared_while_a_graph_holds_it():
    x = leaf([1.0])
    y1 = x * 2
    y2 = x * 3
    assert y1.grad_fn.next_functions[0][0] is y2.grad_fn.next_functions[0][0]


def test_grad_fn_is_callable_like_pytorch_nodes():
    x = leaf([1.0, 2.0])
    y = leaf([3.0, 4.0])
    z = x * y
    gx, gy = z.grad_fn(rt.ones(2, dtype=rt.float64))
    np.testing.assert_array_equal(vals(gx), [3.0, 4.0])
    np.testing.assert_array_equal(vals(gy), [1.0, 2.0])


def test_results_in_no_grad_are_leaves():
    x = leaf([1.0])
    with rt.no_grad():
        y = x * 2
    assert y.is_leaf and y.grad_fn is None and not y.requires_grad


# ---- detach, detach_, .data -------------------------------------------------------------------

def test_detach_shares_memory_and_version_but_not_history():
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert y.requires_grad and y.grad_fn is not None       # y unchanged
    v = y._version
    d[0] = 10.0
    assert y._version == v + 1                              # shared version counter
    np.testing.assert_array_equal(vals(y), [10.0, 4.0])     # shared memory
    xd = x.detach()
    xd.add_(1)
    np.testing.assert_array_equal(vals(x), [2.0, 3.0])


def test_detach_in_place():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    z = (y * x).sum()
    z.backward()
    np.testing.assert_array_equal(vals(x.grad), [2.0, 4.0])


def test_detach_in_place_on_a_view_raises():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    v = (x * 2)[0]
    with pytest.raises(RuntimeError, match="Can't detach views in-place. Use detach\\(\\) "
                                           "instead"):
        v.detach_()


def test_data_is_detached_alias():
    x = leaf([1.0, 2.0])
    d = x.data
    assert not d.requires_grad and d.is_leaf
    assert x.requires_grad
    d.mul_(2)                                  # updates x's values, no autograd error
    np.testing.assert_array_equal(vals(x), [2.0, 4.0])


def test_data_setter_swaps_contents():
    x = leaf([1.0, 2.0], dtype=rt.float32)
    x.data = rt.tensor([5.0, 6.0, 7.0])
    assert tuple(x.shape) == (3,) and x.requires_grad and x.is_leaf
    np.testing.assert_array_equal(vals(x), [5.0, 6.0, 7.0])
    (x * 2).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [2.0, 2.0, 2.0])


def test_in_place_through_data_does_not_bump_the_version_counter():
    # PyTorch: `.data` has its own version counter, so `x.data.add_()` between forward and
    # backward neither bumps x._version nor trips the saved-tensor check (old optimizer code
    # relies on this). rt shares the storage's counter.
    x = leaf([1.0, 2.0])
    x.data.mul_(2)
    assert x._version == 0
    a = x * 1
    b = a ** 2
    a.data.add_(1)
    b.sum().backward()                          # PyTorch: no error, uses the new values
    np.testing.assert_array_equal(vals(x.grad), [6.0, 10.0])


# ---- retain_grad, register_hook ---------------------------------------------------------------

def test_retain_grad_keeps_non_leaf_gradient_and_accumulates():
    x = leaf([1.0, 2.0])
    y = x * 3
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    z = (y * y).sum()
    z.backward(retain_graph=True)
    np.testing.assert_array_equal(vals(y.grad), [6.0, 12.0])
    z.backward()
    np.testing.assert_array_equal(vals(y.grad), [12.0, 24.0])
    np.testing.assert_array_equal(vals(x.grad), [36.0, 72.0])


def test_retain_grad_on_leaf_is_a_no_op_and_needs_requires_grad():
    x = leaf([1.0])
    x.retain_grad()
    assert not x.retains_grad
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                           "requires_grad=False"):
        rt.ones(1).retain_grad()


def test_hook_on_leaf_modifies_accumulated_gradient_and_can_be_removed():
    x = leaf([1.0, 2.0])
    h = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [30.0, 30.0])
    h.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [3.0, 3.0])


def test_hook_on_leaf_registered_after_the_graph_was_built():
    x = leaf([1.0, 2.0])
    y = (x * 3).sum()
    x.register_hook(lambda g: g + 1)
    y.backward()
    np.testing.assert_array_equal(vals(x.grad), [4.0, 4.0])


def test_hook_on_non_leaf_changes_upstream_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(vals(g)))          # returns None: no change
    y.register_hook(lambda g: g + 1)                        # hooks run in order
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_array_equal(seen[0], [4.0, 8.0])
    np.testing.assert_array_equal(vals(y.grad), [5.0, 9.0])  # retain_grad sees the hooked grad
    np.testing.assert_array_equal(vals(x.grad), [10.0, 18.0])


def test_hook_registered_after_retain_grad_still_feeds_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 100)
    y.sum().backward()
    np.testing.assert_array_equal(vals(y.grad), [100.0, 100.0])
    np.testing.assert_array_equal(vals(x.grad), [200.0, 200.0])


def test_hook_handle_remove_on_non_leaf_and_context_manager():
    x = leaf([1.0])
    y = x * 2
    h = y.register_hook(lambda g: g * 0)
    h.remove()
    h.remove()                                              # removing twice is harmless
    y.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(vals(x.grad), [2.0])
    x.grad = None
    y2 = x * 2
    with y2.register_hook(lambda g: g * 0):
        pass
    y2.sum().backward()
    np.testing.assert_array_equal(vals(x.grad), [2.0])


def test_hook_is_called_once_with_the_summed_gradient():
    x = leaf([1.0])
    y = x * 2
    calls = []
    y.register_hook(lambda g: calls.append(vals(g)))
    (y * 3 + y * 4 + y).sum().backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [8.0])


def test_hook_that_changes_the_gradient_shape_raises():
    # PyTorch: RuntimeError "hook '<lambda>' has changed the size of value"; rt stores the
    # hook's scalar as the leaf's .grad (wrong shape)
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        (x * 2).sum().backward()
    y = leaf([1.0, 2.0])
    h = y * 2
    h.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        (h * 3).sum().backward()


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                           "require gradient"):
        rt.ones(1).register_hook(lambda g: g)


# ---- in-place rules on leaves and the version counter -----------------------------------------

LEAF_INPLACE_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."


@pytest.mark.parametrize("op", [
    lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.sub_(1), lambda t: t.div_(2),
    lambda t: t.copy_(rt.ones(2, dtype=rt.float64)), lambda t: t.__iadd__(1),
    lambda t: t.__setitem__(0, 5.0), lambda t: t.exp_()],
    ids=["add_", "mul_", "sub_", "div_", "copy_", "+=", "setitem", "exp_"])
def test_in_place_on_leaf_that_requires_grad_raises(op):
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=LEAF_INPLACE_ERROR):
        op(x)
    np.testing.assert_array_equal(vals(x), [1.0, 2.0])


def test_in_place_on_view_of_leaf_that_requires_grad_raises():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is "
                                           "being used in an in-place operation."):
        x[0].mul_(2)


def test_in_place_on_leaf_is_allowed_under_no_grad_and_bumps_version():
    x = leaf([1.0, 2.0])
    v = x._version
    with rt.no_grad():
        x.add_(1)
        x.mul_(2)
    assert x._version == v + 2
    assert x.requires_grad and x.is_leaf
    np.testing.assert_array_equal(vals(x), [4.0, 6.0])


def test_in_place_ops_bump_the_version_counter():
    x = rt.ones(3)
    assert x._version == 0
    x.add_(1)
    assert x._version == 1
    x[0] = 5.0
    assert x._version == 2
    v = x[1:]
    v.mul_(2)                       # a view shares its base's counter
    assert x._version == 3 and v._version == 3
    y = x + 1                       # out of place: no bump
    assert x._version == 3 and y._version == 0


def test_in_place_on_non_leaf_rebases_its_history():
    x = leaf([1.0, 2.0])
    y = x * 1
    y.mul_(3)
    assert y.grad_fn.name() == "MulBackward0" and not y.is_leaf
    y.exp_()
    assert y.grad_fn.name() == "ExpBackward0"
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), 3 * np.exp(3 * np.array([1.0, 2.0])))


# ---- Variable, repr, numpy --------------------------------------------------------------------

def test_variable_returns_a_tensor_sharing_memory():
    data = rt.tensor([1.0, 2.0])
    v = rt.autograd.Variable(data, requires_grad=True)
    assert type(v) is rt.Tensor
    assert v.requires_grad and v.is_leaf
    with rt.no_grad():
        v.mul_(2)
    np.testing.assert_array_equal(vals(data), [2.0, 4.0])
    assert rt.Variable is rt.autograd.Variable
    w = rt.Variable(rt.ones(2))
    assert type(w) is rt.Tensor and not w.requires_grad
    (v * 3).sum().backward()
    np.testing.assert_array_equal(vals(v.grad), [3.0, 3.0])
    with pytest.raises(TypeError):
        rt.autograd.Variable([1.0, 2.0])


def test_repr_shows_grad_fn_or_requires_grad():
    x = rt.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert str(x) == repr(x)
    y = x * 2
    assert repr(y) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr(x.detach()) == "tensor([1., 2.])"
    d = rt.tensor([1.0], dtype=rt.float64, requires_grad=True)
    r = repr(d)
    assert r.startswith("tensor([1.], dtype=") and r.endswith("float64, requires_grad=True)")
    assert repr(d + 1).endswith("float64, grad_fn=<AddBackward0>)")


def test_numpy_of_tensor_that_requires_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires "
                                           "grad. Use tensor.detach\\(\\).numpy\\(\\) instead."):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


# ---- pickling and deepcopy --------------------------------------------------------------------

def test_pickle_round_trip_keeps_values_dtype_and_requires_grad():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    (x * 2).sum().backward()
    y = pickle.loads(pickle.dumps(x))
    assert type(y) is rt.Tensor
    assert y.requires_grad and y.is_leaf and y.dtype == rt.float64
    np.testing.assert_array_equal(vals(y), vals(x))
    assert y.grad is None                                   # PyTorch does not pickle .grad
    z = pickle.loads(pickle.dumps(rt.ones(2)))
    assert not z.requires_grad


def test_pickle_non_leaf_gives_a_leaf_that_requires_grad():
    y = leaf([1.0, 2.0]) * 2
    z = pickle.loads(pickle.dumps(y))
    assert z.is_leaf and z.requires_grad and z.grad_fn is None
    np.testing.assert_array_equal(vals(z), [2.0, 4.0])


def test_deepcopy_of_leaf_copies_data_and_grad():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    y = copy.deepcopy(x)
    assert type(y) is rt.Tensor and y.requires_grad and y.is_leaf
    np.testing.assert_array_equal(vals(y), [1.0, 2.0])
    np.testing.assert_array_equal(vals(y.grad), [3.0, 3.0])
    assert y.grad is not x.grad
    with rt.no_grad():
        y.add_(1)
        y.grad.add_(1)
    np.testing.assert_array_equal(vals(x), [1.0, 2.0])      # independent memory
    np.testing.assert_array_equal(vals(x.grad), [3.0, 3.0])
    pair = copy.deepcopy([x, x])
    assert pair[0] is pair[1]                               # memo respected
    nograd = copy.deepcopy(rt.ones(2))
    assert not nograd.requires_grad


def test_deepcopy_of_non_leaf_raises():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user "
                                           "\\(graph leaves\\) support the deepcopy protocol"):
        copy.deepcopy(y)
