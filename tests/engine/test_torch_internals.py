"""The torch internals that ``engine/torch_internals.py`` reads still mean what it relies on.

A layer calls ``forward`` directly when ``runs_plain_forward`` says torch's ``__call__``
would do nothing more; if a torch release renamed a hook dict, or moved where
``module.compile()`` or ``torch.jit.trace`` leave their state, these tests fail (rather
than hooks, compiled modules or traces silently being skipped).
"""
import pytest
import torch
from torch.nn.modules import module as torch_module

from tkeras.engine.torch_internals import runs_plain_forward
from tkeras.layers import Dense

GLOBAL_HOOK_DICTS = ("_global_forward_hooks", "_global_forward_pre_hooks",
                     "_global_backward_hooks", "_global_backward_pre_hooks")
MODULE_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")


def _layer():
    layer = Dense(2)
    layer(torch.ones(1, 3))
    return layer


def test_the_attributes_read_exist():
    for name in GLOBAL_HOOK_DICTS:
        assert isinstance(getattr(torch_module, name), dict), name
    d = _layer().__dict__
    for name in MODULE_HOOK_DICTS:
        assert isinstance(d[name], dict), name
    assert torch.nn.Module._compiled_call_impl is None
    assert torch._C._get_tracing_state() is None


def test_a_plain_layer_runs_forward_directly():
    assert runs_plain_forward(_layer().__dict__)


@pytest.mark.parametrize("register", [
    lambda m: m.register_forward_hook(lambda mod, args, out: None),
    lambda m: m.register_forward_pre_hook(lambda mod, args: None),
    lambda m: m.register_full_backward_hook(lambda mod, gin, gout: None),
    lambda m: m.register_full_backward_pre_hook(lambda mod, gout: None),
], ids=["forward", "forward_pre", "full_backward", "full_backward_pre"])
def test_a_hook_of_the_module_is_seen(register):
    layer = _layer()
    handle = register(layer)
    assert not runs_plain_forward(layer.__dict__)
    handle.remove()
    assert runs_plain_forward(layer.__dict__)


@pytest.mark.parametrize("register", [
    lambda: torch_module.register_module_forward_hook(lambda mod, args, out: None),
    lambda: torch_module.register_module_forward_pre_hook(lambda mod, args: None),
    lambda: torch_module.register_module_full_backward_hook(lambda mod, gin, gout: None),
    lambda: torch_module.register_module_full_backward_pre_hook(lambda mod, gout: None),
], ids=["forward", "forward_pre", "full_backward", "full_backward_pre"])
def test_a_global_hook_is_seen(register):
    layer = _layer()
    handle = register()
    try:
        assert not runs_plain_forward(layer.__dict__)
    finally:
        handle.remove()
    assert runs_plain_forward(layer.__dict__)


def test_module_compile_is_seen():
    layer = _layer()
    layer.compile()  # lazy: nothing is compiled until the module is called
    assert not runs_plain_forward(layer.__dict__)


def test_jit_tracing_is_seen():
    layer = _layer()
    seen = []

    def fn(x):
        seen.append(runs_plain_forward(layer.__dict__))
        return x * 2

    torch.jit.trace(fn, (torch.ones(2),), check_trace=False)  # one run, under tracing
    assert seen == [False]
    assert runs_plain_forward(layer.__dict__)  # the tracing state ends with the trace
