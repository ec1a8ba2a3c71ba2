"""Keras objects applied to symbolic tensors record graph nodes, as the K functions do: loss
objects, activation functions, tensor constants in a graph, and ``K.shape`` (a symbolic
int32 tensor, as Keras 2's ``tf.shape``) with the VAE sampling pattern built on it.

Expected values come from the documented formulas written in numpy.
"""
import numpy as np
import pytest
import torch

import tkeras
from tkeras import Input, Model, activations, layers, losses
from tkeras import backend as K
from tkeras.engine.keras_tensor import KerasTensor

RNG = np.random.RandomState(3)
Y_TRUE = RNG.rand(4, 3).astype("float32")
Y_PRED = RNG.rand(4, 3).astype("float32")


def _round_trip(model, tmp_path, ext):
    path = str(tmp_path / f"model.{ext}")
    model.save(path)
    return tkeras.models.load_model(path, compile=False)


# ------------------------------------------------------------------ loss objects

def test_loss_object_on_symbolic_tensors_records_a_node():
    y_true, y_pred = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3))
    loss = losses.MeanSquaredError()(y_true, y_pred)
    assert isinstance(loss, KerasTensor) and loss.shape == ()
    value = K.function([y_true, y_pred], [loss])([Y_TRUE, Y_PRED])[0]
    # sum over batch size of the per-sample means of squared errors
    np.testing.assert_allclose(value, np.mean(np.mean((Y_TRUE - Y_PRED) ** 2, axis=-1)),
                               rtol=1e-6)


def test_loss_object_with_sample_weight_and_reduction_none():
    y_true, y_pred = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3))
    weights = K.placeholder(shape=(None,))
    loss = losses.MeanAbsoluteError(reduction="none")(y_true, y_pred, sample_weight=weights)
    assert loss.shape == (None,)
    w = np.array([1.0, 0.0, 2.0, 0.5], "float32")
    value = K.function([y_true, y_pred, weights], [loss])([Y_TRUE, Y_PRED, w])[0]
    np.testing.assert_allclose(value, np.mean(np.abs(Y_TRUE - Y_PRED), axis=-1) * w, rtol=1e-6)


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_model_with_a_loss_object_node_saves_its_config(tmp_path, ext):
    a, b = Input(shape=(3,)), Input(shape=(3,))
    model = Model([a, b], losses.Huber(delta=0.25, reduction="none")(a, b))
    loaded = _round_trip(model, tmp_path, ext)
    err = np.abs(Y_TRUE - Y_PRED)
    huber = np.where(err <= 0.25, 0.5 * err ** 2, 0.25 * err - 0.5 * 0.25 ** 2)  # delta = 0.25
    np.testing.assert_allclose(loaded.predict([Y_TRUE, Y_PRED], verbose=0),
                               np.mean(huber, axis=-1), rtol=1e-5)


