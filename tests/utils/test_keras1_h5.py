"""Keras 1.x ``.h5`` model files load as Keras 2 loaded them (files built here from Keras 1.2's
documented layout: root ``keras_version`` / ``backend`` / ``model_config``, a ``model_weights``
group with ``layer_names`` and per-layer ``weight_names`` such as ``dense_1_W``)."""
import json

import h5py
import numpy as np
import pytest

import tkeras
from tkeras.utils import TkerasDeprecationWarning


def _write_keras1_file(path, model_config, layers, backend="tensorflow", version="1.2.2"):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version.encode("utf8")
        f.attrs["backend"] = backend.encode("utf8")
        f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode("utf8") for name, _ in layers]
        for name, weights in layers:
            g = group.create_group(name)
            g.attrs["weight_names"] = [w.encode("utf8") for w, _ in weights]
            for weight_name, value in weights:
                g.create_dataset(weight_name, data=value)


def _hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0, 1)


def test_keras1_lstm_and_dense_sequential(tmp_path):
    rng = np.random.RandomState(0)
    gates = {g: (rng.rand(3, 4) - 0.5, rng.rand(4, 4) - 0.5, rng.rand(4) - 0.5) for g in "icfo"}
    dense_w, dense_b = rng.rand(4, 2) - 0.5, rng.rand(2) - 0.5
    config = {"class_name": "Sequential", "config": [
        {"class_name": "LSTM", "config": {
            "name": "lstm_1", "trainable": True, "batch_input_shape": [None, 5, 3],
            "input_dtype": "float32", "return_sequences": False, "go_backwards": False,
            "stateful": False, "unroll": False, "consume_less": "cpu", "input_dim": 3,
            "input_length": 5, "output_dim": 4, "init": "glorot_uniform",
            "inner_init": "orthogonal", "forget_bias_init": "one", "activation": "tanh",
            "inner_activation": "hard_sigmoid", "W_regularizer": None, "U_regularizer": None,
            "b_regularizer": None, "dropout_W": 0.0, "dropout_U": 0.0}},
        {"class_name": "Dense", "config": {
            "name": "dense_1", "trainable": True, "output_dim": 2, "init": "glorot_uniform",
            "activation": "linear", "W_regularizer": None, "b_regularizer": None,
            "activity_regularizer": None, "W_constraint": None, "b_constraint": None,
            "bias": True, "input_dim": 4}}]}
    lstm_weights = []
    for g in "icfo":  # Keras 1.2's LSTM order: W_i, U_i, b_i, W_c, U_c, b_c, W_f, ...
        for part, value in zip("WUb", gates[g]):
            lstm_weights.append((f"lstm_1_{part}_{g}", value.astype("float32")))
    path = tmp_path / "keras1.h5"
    _write_keras1_file(path, config, [
        ("lstm_1", lstm_weights),
        ("dense_1", [("dense_1_W", dense_w.astype("float32")), ("dense_1_b", dense_b.astype("float32"))]),
    ])
    with pytest.warns(TkerasDeprecationWarning) as record:
        model = tkeras.models.load_model(str(path), compile=False)
    messages = " ".join(str(w.message) for w in record)
    assert "Update your `LSTM` call to the Keras 2 API" in messages
    assert "Update your `Dense` call to the Keras 2 API" in messages
    lstm = model.layers[0]
    assert lstm.units == 4 and lstm.unit_forget_bias is True and model.input_shape == (None, 5, 3)

    x = rng.rand(2, 5, 3).astype("float32")
    h = np.zeros((2, 4))
    c = np.zeros((2, 4))
    for t in range(5):
        def pre(g):
            W, U, b = gates[g]
            return x[:, t] @ W + h @ U + b
        i, f, o = _hard_sigmoid(pre("i")), _hard_sigmoid(pre("f")), _hard_sigmoid(pre("o"))
        c = f * c + i * np.tanh(pre("c"))
        h = o * np.tanh(c)
    np.testing.assert_allclose(model.predict(x, verbose=0), h @ dense_w + dense_b, rtol=1e-4,
                               atol=1e-6)


def test_keras1_theano_channels_first_convolution(tmp_path):
    rng = np.random.RandomState(1)
    kernel_th = (rng.rand(2, 3, 2, 3) - 0.5).astype("float32")  # (nb_filter, stack, rows, cols)
    bias = (rng.rand(2) - 0.5).astype("float32")
    config = {"class_name": "Sequential", "config": [
        {"class_name": "Convolution2D", "config": {
            "name": "convolution2d_1", "trainable": True, "batch_input_shape": [None, 3, 5, 6],
            "input_dtype": "float32", "nb_filter": 2, "nb_row": 2, "nb_col": 3,
            "init": "glorot_uniform", "activation": "linear", "border_mode": "valid",
            "subsample": [1, 1], "dim_ordering": "th", "W_regularizer": None,
            "b_regularizer": None, "activity_regularizer": None, "W_constraint": None,
            "b_constraint": None, "bias": True}}]}
    path = tmp_path / "keras1_theano.h5"
    _write_keras1_file(path, config, [("convolution2d_1", [
        ("convolution2d_1_W", kernel_th), ("convolution2d_1_b", bias)])], backend="theano")
    with pytest.warns(TkerasDeprecationWarning, match="Update your `Conv2D` call"):
        model = tkeras.models.load_model(str(path), compile=False)
    conv = model.layers[0]
    assert conv.data_format == "channels_first" and conv.kernel_size == (2, 3)
    x = rng.rand(1, 3, 5, 6).astype("float32")
    # Theano's true convolution: the kernel is flipped over the window.
    want = np.zeros((1, 2, 4, 4), "float32")
    for f in range(2):
        for i in range(4):
            for j in range(4):
                window = x[0, :, i:i + 2, j:j + 3]
                want[0, f, i, j] = np.sum(window * kernel_th[f, :, ::-1, ::-1]) + bias[f]
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-4, atol=1e-6)


def test_keras1_merge_layer_is_a_clear_error(tmp_path):
    config = {"class_name": "Sequential", "config": [
        {"class_name": "Merge", "config": {"name": "merge_1", "mode": "sum"}}]}
    path = tmp_path / "merge.h5"
    _write_keras1_file(path, config, [])
    with pytest.raises(ValueError, match="Keras 1's `Merge` layer, which Keras 2 removed"):
        tkeras.models.load_model(str(path), compile=False)


def test_keras2_files_are_untouched(tmp_path):
    model = tkeras.Sequential([tkeras.layers.Conv2D(2, (2, 3), input_shape=(5, 6, 3))])
    path = str(tmp_path / "k2.h5")
    model.save(path)
    again = tkeras.models.load_model(path, compile=False)
    for got, want in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
