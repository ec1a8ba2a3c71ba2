"""tkeras models are ordinary torch modules: torch.compile, torch.export, ONNX export,
optimizers, hooks."""
import io
import warnings

import numpy as np
import pytest
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


# ------------------------------------------------------------------ export: ONNX, torch.export

def _export_models():
    from tkeras import Sequential, layers
    mlp = Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"),
                      layers.Dense(3, activation="softmax")])
    cnn = Sequential([layers.Input((8, 8, 3)), layers.Conv2D(4, 3, padding="same"),
                      layers.BatchNormalization(), layers.Activation("relu"),
                      layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2)])
    cnn.compile("sgd", "mse")  # moving statistics away from their initial values
    cnn.fit(np.random.RandomState(0).standard_normal((16, 8, 8, 3)).astype("float32") * 3 + 1,
            np.zeros((16, 2), "float32"), epochs=2, verbose=0)
    seq = Input((5, 4))
    lstm = Model(seq, layers.Dense(2)(layers.LSTM(3)(seq)))
    return {"mlp": (mlp, (2, 6)), "cnn_bn": (cnn, (2, 8, 8, 3)), "lstm": (lstm, (2, 5, 4))}


EXPORT_MODELS = ["mlp", "cnn_bn", "lstm"]


@pytest.mark.parametrize("name", EXPORT_MODELS)
def test_onnx_exporters_give_the_model_outputs_in_onnxruntime(name):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")  # the dynamo exporter's dependency
    model, shape = _export_models()[name]
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    expected = model(x).detach().numpy()
    legacy = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's TracerWarnings / deprecation notes
        torch.onnx.export(model, (x,), legacy, dynamo=False)
        program = torch.onnx.export(model, (x,), dynamo=True, verbose=False)
    for data in (legacy.getvalue(), program.model_proto.SerializeToString()):
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", EXPORT_MODELS)
def test_torch_export_gives_the_model_outputs(name):
    model, shape = _export_models()[name]
    x = torch.randn(*shape)
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), model(x))


def test_training_and_mask_given_positionally_are_honoured():
    dropout = Dropout(0.5)
    x = torch.ones(4, 100)
    assert torch.equal(dropout(x, False), x)
    assert not torch.equal(dropout(x, True), x)  # layer(x, training) as in Keras 2
    model = _model()
    torch.testing.assert_close(model(x[:, :20], None, None), model(x[:, :20]))


def test_jit_script_says_what_to_use_instead():
    with pytest.raises(TypeError, match=r'torch\.jit\.script cannot compile the tkeras layer '
                                        r'"model.*" \(Functional\).*Use torch\.jit\.trace'):
        torch.jit.script(_model())
