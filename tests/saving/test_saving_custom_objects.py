"""Models with user-defined layers, activations, initializers, losses and metrics save and
load through ``custom_objects``, ``CustomObjectScope`` and ``register_keras_serializable``;
Lambda layers load their stored code only with ``safe_mode=False``; nothing is unpickled."""
import json
import pickle

import numpy as np
import pytest
import torch

from saving_test_utils import predict
from tkeras import initializers
from tkeras.layers import Dense, Input, Lambda, Layer
from tkeras.models import Model, load_model, model_from_json
from tkeras.saving import SafeModeScope
from tkeras.utils import CustomObjectScope, custom_object_scope, register_keras_serializable

X = np.random.RandomState(3).standard_normal((4, 3)).astype(np.float32)
Y = np.random.RandomState(4).standard_normal((4, 2)).astype(np.float32)


class ScaleLayer(Layer):
    """A custom layer with a weight and a constructor argument."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.scale = self.add_weight("scale", shape=(input_shape[-1],), initializer="ones")
        self.built = True

    def call(self, inputs):
        return inputs * self.scale * self.factor

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


def scaled_tanh(x):
    return 1.7 * torch.tanh(x)


class HalfOnes(initializers.Initializer):
    def __call__(self, shape, dtype=None):
        return 0.5 * torch.ones(shape)

    def get_config(self):
        return {}


def my_loss(y_true, y_pred):
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def my_metric(y_true, y_pred):
    return torch.mean(y_pred, dim=-1)


CUSTOM = {"ScaleLayer": ScaleLayer, "scaled_tanh": scaled_tanh, "HalfOnes": HalfOnes}


def _custom_model():
    inputs = Input(shape=(3,))
    x = Dense(4, activation=scaled_tanh, kernel_initializer=HalfOnes(), name="hidden")(inputs)
    x = ScaleLayer(3.0, name="scale")(x)
    model = Model(inputs, Dense(2, name="head")(x), name="custom")
    rng = np.random.RandomState(0)
    model.set_weights([rng.uniform(-1, 1, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def _save(model, tmp_path, fmt):
    if fmt == "json":
        return model.to_json()
    path = str(tmp_path / f"model.{fmt}")
    model.save(path)
    return path


def _load(saved, fmt, **kwargs):
    if fmt == "json":
        return model_from_json(saved, **kwargs)
    return load_model(saved, **kwargs)


FORMATS = ["h5", "keras", "json"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_custom_objects_argument(fmt, tmp_path):
    model = _custom_model()
    loaded = _load(_save(model, tmp_path, fmt), fmt, custom_objects=CUSTOM)
    if fmt == "json":
        loaded.set_weights(model.get_weights())
    hidden = loaded.get_layer("hidden")
    assert hidden.activation is scaled_tanh
    assert isinstance(hidden.kernel_initializer, HalfOnes)
    assert isinstance(loaded.get_layer("scale"), ScaleLayer)
    assert loaded.get_layer("scale").factor == 3.0
    np.testing.assert_array_equal(predict(loaded, [X])[0], predict(model, [X])[0])


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_custom_objects_say_how_to_fix(fmt, tmp_path):
    saved = _save(_custom_model(), tmp_path, fmt)
    with pytest.raises(ValueError, match="Unknown .*custom_objects"):
        _load(saved, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scope", [CustomObjectScope, custom_object_scope])
def test_custom_object_scope(fmt, scope, tmp_path):
    model = _custom_model()
    saved = _save(model, tmp_path, fmt)
    with scope(CUSTOM):
        loaded = _load(saved, fmt)
    assert isinstance(loaded.get_layer("scale"), ScaleLayer)
    if fmt != "json":
        np.testing.assert_array_equal(predict(loaded, [X])[0], predict(model, [X])[0])


@register_keras_serializable(package="SavingTests")
class RegisteredScale(ScaleLayer):
    pass


@register_keras_serializable(package="SavingTests")
def registered_swish(x):
    return x * torch.sigmoid(x)


@register_keras_serializable(package="SavingTests")
class RegisteredInit(HalfOnes):
    pass


@pytest.mark.parametrize("fmt", FORMATS)
def test_registered_classes_need_no_custom_objects(fmt, tmp_path):
    inputs = Input(shape=(3,))
    x = Dense(4, activation=registered_swish, kernel_initializer=RegisteredInit())(inputs)
    model = Model(inputs, RegisteredScale(1.5)(x))
    config = json.loads(model.to_json())
    scale_entry = config["config"]["layers"][-1]
    assert scale_entry["registered_name"] == "SavingTests>RegisteredScale"
    assert config["config"]["layers"][1]["config"]["activation"] == "SavingTests>registered_swish"
    loaded = _load(_save(model, tmp_path, fmt), fmt)
    assert type(loaded.layers[-1]) is RegisteredScale
    assert loaded.layers[1].activation is registered_swish
    assert type(loaded.layers[1].kernel_initializer) is RegisteredInit
    if fmt != "json":
        np.testing.assert_array_equal(predict(loaded, [X])[0], predict(model, [X])[0])


@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_custom_loss_and_metric(fmt, tmp_path):
    model = _custom_model()
    model.compile(optimizer="sgd", loss=my_loss, metrics=[my_metric])
    model.train_on_batch(X, Y)
    path = _save(model, tmp_path, fmt)
    with pytest.raises(ValueError, match="my_loss|my_metric"):
        load_model(path, custom_objects=CUSTOM)
    objects = {**CUSTOM, "my_loss": my_loss, "my_metric": my_metric}
    loaded = load_model(path, custom_objects=objects)
    model.train_on_batch(X, Y)
    loaded.train_on_batch(X, Y)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ Lambda layers

def _lambda_model():
    inputs = Input(shape=(3,))
    outputs = Lambda(lambda t: t * 2.0 + 1.0, name="affine")(Dense(3, name="d")(inputs))
    return Model(inputs, outputs)


@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_lambda_code_loads_only_with_opt_in(fmt, tmp_path):
    model = _lambda_model()
    path = _save(model, tmp_path, fmt)
    with pytest.raises(ValueError, match="Lambda.*safe_mode=False"):
        load_model(path)
    loaded = load_model(path, safe_mode=False)
    np.testing.assert_array_equal(predict(loaded, [X])[0], predict(model, [X])[0])


def test_lambda_in_json_needs_safe_mode_scope():
    text = _lambda_model().to_json()
    with pytest.raises(ValueError, match="safe_mode=False"):
        model_from_json(text)
    with SafeModeScope(False):
        model_from_json(text)


@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_lambda_with_tkeras_function_loads_in_safe_mode(fmt, tmp_path):
    """As in Keras, Python functions (lambdas and defs) are stored as code, other callables
    by name: tkeras's own functions (K, activations) load by name without the opt-in."""
    from tkeras import backend as K
    inputs = Input(shape=(3,))
    model = Model(inputs, Lambda(K.tanh)(inputs))
    entry = json.loads(model.to_json())["config"]["layers"][-1]["config"]
    assert (entry["function"], entry["function_type"]) == ("tanh", "function")
    assert entry["module"].startswith("tkeras.backend")
    loaded = load_model(_save(model, tmp_path, fmt))
    assert loaded.layers[-1].function is K.tanh
    np.testing.assert_allclose(predict(loaded, [X])[0], np.tanh(X), rtol=1e-6)


