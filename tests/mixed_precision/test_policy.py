"""tkeras.mixed_precision policies, as tf-keras 2.x: names, dtypes, the global policy,
layers honouring ``dtype=`` policies (float32 weights, 16-bit computation), configs, and a
bfloat16 toy problem that converges on CPU; set_floatx("bfloat16") through fit & co."""
import os

import numpy as np
import pytest
import torch

import tkeras
from tkeras import backend as K
from tkeras import layers, mixed_precision
from tkeras.mixed_precision import Policy
from tkeras.models import Sequential, load_model


@pytest.fixture(autouse=True)
def _restore_global_state():
    yield
    mixed_precision.set_global_policy(None)
    K.set_floatx("float32")


@pytest.mark.parametrize("name,compute,variable", [
    ("float32", "float32", "float32"), ("mixed_float16", "float16", "float32"),
    ("mixed_bfloat16", "bfloat16", "float32"), ("float16", "float16", "float16"),
    ("bfloat16", "bfloat16", "bfloat16"), ("float64", "float64", "float64")])
def test_policy_dtypes(name, compute, variable):
    policy = Policy(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
    assert repr(policy) == f'<Policy "{name}">'
    assert Policy.from_config(policy.get_config()) == policy


def test_policy_errors_are_tf_keras_s():
    with pytest.raises(ValueError, match=r"^Cannot convert value mixed_int8 to a mixed precision "
                                         r"Policy\. Valid policies include 'mixed_float16', "
                                         r"'mixed_bfloat16', and the name of any dtype such as "
                                         r"'float32'\.$"):
        Policy("mixed_int8")
    with pytest.raises(TypeError, match=r"'name' must be a string, but got: 3"):
        Policy(3)
    with pytest.raises(ValueError, match=r"set_global_policy can only be used to set the global "
                                         r"policy to floating-point policies.*got policy: int32"):
        mixed_precision.set_global_policy("int32")


def test_global_policy_follows_floatx_until_set_and_drives_new_layers():
    assert mixed_precision.global_policy() == Policy("float32")
    K.set_floatx("float64")
    assert mixed_precision.global_policy() == Policy("float64")
    K.set_floatx("float32")
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert repr(mixed_precision.global_policy()) == '<Policy "mixed_bfloat16">'
    assert layers.Dense(2).dtype_policy == Policy("mixed_bfloat16")
    assert layers.Dense(2, dtype="float64").dtype_policy == Policy("float64")
    with mixed_precision.policy_scope("float16"):
        assert layers.Dense(2).compute_dtype == "float16"
    assert layers.Dense(2).compute_dtype == "bfloat16"
    mixed_precision.set_global_policy(None)
    assert layers.Dense(2).dtype_policy == Policy("float32")


def test_keras_2_3_experimental_names():
    from tkeras.mixed_precision import experimental
    experimental.set_policy("mixed_float16")
    assert experimental.global_policy() == experimental.Policy("mixed_float16")
    assert experimental.LossScaleOptimizer is mixed_precision.LossScaleOptimizer


def test_mixed_layer_keeps_float32_weights_and_computes_in_bfloat16():
    dense = layers.Dense(3, dtype="mixed_bfloat16")
    x = torch.randn(4, 5)
    out = dense(x)
    assert (dense.dtype, dense.variable_dtype, dense.compute_dtype) == (
        "float32", "float32", "bfloat16")
    assert out.dtype == torch.bfloat16
    assert dense.kernel.dtype == torch.float32 and dense.kernel is dense.weights[0]
    expected = x.bfloat16() @ dense.kernel.detach().bfloat16() + dense.bias.detach().bfloat16()
    torch.testing.assert_close(out, expected)
    out.float().sum().backward()
    assert dense.kernel.grad.dtype == torch.float32  # gradients reach the float32 weights
    sym = layers.Dense(3, dtype="mixed_bfloat16")(layers.Input((5,)))
    assert sym.dtype == "bfloat16"


def test_policy_in_layer_config_as_tf_keras_writes_it(tmp_path):
    dense = layers.Dense(2, dtype="mixed_float16")
    assert dense.get_config()["dtype"] == {
        "module": "keras.mixed_precision", "class_name": "Policy",
        "config": {"name": "mixed_float16"}, "registered_name": None}
    assert layers.Dense(2, dtype="float64").get_config()["dtype"] == "float64"
    clone = layers.Dense.from_config(dense.get_config())
    assert clone.dtype_policy == Policy("mixed_float16")
    model = Sequential([layers.Input((3,)), layers.Dense(4, dtype="mixed_bfloat16"),
                        layers.Activation("softmax", dtype="float32")])
    x = np.random.RandomState(0).standard_normal((2, 3)).astype("float32")
    for name in ("m.h5", "m.keras"):
        model.save(os.path.join(tmp_path, name))
        loaded = load_model(os.path.join(tmp_path, name))
        assert loaded.layers[0].dtype_policy == Policy("mixed_bfloat16")
        assert loaded.layers[0].kernel.dtype == torch.float32
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_normalization_layers_compute_in_float32_under_mixed_policies():
    bn = layers.BatchNormalization(dtype="mixed_bfloat16")
    ln = layers.LayerNormalization(dtype="mixed_bfloat16")
    x = torch.randn(8, 4) * 3 + 1
    for layer in (bn, ln):
        out = layer(x, training=True) if layer is bn else layer(x)
        assert out.dtype == torch.bfloat16
        assert all(w.dtype == torch.float32 for w in layer.weights)
    assert not torch.equal(bn.moving_mean, torch.zeros(4))
    expected = torch.nn.functional.layer_norm(x.bfloat16().float(), (4,), eps=1e-3)
    torch.testing.assert_close(ln(x).float(), expected.bfloat16().float())


def test_bfloat16_toy_problem_converges_with_float32_weights():
    tkeras.utils.set_random_seed(0)
    mixed_precision.set_global_policy("mixed_bfloat16")
    rng = np.random.RandomState(0)
    x = rng.standard_normal((512, 8)).astype("float32")
    y = (x[:, :4].sum(axis=1) > x[:, 4:].sum(axis=1)).astype("int64")
    model = Sequential([layers.Input((8,)), layers.Dense(32, activation="relu"),
                        layers.Dense(2), layers.Activation("softmax", dtype="float32")])
    assert model.layers[0].compute_dtype == "bfloat16"
    activations = model.layers[0](torch.as_tensor(x[:4]))
    assert activations.dtype == torch.bfloat16
    assert model(torch.as_tensor(x[:4])).dtype == torch.float32  # the float32 output layer
    model.compile(tkeras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert all(w.dtype == torch.float32 for w in model.weights)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    assert model.predict(x[:3], verbose=0).dtype == np.float32


def test_floatx_bfloat16_runs_fit_predict_evaluate_and_the_batch_methods():
    K.set_floatx("bfloat16")
    model = Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                        layers.Dense(2, activation="softmax")])
    assert model.layers[0].kernel.dtype == torch.bfloat16
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.RandomState(0)
    x, y = rng.rand(32, 4).astype("float32"), rng.randint(0, 2, 32)
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for out in (model.predict(x, verbose=0), model.predict_on_batch(x)):
        assert out.dtype == np.float32 and out.shape == (32, 2)  # numpy has no bfloat16
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=2e-2)
    for logs in (model.evaluate(x, y, verbose=0), model.train_on_batch(x, y),
                 model.test_on_batch(x, y)):
        assert len(logs) == 2 and all(isinstance(v, float) for v in logs)
    assert [w.dtype for w in model.get_weights()] == [np.float32] * 4
    assert K.get_value(model.layers[0].kernel).dtype == np.float32


def test_mixed_layers_survive_copies_and_follow_dtype_conversions():
    import copy
    import pickle
    dense = layers.Dense(3, dtype="mixed_bfloat16")
    x = torch.randn(2, 4)
    expected = dense(x)
    for clone in (copy.deepcopy(dense), pickle.loads(pickle.dumps(dense))):
        out = clone(x)
        assert out.dtype == torch.bfloat16 and clone.kernel.dtype == torch.float32
        torch.testing.assert_close(out, expected)
    dense.double()  # the weights' dtype is now the whole policy
    assert dense.dtype_policy == Policy("float64")
    assert dense(x).dtype == torch.float64


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
def test_stateful_recurrent_layers_keep_their_states_in_the_compute_dtype(cls):
    layer = cls(3, stateful=True, dtype="mixed_bfloat16")
    x = torch.randn(2, 4, 5)
    first = layer(x)
    second = layer(x)  # starts from the first call's final state
    assert first.dtype == second.dtype == torch.bfloat16
    assert all(s.dtype == torch.bfloat16 for s in layer.states)
    assert not torch.equal(first, second)
