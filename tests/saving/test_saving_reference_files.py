"""Files written by real Keras (tf-keras 2.21, keras_reference/files) load in tkeras with the
same predictions, weights and optimizer state, and a training step continues exactly where
Keras stopped; files tkeras writes for the same models have Keras's structure."""
import json
import os

import h5py
import numpy as np
import pytest
from saving_test_utils import (
    REFERENCE_MODELS,
    decoded_attr,
    h5_structure,
    keras_zip_structure,
    model_file,
    model_io,
    model_json,
    model_meta,
    predict,
    reference_inputs,
    skip_unless_reference_layers_exist,
)

import tkeras
from tkeras.models import load_model, model_from_json, model_from_yaml
from tkeras.saving import hdf5_format

FULL_FILES = ["model.h5", "model.keras"]
LEGACY_MODELS = [m for m in REFERENCE_MODELS
                 if os.path.exists(model_file(m, "model_legacy_optimizer.h5"))]
CONTINUED_MODELS = [m for m in REFERENCE_MODELS if "continue_weight_0" in model_io(m)]
OPTIMIZER_FILES = [(m, "model.h5") for m in REFERENCE_MODELS] + \
    [(m, "model_legacy_optimizer.h5") for m in LEGACY_MODELS]


def _tol(name):
    recurrent = any(k in name for k in ("lstm", "gru"))
    return {"rtol": 1e-4, "atol": 1e-5} if recurrent else {"rtol": 1e-5, "atol": 1e-5}


def _assert_outputs(name, outputs, prefix="output_"):
    arrays = model_io(name)
    assert len(outputs) == len(model_meta(name)["output_names"])
    for i, out in enumerate(outputs):
        np.testing.assert_allclose(out, arrays[f"{prefix}{i}"], **_tol(name))


def _assert_weights(model, name, prefix="weight_"):
    arrays = model_io(name)
    expected = [arrays[f"{prefix}{j}"] for j in range(len(model_meta(name)["weights"]))]
    actual = model.get_weights()
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


def _load(name, filename, **kwargs):
    skip_unless_reference_layers_exist(name)
    return load_model(model_file(name, filename), **kwargs)


# ------------------------------------------------------------------ Keras files load

@pytest.mark.parametrize("filename", FULL_FILES)
@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_keras_model_file_loads_with_equal_predictions(name, filename):
    model = _load(name, filename, compile=False)
    _assert_weights(model, name)
    _assert_outputs(name, predict(model, reference_inputs(name)))
    assert model.name == model_meta(name)["model_name"]


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_keras_weights_file_loads_into_model_from_json(name):
    skip_unless_reference_layers_exist(name)
    model = model_from_json(model_json(name))
    model.load_weights(model_file(name, "weights.h5"))
    _assert_weights(model, name)
    _assert_outputs(name, predict(model, reference_inputs(name)))


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_keras_weights_file_loads_by_name(name):
    skip_unless_reference_layers_exist(name)
    model = model_from_json(model_json(name))
    model.load_weights(model_file(name, "weights.h5"), by_name=True)
    _assert_outputs(name, predict(model, reference_inputs(name)))


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_keras_model_file_loads_weights_into_model_from_json(name):
    skip_unless_reference_layers_exist(name)
    model = model_from_json(model_json(name))
    model.load_weights(model_file(name, "model.h5"))  # full model files hold weights too
    _assert_weights(model, name)


@pytest.mark.parametrize("name", LEGACY_MODELS)
def test_keras_legacy_optimizer_file_loads(name):
    model = _load(name, "model_legacy_optimizer.h5", compile=False)
    _assert_weights(model, name, prefix="legacy_opt_weight_")
    _assert_outputs(name, predict(model, reference_inputs(name)), prefix="legacy_opt_output_")


def _file_optimizer_state(path):
    with h5py.File(path, "r") as f:
        group = f["optimizer_weights"]
        names = decoded_attr(group, "weight_names")
        return names, [np.asarray(group[n]) for n in names]


@pytest.mark.parametrize("name,filename", OPTIMIZER_FILES)
def test_keras_optimizer_state_is_restored(name, filename):
    model = _load(name, filename)
    names, values = _file_optimizer_state(model_file(name, filename))
    assert model.optimizer.variable_names() == names
    for actual, expected in zip(model.optimizer.get_weights(), values):
        np.testing.assert_array_equal(actual, expected)