@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_lambda_with_torch_function_needs_custom_objects_or_opt_in(fmt, tmp_path):
    """A name from another module (here torch) never resolves by looking in that module in
    safe mode: it comes from custom_objects, or from the module with safe_mode=False."""
    inputs = Input(shape=(3,))
    model = Model(inputs, Lambda(torch.tanh, name="th")(inputs))
    path = _save(model, tmp_path, fmt)
    with pytest.raises(ValueError, match=r"Unknown `function` of Lambda layer \"th\": 'tanh' "
                                         r"from module 'torch'.*safe_mode=False"):
        load_model(path)
    assert load_model(path, custom_objects={"tanh": torch.tanh}).layers[-1].function is torch.tanh
    loaded = load_model(path, safe_mode=False)
    assert loaded.layers[-1].function is torch.tanh
    np.testing.assert_allclose(predict(loaded, [X])[0], np.tanh(X), rtol=1e-6)


def test_no_pickle_is_ever_loaded(tmp_path, monkeypatch):
    model = _lambda_model()
    paths = [_save(model, tmp_path, "h5"), _save(model, tmp_path, "keras")]
    weights = str(tmp_path / "weights.h5")
    model.save_weights(weights)

    def refuse(*args, **kwargs):
        raise AssertionError("pickle must never be used to load a model file")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    for path in paths:
        loaded = load_model(path, safe_mode=False)
        np.testing.assert_array_equal(predict(loaded, [X])[0], predict(model, [X])[0])
        loaded.load_weights(weights)
