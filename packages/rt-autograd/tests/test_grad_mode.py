"""Grad modes, as PyTorch 2.x: no_grad, enable_grad, set_grad_enabled, inference_mode and
is_grad_enabled, as context managers and as decorators, per thread."""
import concurrent.futures
import threading

import pytest

import rt_autograd as rt


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    assert rt.is_grad_enabled(), "a previous test left grad mode off"
    yield
    enabled = rt.is_grad_enabled()
    rt.autograd.set_grad_enabled(True)
    assert enabled, "the test left grad mode off"


def leaf():
    return rt.ones(2, requires_grad=True)


def records(x=None):
    x = leaf() if x is None else x
    y = x * 2
    return y.requires_grad and y.grad_fn is not None


def test_grad_is_enabled_by_default():
    assert rt.is_grad_enabled() is True
    assert rt.is_inference_mode_enabled() is False
    assert records()


# ---- context managers ----------------------------------------------------------------------

def test_no_grad_context():
    x = leaf()
    with rt.no_grad():
        assert rt.is_grad_enabled() is False
        y = x * 2
        z = x.exp().sum()
    assert rt.is_grad_enabled() is True
    for t in (y, z):
        assert not t.requires_grad and t.grad_fn is None and t.is_leaf
    assert records(x)


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with rt.no_grad():
            raise ValueError("boom")
    assert rt.is_grad_enabled()


def test_factories_inside_no_grad_still_make_leaves_that_require_grad():
    with rt.no_grad():
        w = rt.zeros(3, requires_grad=True)
        v = rt.ones(3).requires_grad_()
    assert w.requires_grad and w.is_leaf and v.requires_grad
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_enable_grad_inside_no_grad():
    x = leaf()
    with rt.no_grad():
        with rt.enable_grad():
            assert rt.is_grad_enabled()
            assert records(x)
        assert not rt.is_grad_enabled()
        assert not records(x)
    assert rt.is_grad_enabled()


def test_nested_no_grad_restores_outer_state():
    with rt.no_grad():
        with rt.no_grad():
            pass
        assert not rt.is_grad_enabled()
    assert rt.is_grad_enabled()


def test_set_grad_enabled_as_function_takes_effect_at_once():
    rt.set_grad_enabled(False)
    try:
        assert not rt.is_grad_enabled()
        assert not records()
    finally:
        rt.set_grad_enabled(True)
    assert rt.is_grad_enabled()


@pytest.mark.parametrize("mode", [True, False])
def test_set_grad_enabled_as_context_manager(mode):
    with rt.no_grad():
        with rt.set_grad_enabled(mode):
            assert rt.is_grad_enabled() is mode
            assert records() is mode
        assert not rt.is_grad_enabled()
    with rt.set_grad_enabled(mode):
        assert rt.is_grad_enabled() is mode
    assert rt.is_grad_enabled()


def test_set_grad_enabled_refuses_non_bool():
    with pytest.raises(TypeError):
        rt.set_grad_enabled(1)
    with pytest.raises(TypeError):
        rt.set_grad_enabled("yes")
    assert rt.is_grad_enabled()


def test_inference_mode_context():
    x = leaf()
    with rt.inference_mode():
        assert not rt.is_grad_enabled()
        assert rt.is_inference_mode_enabled()
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert rt.is_grad_enabled() and not rt.is_inference_mode_enabled()


def test_inference_mode_false_records():
    with rt.inference_mode(False):
        assert rt.is_grad_enabled() and not rt.is_inference_mode_enabled()
        assert records()
    assert rt.is_grad_enabled()


def test_inference_mode_false_enables_grad_like_pytorch():
    # PyTorch 2.13: inference_mode(False) is InferenceMode(false), which enables grad mode
    # inside the block, also within no_grad or inference_mode (and restores it on exit)
    with rt.no_grad():
        with rt.inference_mode(False):
            assert rt.is_grad_enabled()
        assert not rt.is_grad_enabled()
    with rt.inference_mode():
        with rt.inference_mode(False):
            assert rt.is_grad_enabled() and not rt.is_inference_mode_enabled()
        assert rt.is_inference_mode_enabled()


def test_tensors_made_in_inference_mode_are_inference_tensors():
    # PyTorch: t.is_inference() is True for tensors created inside inference_mode, and
    # requires_grad_() on them outside it raises "Setting requires_grad=True on inference
    # tensor outside InferenceMode is not allowed."
    with rt.inference_mode():
        t = rt.ones(2)
    assert t.is_inference()
    assert not rt.ones(2).is_inference()
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor "
                                           "outside InferenceMode is not allowed."):
        t.requires_grad_(True)


def test_grad_mode_objects_are_exported_from_autograd():
    for name in ("no_grad", "enable_grad", "set_grad_enabled", "inference_mode"):
        assert getattr(rt.autograd, name) is getattr(rt, name)


# ---- decorators ------------------------------------------------------------------------------