def _batch(name, x_prefix="continue_x", y_prefix="continue_y"):
    arrays = model_io(name)
    meta = model_meta(name)
    x = [arrays[f"{x_prefix}_input_{i}"] for i in range(len(meta["input_names"]))]
    y = [arrays[f"{y_prefix}_output_{i}"] for i in range(len(meta["output_names"]))]
    return (x if len(x) > 1 else x[0]), (y if len(y) > 1 else y[0])


@pytest.mark.parametrize("filename", FULL_FILES)
@pytest.mark.parametrize("name", CONTINUED_MODELS)
def test_training_continues_like_keras(name, filename):
    """Loading model.h5 / model.keras with its optimizer state and doing one more
    train_on_batch gives the weights and predictions Keras got."""
    model = _load(name, filename)
    x, y = _batch(name)
    model.train_on_batch(x, y)
    arrays = model_io(name)
    expected = [arrays[f"continue_weight_{j}"] for j in range(len(model_meta(name)["weights"]))]
    for actual, wanted in zip(model.get_weights(), expected):
        np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)
    _assert_outputs(name, predict(model, reference_inputs(name)), prefix="continue_output_")


# ------------------------------------------------------------------ configs

def _strip_volatile(config):
    """Keras's config without the serialization details tkeras may format differently
    ("module" / "registered_name" / "build_config" of the newer format)."""
    if isinstance(config, dict):
        return {k: _strip_volatile(v) for k, v in config.items()
                if k not in ("module", "registered_name", "build_config")}
    if isinstance(config, list):
        return [_strip_volatile(v) for v in config]
    return config


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_json_round_trip(name):
    skip_unless_reference_layers_exist(name)
    model = model_from_json(model_json(name))
    text = model.to_json()
    assert json.loads(text)["class_name"] == json.loads(model_json(name))["class_name"]
    again = model_from_json(text)
    assert again.get_config() == model.get_config()
    assert [w.shape for w in again.get_weights()] == [w.shape for w in model.get_weights()]


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_json_config_matches_keras(name):
    """tkeras's config of a model rebuilt from Keras's JSON is Keras's config."""
    skip_unless_reference_layers_exist(name)
    keras_config = json.loads(model_json(name))
    model = model_from_json(model_json(name))
    ours = json.loads(model.to_json())
    assert _strip_volatile(ours["config"]) == _strip_volatile(keras_config["config"])


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_yaml_round_trip(name):
    skip_unless_reference_layers_exist(name)
    model = model_from_json(model_json(name))
    text = model.to_yaml()
    assert "!!python" not in text  # plain YAML: safe_load reads it
    again = model_from_yaml(text)
    assert again.get_config() == model.get_config()
    model.set_weights([np.asarray(w) for w in again.get_weights()])
    inputs = reference_inputs(name)
    for a, b in zip(predict(again, inputs), predict(model, inputs)):
        np.testing.assert_array_equal(a, b)


def test_yaml_loader_refuses_python_tags():
    """model_from_yaml uses safe_load: a YAML document with Python object tags is refused."""
    text = "!!python/object/apply:os.system ['echo unsafe']"
    with pytest.raises(ValueError, match="could not parse"):
        model_from_yaml(text)


# ------------------------------------------------------------------ tkeras writes Keras's layout

