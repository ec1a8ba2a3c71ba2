"""Files as Keras 2.0 - 2.2.4 wrote them, made here with h5py: fixed-length byte-string
attributes, ``Model`` as the class name, Keras 2.2 layer configs (GRU with
reset_after=False and hard_sigmoid), ``lr`` in the optimizer config and the optimizer
variables of that era (iterations, then m, v and one-element vhat slots). Expected outputs
are computed with numpy from the stored weights."""
import json

import h5py
import numpy as np
import pytest
from saving_test_utils import predict

from tkeras.layers import GRU, Dense
from tkeras.models import Sequential, load_model

RNG = np.random.RandomState(7)
GLOROT = {"class_name": "VarianceScaling",
          "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}
ZEROS = {"class_name": "Zeros", "config": {}}
ORTHOGONAL = {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}}


def _bytes_list(values):
    """A string list as Keras 2.2 / h5py 2 stored it: a fixed-length byte-string array."""
    if not values:
        return np.array([], dtype=np.float64)
    return np.array([v.encode("utf8") for v in values])


def _dense_config(name, units, activation, input_shape=None):
    config = {"name": name, "trainable": True, "units": units, "activation": activation,
              "use_bias": True, "kernel_initializer": GLOROT, "bias_initializer": ZEROS,
              "kernel_regularizer": None, "bias_regularizer": None,
              "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    if input_shape is not None:
        config["batch_input_shape"] = [None] + list(input_shape)
        config["dtype"] = "float32"
    return config


def _gru_config(name, units, input_shape):
    return {"name": name, "trainable": True, "batch_input_shape": [None] + list(input_shape),
            "dtype": "float32", "return_sequences": False, "return_state": False,
            "go_backwards": False, "stateful": False, "unroll": False, "units": units,
            "activation": "tanh", "recurrent_activation": "hard_sigmoid", "use_bias": True,
            "kernel_initializer": GLOROT, "recurrent_initializer": ORTHOGONAL,
            "bias_initializer": ZEROS, "kernel_regularizer": None,
            "recurrent_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
            "recurrent_dropout": 0.0, "implementation": 1, "reset_after": False}


def _write_weights(group, layers):
    """layers: [(layer name, [(weight name, array), ...]), ...] in model.layers order."""
    group.attrs["layer_names"] = _bytes_list([name for name, _ in layers])
    group.attrs["backend"] = np.bytes_(b"tensorflow")
    group.attrs["keras_version"] = np.bytes_(b"2.2.4")
    for name, weights in layers:
        g = group.create_group(name)
        g.attrs["weight_names"] = _bytes_list([w for w, _ in weights])
        for weight_name, value in weights:
            g.create_dataset(weight_name, data=value)


def _write_model_file(path, model_config, layers, training_config=None, optimizer=None):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_(b"2.2.4")
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["model_config"] = np.bytes_(json.dumps(model_config).encode("utf8"))
        if training_config is not None:
            f.attrs["training_config"] = np.bytes_(json.dumps(training_config).encode("utf8"))
        _write_weights(f.create_group("model_weights"), layers)
        if optimizer is not None:
            g = f.create_group("optimizer_weights")
            g.attrs["weight_names"] = _bytes_list([n for n, _ in optimizer])
            for name, value in optimizer:
                g.create_dataset(name, data=value)


def _relu(x):
    return np.maximum(x, 0)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _gru_reset_before(x, kernel, recurrent, bias):
    """Keras 2.2 GRU (reset_after=False), gates z, r, h; recurrent activation hard_sigmoid."""
    units = recurrent.shape[0]
    h = np.zeros((x.shape[0], units), dtype=np.float64)
    wz, wr, wh = np.split(kernel, 3, axis=1)
    uz, ur, uh = np.split(recurrent, 3, axis=1)
    bz, br, bh = np.split(bias, 3)
    for t in range(x.shape[1]):
        xt = x[:, t]
        z = _hard_sigmoid(xt @ wz + bz + h @ uz)
        r = _hard_sigmoid(xt @ wr + br + h @ ur)
        candidate = np.tanh(xt @ wh + bh + (r * h) @ uh)
        h = z * h + (1 - z) * candidate
    return h


def _f32(*shape):
    return RNG.uniform(-0.8, 0.8, size=shape).astype(np.float32)


# ------------------------------------------------------------------ a functional "Model"

DENSE = {"dense_1": (_f32(4, 3), _f32(3)), "dense_2": (_f32(3, 2), _f32(2))}


def _functional_config():
    return {"class_name": "Model", "config": {
        "name": "model_1",
        "layers": [
            {"name": "input_1", "class_name": "InputLayer",
             "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False,
                        "name": "input_1"}, "inbound_nodes": []},
            {"name": "dense_1", "class_name": "Dense",
             "config": _dense_config("dense_1", 3, "relu"),
             "inbound_nodes": [[["input_1", 0, 0, {}]]]},
            {"name": "dense_2", "class_name": "Dense",
             "config": _dense_config("dense_2", 2, "softmax"),
             "inbound_nodes": [[["dense_1", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]],
        "output_layers": [["dense_2", 0, 0]]}}


def _functional_layers():
    return [("input_1", []),
            ("dense_1", [("dense_1/kernel:0", DENSE["dense_1"][0]),
                         ("dense_1/bias:0", DENSE["dense_1"][1])]),
            ("dense_2", [("dense_2/kernel:0", DENSE["dense_2"][0]),
                         ("dense_2/bias:0", DENSE["dense_2"][1])])]


TRAINING_CONFIG = {
    "optimizer_config": {"class_name": "Adam", "config": {
        "lr": 0.0010000000474974513, "beta_1": 0.8999999761581421,
        "beta_2": 0.9990000128746033, "decay": 0.0, "epsilon": 1e-07, "amsgrad": False}},
    "loss": "categorical_crossentropy", "metrics": ["accuracy"], "sample_weight_mode": None,
    "loss_weights": None}


def _adam_224_state():
    """iterations, then m and v for the 4 weights, then Keras 2.2's (1,) vhat placeholders."""
    shapes = [(4, 3), (3,), (3, 2), (2,)]
    ms = [_f32(*s) * 0.01 for s in shapes]
    vs = [np.abs(_f32(*s)) * 0.001 for s in shapes]
    vhats = [np.zeros((1,), np.float32) for _ in shapes]
    values = [np.array(5, dtype=np.int64)] + ms + vs + vhats
    names = ["Adam/iterations:0"] + [f"training/Adam/Variable{'' if i == 0 else '_' + str(i)}:0"
                                     for i in range(len(values) - 1)]
    return list(zip(names, values))


def _expected_functional(x):
    h = _relu(x @ DENSE["dense_1"][0] + DENSE["dense_1"][1])
    return _softmax(h @ DENSE["dense_2"][0] + DENSE["dense_2"][1])


def test_keras_224_functional_model_file_loads(tmp_path):
    path = str(tmp_path / "old_model.h5")
    _write_model_file(path, _functional_config(), _functional_layers())
    model = load_model(path, compile=False)
    assert model.name == "model_1"
    assert [layer.name for layer in model.layers] == ["input_1", "dense_1", "dense_2"]
    x = _f32(5, 4)
    np.testing.assert_allclose(predict(model, [x])[0], _expected_functional(x.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)


def test_keras_224_weights_file_loads_into_model_built_in_code(tmp_path):
    path = str(tmp_path / "old_weights.h5")
    with h5py.File(path, "w") as f:
        _write_weights(f, _functional_layers()[1:])  # Sequential files list no InputLayer
    model = Sequential([Dense(3, activation="relu", input_shape=(4,)),
                        Dense(2, activation="softmax")])
    model.load_weights(path)
    x = _f32(5, 4)
    np.testing.assert_allclose(predict(model, [x])[0], _expected_functional(x.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)
    renamed = Sequential([Dense(3, activation="relu", input_shape=(4,), name="dense_1"),
                          Dense(2, activation="softmax", name="other")])
    renamed.load_weights(path, by_name=True)  # only dense_1 matches by name
    np.testing.assert_array_equal(renamed.layers[0].get_weights()[0], DENSE["dense_1"][0])


def test_keras_224_training_config_and_optimizer_state_load(tmp_path):
    path = str(tmp_path / "old_model.h5")
    state = _adam_224_state()
    _write_model_file(path, _functional_config(), _functional_layers(), TRAINING_CONFIG, state)
    model = load_model(path)
    optimizer = model.optimizer
    np.testing.assert_allclose(float(optimizer.lr), 0.001, rtol=1e-6)
    weights = optimizer.get_weights()
    assert len(weights) == 1 + 2 * 4  # the (1,) vhat placeholders are dropped
    assert int(weights[0]) == 5
    for actual, (_, expected) in zip(weights[1:], state[1:9]):
        np.testing.assert_array_equal(actual, expected)


# ------------------------------------------------------------------ a Sequential with a GRU

GRU_WEIGHTS = (_f32(3, 12), _f32(4, 12), _f32(12))
HEAD = (_f32(4, 2), _f32(2))


def _gru_layers():
    return [("gru_1", [("gru_1/kernel:0", GRU_WEIGHTS[0]),
                       ("gru_1/recurrent_kernel:0", GRU_WEIGHTS[1]),
                       ("gru_1/bias:0", GRU_WEIGHTS[2])]),
            ("dense_1", [("dense_1/kernel:0", HEAD[0]), ("dense_1/bias:0", HEAD[1])])]


def _gru_layer_configs():
    return [{"class_name": "GRU", "config": _gru_config("gru_1", 4, (5, 3))},
            {"class_name": "Dense", "config": _dense_config("dense_1", 2, "linear")}]


@pytest.mark.parametrize("era", ["keras_2_2_4", "keras_2_0"])
def test_keras_2_sequential_gru_reset_before_loads(era, tmp_path):
    """Keras 2.2.4 wrote {"name", "layers"} for a Sequential, Keras 2.0 the bare list."""
    layers = _gru_layer_configs()
    config = {"name": "sequential_1", "layers": layers} if era == "keras_2_2_4" else layers
    path = str(tmp_path / "gru.h5")
    _write_model_file(path, {"class_name": "Sequential", "config": config}, _gru_layers())
    model = load_model(path, compile=False)
    gru = model.layers[0]
    assert isinstance(gru, GRU)
    assert gru.get_config()["reset_after"] is False
    assert gru.get_config()["recurrent_activation"] == "hard_sigmoid"
    x = _f32(2, 5, 3)
    h = _gru_reset_before(x.astype(np.float64), *[w.astype(np.float64) for w in GRU_WEIGHTS])
    expected = h @ HEAD[0] + HEAD[1]
    np.testing.assert_allclose(predict(model, [x])[0], expected, rtol=1e-5, atol=1e-5)


def test_fixed_length_string_attributes_are_decoded(tmp_path):
    path = str(tmp_path / "old_model.h5")
    _write_model_file(path, _functional_config(), _functional_layers())
    with h5py.File(path, "r") as f:  # the file really holds byte strings
        assert f["model_weights"].attrs["layer_names"].dtype.kind == "S"
        assert isinstance(f.attrs["model_config"], bytes)
    model = load_model(path, compile=False)
    assert len(model.get_weights()) == 4