# ------------------------------------------------------------------ activations

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("name, kwargs, reference", [
    ("relu", {}, lambda x: np.maximum(x, 0)),
    ("relu", {"alpha": 0.1}, lambda x: np.where(x > 0, x, 0.1 * x)),
    ("sigmoid", {}, _sigmoid),
    ("elu", {}, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("swish", {}, lambda x: x * _sigmoid(x)),
    ("softmax", {}, lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
])
def test_activation_on_symbolic_tensor_records_a_node(name, kwargs, reference):
    x = K.placeholder(shape=(None, 3))
    y = getattr(activations, name)(x, **kwargs)
    assert isinstance(y, KerasTensor) and y.shape == (None, 3)
    data = Y_TRUE - 0.5
    np.testing.assert_allclose(K.function([x], [y])([data])[0], reference(data), rtol=1e-5,
                               atol=1e-7)


def test_activation_node_saves_by_name_and_layers_keep_their_fast_form(tmp_path):
    x = Input(shape=(3,))
    model = Model(x, activations.tanh(x))
    names = [layer.get_config().get("function") for layer in model.layers[1:]]
    assert names == ["activations.tanh"]
    loaded = _round_trip(model, tmp_path, "keras")
    np.testing.assert_allclose(loaded.predict(Y_TRUE, verbose=0), np.tanh(Y_TRUE), rtol=1e-6)
    assert activations.tensor_form(activations.get("tanh")) is torch.tanh
    assert activations.serialize(activations.get("sigmoid")) == "sigmoid"


# ------------------------------------------------------------------ constants

@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_graph_with_tensor_and_array_constants_saves_and_loads(tmp_path, ext):
    x = Input(shape=(3,))
    y = x * torch.tensor([1.0, 2.0, 3.0]) + np.array([0.5, 0.25, 0.0], "float32")
    z = K.sum(y * torch.tensor(2.0), axis=-1)
    model = Model(x, [y, z])
    loaded = _round_trip(model, tmp_path, ext)
    expected_y = Y_TRUE * np.array([1.0, 2.0, 3.0]) + np.array([0.5, 0.25, 0.0])
    got_y, got_z = loaded.predict(Y_TRUE, verbose=0)
    np.testing.assert_allclose(got_y, expected_y, rtol=1e-6)
    np.testing.assert_allclose(got_z, (2 * expected_y).sum(-1), rtol=1e-6)
    assert got_y.dtype == np.float32


# ------------------------------------------------------------------ K.shape

def test_shape_of_symbolic_tensor_is_a_symbolic_int32_tensor():
    x = K.placeholder(shape=(None, 4))
    s = K.shape(x)
    assert isinstance(s, KerasTensor) and s.shape == (2,) and s.dtype == "int32"
    batch = K.shape(x)[0]
    assert batch.shape == ()
    f = K.function([x], [s, batch, K.cast(K.shape(x)[1:], "float32") * 2.0])
    shape, n, doubled = f([np.zeros((5, 4), "float32")])
    np.testing.assert_array_equal(shape, np.array([5, 4], "int32"))
    assert shape.dtype == np.int32 and int(n) == 5
    np.testing.assert_allclose(doubled, [8.0])
    assert K.shape(torch.zeros(2, 3)) == torch.Size([2, 3])  # eager: the torch.Size


def _vae_encoder(latent_dim):
    x = Input(shape=(4,))
    z_mean = layers.Dense(latent_dim, kernel_initializer="zeros", bias_initializer="ones")(x)
    z_log_var = layers.Dense(latent_dim, kernel_initializer="zeros")(x)  # log var 0: std 1
    return x, z_mean, z_log_var


def _check_samples(z, latent_dim):
    # z = mean + exp(0.5 * log_var) * N(0, 1) with mean 1 and log_var 0: N(1, 1) draws
    assert z.shape == (2000, latent_dim)
    assert abs(z.mean() - 1.0) < 0.1 and abs(z.std() - 1.0) < 0.1
    assert len(np.unique(z[:, 0])) == 2000


def test_vae_sampling_on_symbolic_tensors():
    tkeras.utils.set_random_seed(1)
    latent_dim = 2
    x, z_mean, z_log_var = _vae_encoder(latent_dim)
    epsilon = K.random_normal(shape=(K.shape(z_mean)[0], latent_dim))
    assert epsilon.shape == (None, latent_dim)
    z = z_mean + K.exp(0.5 * z_log_var) * epsilon
    assert z.shape == (None, latent_dim)
    _check_samples(Model(x, z).predict(np.ones((2000, 4), "float32"), verbose=0), latent_dim)


def test_vae_sampling_lambda_layer_and_saved_graph(tmp_path):
    tkeras.utils.set_random_seed(2)
    latent_dim = 2
    x, z_mean, z_log_var = _vae_encoder(latent_dim)

    def sampling(args):
        z_mean, z_log_var = args
        batch = K.shape(z_mean)[0]
        epsilon = K.random_normal(shape=(batch, latent_dim))
        return z_mean + K.exp(0.5 * z_log_var) * epsilon

    z = layers.Lambda(sampling, output_shape=(latent_dim,))([z_mean, z_log_var])
    assert z.shape == (None, latent_dim)
    data = np.ones((2000, 4), "float32")
    _check_samples(Model(x, z).predict(data, verbose=0), latent_dim)
    # the same sampling built on symbolic tensors saves without code and loads
    z_graph = z_mean + K.exp(0.5 * z_log_var) * K.random_normal((K.shape(z_mean)[0], latent_dim))
    loaded = _round_trip(Model(x, z_graph), tmp_path, "keras")
    _check_samples(loaded.predict(data, verbose=0), latent_dim)


def test_model_with_op_nodes_copies_and_pickles_and_each_copy_runs_its_own_layers():
    import copy
    import pickle

    inp = Input(shape=(4,))
    h = layers.Dense(3, name="d")(inp)
    out = K.concatenate([h * 2.0 + 1.0, K.mean(h, axis=1, keepdims=True)], axis=-1)
    model = Model(inp, out)
    x = np.random.RandomState(0).rand(2, 4).astype("float32")
    expected = model.predict(x, verbose=0)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_allclose(clone.predict(x, verbose=0), expected, rtol=1e-6)
        # the clone's steps call the clone's layers, not the original's
        clone.get_layer("d").set_weights([np.zeros((4, 3), "float32"), np.ones(3, "float32")])
        np.testing.assert_allclose(clone.predict(x, verbose=0),
                                   np.tile([3.0, 3.0, 3.0, 1.0], (2, 1)), rtol=1e-6)
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
