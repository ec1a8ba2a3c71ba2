"""tkeras models are ordinary torch modules: torch.compile, torch.export, optimizers."""
import torch

from tkeras.layers import Dense, Dropout, Input
from tkeras.models import Model


def _model():
    x = Input(shape=(20,))
    y = Dense(4)(Dropout(0.2)(Dense(16, activation="relu")(x)))
    return Model(x, y)


def test_torch_compile_and_export_give_the_same_outputs():
    model = _model()
    x = torch.randn(3, 20)
    expected = model(x)
    torch.testing.assert_close(torch.compile(model)(x), expected)
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), expected)


def test_plain_torch_training_loop_updates_weights():
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 20), torch.randn(8, 4)
    before = [w.detach().clone() for w in model.trainable_weights]
    model.train()  # torch's mode: Dropout active
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    assert all(not torch.equal(b, w) for b, w in zip(before, model.trainable_weights))


def test_module_and_global_hooks_fire_on_layers_inside_a_model():
    model = _model()
    dense = model.layers[1]
    seen = []
    handles = [
        dense.register_forward_pre_hook(lambda m, args: seen.append("pre")),
        dense.register_forward_hook(lambda m, args, out: seen.append(("post", tuple(out.shape)))),
        torch.nn.modules.module.register_module_forward_hook(
            lambda m, args, out: seen.append(type(m).__name__) if m is dense else None),
        dense.register_full_backward_hook(lambda m, gin, gout: seen.append("backward")),
    ]
    model(torch.randn(3, 20)).sum().backward()
    for h in handles:
        h.remove()
    assert seen == ["pre", "Dense", ("post", (3, 16)), "backward"]  # global hooks run first
    seen.clear()
    model(torch.randn(3, 20))
    assert seen == []  # removed hooks no longer run


def test_hook_can_replace_a_layer_output():
    model = _model()
    model.layers[-1].register_forward_hook(lambda m, args, out: torch.zeros_like(out))
    assert torch.count_nonzero(model(torch.randn(2, 20))) == 0


def test_jit_trace_and_module_compile_give_the_same_outputs():
    model = _model()
    model.eval()
    x = torch.randn(3, 20)
    expected = model(x)
    traced = torch.jit.trace(model, (x,))
    torch.testing.assert_close(traced(x), expected)
    model.compile()  # nn.Module.compile: the module's own __call__ goes through dynamo
    torch.testing.assert_close(model(x), expected)


def test_parametrized_kernel_is_used_by_dense():
    dense = Dense(3)
    x = torch.randn(4, 5)
    dense(x)
    torch.nn.utils.parametrize.register_parametrization(
        dense, "kernel", _Doubled())
    torch.testing.assert_close(dense(x), x @ (2 * dense.parametrizations.kernel.original) + dense.bias)


class _Doubled(torch.nn.Module):
    def forward(self, w):
        return 2 * w