def test_no_grad_decorator():
    @rt.no_grad()
    def f(t):
        """doc"""
        assert not rt.is_grad_enabled()
        return t * 2

    assert not f(leaf()).requires_grad
    assert rt.is_grad_enabled()
    assert f.__name__ == "f" and f.__doc__ == "doc"


def test_enable_grad_decorator():
    @rt.enable_grad()
    def f(t):
        return t * 2

    with rt.no_grad():
        y = f(leaf())
        assert not rt.is_grad_enabled()
    assert y.requires_grad


@pytest.mark.parametrize("mode", [True, False])
def test_set_grad_enabled_decorator_restores_the_callers_mode(mode):
    # PyTorch: decorating does not switch the mode, and a call restores the mode the caller had
    @rt.set_grad_enabled(mode)
    def f(t):
        return rt.is_grad_enabled(), (t * 2).requires_grad

    assert rt.is_grad_enabled()          # decorating does not switch the mode
    assert f(leaf()) == (mode, mode)
    assert rt.is_grad_enabled()
    with rt.no_grad():
        assert f(leaf()) == (mode, mode)
        assert not rt.is_grad_enabled()


def test_inference_mode_decorator():
    @rt.inference_mode()
    def f(t):
        return rt.is_inference_mode_enabled(), (t * 2).requires_grad

    assert f(leaf()) == (True, False)
    assert not rt.is_inference_mode_enabled()

    @rt.inference_mode(False)
    def g(t):
        return (t * 2).requires_grad

    assert g(leaf())


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
def test_decorator_without_parentheses(name):
    # PyTorch 2.x: @torch.no_grad, @torch.enable_grad and @torch.inference_mode also work
    # without parentheses (_NoParamDecoratorContextManager)
    deco = getattr(rt, name)

    @deco
    def f():
        return rt.is_grad_enabled()

    with rt.no_grad():
        inner = f()
    assert inner is (name == "enable_grad")
    assert f.__name__ == "f"


def test_decorator_restores_mode_after_exception():
    @rt.no_grad()
    def f():
        raise KeyError("x")

    with pytest.raises(KeyError):
        f()
    assert rt.is_grad_enabled()


def test_decorated_method():
    class Model:
        @rt.no_grad()
        def predict(self, t):
            return t * 2

    assert not Model().predict(leaf()).requires_grad


def test_decorated_generator_function_applies_per_step():
    @rt.no_grad()
    def gen():
        for _ in range(3):
            yield rt.is_grad_enabled()

    it = gen()
    assert next(it) is False
    assert rt.is_grad_enabled()                  # between steps the caller's mode holds
    assert list(it) == [False, False]
    assert rt.is_grad_enabled()


def test_decorated_generator_receives_sent_values():
    @rt.no_grad()
    def gen():
        total = 0
        while True:
            v = yield total
            if v is None:
                return total
            total += v

    g = gen()
    assert next(g) == 0
    assert g.send(2) == 2
    assert g.send(3) == 5


def test_same_context_manager_object_reused():
    ng = rt.no_grad()
    with ng:
        assert not rt.is_grad_enabled()
    assert rt.is_grad_enabled()
    with ng:
        assert not rt.is_grad_enabled()
    assert rt.is_grad_enabled()


# ---- thread-local --------------------------------------------------------------------------

def test_new_thread_starts_with_grad_enabled_while_main_is_in_no_grad():
    x = leaf()
    result = {}

    def worker():
        result["enabled"] = rt.is_grad_enabled()
        result["records"] = records(x)
        result["inference"] = rt.is_inference_mode_enabled()

    with rt.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not rt.is_grad_enabled()
    assert result == {"enabled": True, "records": True, "inference": False}


def test_no_grad_in_a_thread_does_not_leak_into_main():
    entered = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with rt.no_grad():
            seen["worker"] = rt.is_grad_enabled()
            entered.set()
            release.wait(10)
        seen["worker_after"] = rt.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    assert entered.wait(10)
    try:
        assert rt.is_grad_enabled()              # main thread unaffected while worker is inside
        assert records()
    finally:
        release.set()
        t.join()
    assert seen == {"worker": False, "worker_after": True}


def test_inference_mode_is_thread_local():
    with rt.inference_mode():
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            flags = list(ex.map(lambda _: (rt.is_grad_enabled(),
                                           rt.is_inference_mode_enabled()), range(4)))
    assert flags == [(True, False)] * 4


def test_backward_in_threads_with_mixed_modes():
    def work(i):
        x = rt.tensor([float(i)], requires_grad=True)
        if i % 2:
            with rt.no_grad():
                y = x * 3
            return y.requires_grad, None
        y = (x * x).sum()
        y.backward()
        return y.requires_grad, x.grad.item()

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        res = list(ex.map(work, range(16)))
    for i, (rg, g) in enumerate(res):
        if i % 2:
            assert rg is False
        else:
            assert rg is True and g == 2.0 * i