def _h5_layout_without(path, skip_prefixes, skip_root=()):
    root_attrs, tree = h5_structure(path)
    tree = [entry for entry in tree if not entry[0].startswith(skip_prefixes)]
    return tuple(a for a in root_attrs if a not in skip_root), tree


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_written_h5_weights_structure_equals_keras(name, tmp_path):
    model = _load(name, "model.h5", compile=False)
    path = str(tmp_path / "model.h5")
    model.save(path)
    ours = _h5_layout_without(path, ("optimizer_weights",), ("training_config",))
    keras = _h5_layout_without(model_file(name, "model.h5"), ("optimizer_weights",),
                               ("training_config",))
    assert ours == keras
    structure = model_meta(name)["h5_structure"]
    with h5py.File(path, "r") as f:
        assert decoded_attr(f["model_weights"], "layer_names") == structure["layer_names"]
        for layer, names in structure["weight_names"].items():
            assert decoded_attr(f["model_weights"][layer], "weight_names") == names


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_written_weights_file_structure_equals_keras(name, tmp_path):
    model = _load(name, "model.h5", compile=False)
    path = str(tmp_path / "weights.h5")
    model.save_weights(path)
    assert h5_structure(path) == h5_structure(model_file(name, "weights.h5"))


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_written_h5_full_structure_equals_keras(name, tmp_path):
    """With the optimizer state: root attributes, training_config, optimizer_weights."""
    model = _load(name, "model.h5")
    path = str(tmp_path / "model.h5")
    model.save(path)
    assert h5_structure(path) == h5_structure(model_file(name, "model.h5"))
    with h5py.File(path, "r") as f:
        names = decoded_attr(f["optimizer_weights"], "weight_names")
        training_config = json.loads(decoded_attr(f, "training_config"))
    assert names == model_meta(name)["h5_structure"]["optimizer_weight_names"]
    assert training_config["optimizer_config"]["class_name"].startswith("Custom>")
    assert set(training_config) == {"loss", "metrics", "weighted_metrics", "loss_weights",
                                    "optimizer_config"}


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_written_h5_configs_equal_keras(name, tmp_path):
    """The model_config and training_config tkeras writes are Keras's own (decoded JSON
    equal): Keras 2's layer entries, metrics as one list per output."""
    model = _load(name, "model.h5")
    path = str(tmp_path / "model.h5")
    model.save(path)
    with h5py.File(path, "r") as ours, h5py.File(model_file(name, "model.h5"), "r") as keras:
        for attr in ("model_config", "training_config"):
            assert json.loads(decoded_attr(ours, attr)) == json.loads(decoded_attr(keras, attr)), attr


def _optimizer_from_training_config(path):
    with h5py.File(path, "r") as f:
        config = json.loads(decoded_attr(f, "training_config"))["optimizer_config"]
    return tkeras.optimizers.deserialize(config)


@pytest.mark.parametrize("name,filename", OPTIMIZER_FILES)
def test_written_optimizer_weights_group_equals_keras(name, filename, tmp_path):
    """The optimizer_weights group tkeras writes (names, order, shapes) is Keras's, for
    the newer and the Keras 2 (legacy) optimizer families."""
    reference = model_file(name, filename)
    model = _load(name, "model.h5", compile=False)
    optimizer = _optimizer_from_training_config(reference)
    optimizer.build(model.trainable_weights)
    path = str(tmp_path / "opt.h5")
    with h5py.File(path, "w") as f:
        hdf5_format.save_optimizer_weights_to_hdf5_group(f, optimizer)
    with h5py.File(path, "r") as f, h5py.File(reference, "r") as g:
        ours = decoded_attr(f["optimizer_weights"], "weight_names")
        assert ours == decoded_attr(g["optimizer_weights"], "weight_names")
        for n in ours:
            assert f["optimizer_weights"][n].shape == g["optimizer_weights"][n].shape
            assert f["optimizer_weights"][n].dtype == g["optimizer_weights"][n].dtype


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_written_keras_zip_structure_equals_keras(name, tmp_path):
    model = _load(name, "model.keras", compile=False)
    path = str(tmp_path / "model.keras")
    model.save(path)
    members, tree = keras_zip_structure(path)
    keras_members, keras_tree = keras_zip_structure(model_file(name, "model.keras"))
    assert members == keras_members
    keep = [entry for entry in keras_tree if not entry[0].startswith(("optimizer", "metrics"))]
    assert tree == keep


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_written_keras_zip_with_training_state_equals_keras(name, tmp_path):
    """After a training step the optimizer and the metrics are saved too: the whole
    model.weights.h5 then has Keras's structure."""
    model = _load(name, "model.keras")
    model.train_on_batch(*_batch(name, "train_x0", "train_y0"))
    path = str(tmp_path / "model.keras")
    model.save(path)
    assert keras_zip_structure(path) == keras_zip_structure(model_file(name, "model.keras"))


@pytest.mark.parametrize("filename", ["model.h5", "model.keras", "other.hdf5"])
@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_tkeras_round_trip_is_exact(name, filename, tmp_path):
    model = _load(name, "model.h5", compile=False)
    path = str(tmp_path / filename)
    model.save(path)
    again = load_model(path, compile=False)
    assert again.get_config() == model.get_config()
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    inputs = reference_inputs(name)
    for a, b in zip(predict(again, inputs), predict(model, inputs)):
        np.testing.assert_array_equal(a, b)
