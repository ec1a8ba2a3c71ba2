"""K functions, Python operators, losses and metrics applied to KerasTensors: each records
one op node (shape and dtype inferred), models built through them run, train, save and
load; add_loss / add_metric of symbolic tensors (the VAE pattern)."""
import json
import os

import numpy as np
import pytest

import tkeras
from tkeras import Input, Model, layers, losses, metrics
from tkeras import backend as K
from tkeras.engine.op_layer import OpLayer

A = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -0.5]], dtype=np.float32)
B = np.array([[0.5, 1.0, 2.0], [3.0, -4.0, 9.0]], dtype=np.float32)
W = np.array([[1.0, 0.5], [-1.0, 2.0], [0.25, 3.0]], dtype=np.float32)


def evaluate(fn, *arrays):
    """fn applied to placeholders, evaluated by a K.function on the arrays."""
    phs = [K.placeholder(shape=(None,) + a.shape[1:], dtype=str(a.dtype)) for a in arrays]
    out = fn(*phs)
    return out, K.function(phs, [out])(list(arrays))[0]


OPERATOR_CASES = [
    ("add", lambda x, y: x + y, lambda a, b: a + b),
    ("radd", lambda x, y: 2.0 + x, lambda a, b: 2.0 + a),
    ("sub", lambda x, y: x - y, lambda a, b: a - b),
    ("rsub", lambda x, y: 1.0 - y, lambda a, b: 1.0 - b),
    ("mul", lambda x, y: x * y, lambda a, b: a * b),
    ("rmul", lambda x, y: 3 * x, lambda a, b: 3 * a),
    ("truediv", lambda x, y: x / y, lambda a, b: a / b),
    ("rtruediv", lambda x, y: 1.0 / y, lambda a, b: 1.0 / b),
    ("floordiv", lambda x, y: x // y, lambda a, b: a // b),
    ("mod", lambda x, y: x % y, lambda a, b: np.mod(a, b)),
    ("pow", lambda x, y: x ** 2, lambda a, b: a ** 2),
    ("rpow", lambda x, y: 2.0 ** x, lambda a, b: 2.0 ** a),
    ("matmul", lambda x, y: x @ W, lambda a, b: a @ W),
    ("rmatmul", lambda x, y: W.T @ K.transpose(x), lambda a, b: W.T @ a.T),
    ("neg", lambda x, y: -x, lambda a, b: -a),
    ("abs", lambda x, y: abs(x), lambda a, b: np.abs(a)),
    ("numpy_left", lambda x, y: np.array([1.0, 2.0, 3.0], "float32") * x,
     lambda a, b: np.array([1.0, 2.0, 3.0]) * a),
    ("slice_col", lambda x, y: x[:, 0], lambda a, b: a[:, 0]),
    ("ellipsis", lambda x, y: x[..., 1:], lambda a, b: a[..., 1:]),
    ("newaxis_step", lambda x, y: x[:, None, ::2], lambda a, b: a[:, None, ::2]),
    ("fancy", lambda x, y: x[:, [2, 0]], lambda a, b: a[:, [2, 0]]),
]


@pytest.mark.parametrize("name,fn,np_fn", OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_operators_record_nodes_with_inferred_shapes(name, fn, np_fn):
    out, value = evaluate(fn, A, B)
    expected = np_fn(A, B)
    assert isinstance(out, tkeras.engine.KerasTensor)
    assert isinstance(out._keras_history.layer, OpLayer)
    assert len(out.shape) == expected.ndim
    assert all(d is None or d == e for d, e in zip(out.shape, expected.shape))
    assert out.dtype == "float32"
    np.testing.assert_allclose(value, expected, rtol=1e-6)


@pytest.mark.parametrize("fn,np_fn", [
    (lambda x, y: x < y, np.less), (lambda x, y: x <= y, np.less_equal),
    (lambda x, y: x > y, np.greater), (lambda x, y: x >= y, np.greater_equal),
    (lambda x, y: (x > 0) & (y > 0), lambda a, b: (a > 0) & (b > 0)),
    (lambda x, y: (x > 0) | (y > 0), lambda a, b: (a > 0) | (b > 0)),
    (lambda x, y: ~(x > 0), lambda a, b: ~(a > 0)),
])
def test_comparisons_give_bool_tensors(fn, np_fn):
    out, value = evaluate(fn, A, B)
    assert out.dtype == "bool"
    np.testing.assert_array_equal(value, np_fn(A, B))


def test_equality_keeps_identity_semantics():
    x = Input(shape=(3,))
    assert x == x and x != Input(shape=(3,)) and x in [x] and {x: 1}[x] == 1


K_CASES = [
    ("mean_axis", lambda x, y: K.mean(x, axis=1, keepdims=True), lambda a, b: a.mean(1, keepdims=True)),
    ("sum_all", lambda x, y: K.sum(x), lambda a, b: a.sum()),
    ("max", lambda x, y: K.max(x, axis=-1), lambda a, b: a.max(-1)),
    ("square_sqrt", lambda x, y: K.sqrt(K.square(x)), lambda a, b: np.abs(a)),
    ("exp_log", lambda x, y: K.log(K.exp(x)), lambda a, b: a),
    ("clip", lambda x, y: K.clip(x, -1.0, 2.0), lambda a, b: np.clip(a, -1, 2)),
    ("maximum", lambda x, y: K.maximum(x, y), np.maximum),
    ("dot", lambda x, y: K.dot(x, K.transpose(y)), lambda a, b: a @ b.T),
    ("batch_dot", lambda x, y: K.batch_dot(x, y, axes=1), lambda a, b: (a * b).sum(1, keepdims=True)),
    ("concatenate", lambda x, y: K.concatenate([x, y], axis=-1), lambda a, b: np.concatenate([a, b], -1)),
    ("stack", lambda x, y: K.stack([x, y], axis=1), lambda a, b: np.stack([a, b], 1)),
    ("reshape", lambda x, y: K.reshape(x, (-1, 3, 1)), lambda a, b: a.reshape(-1, 3, 1)),
    ("permute", lambda x, y: K.permute_dimensions(K.expand_dims(x), (0, 2, 1)),
     lambda a, b: a[:, None, :]),
    ("batch_flatten", lambda x, y: K.batch_flatten(K.expand_dims(x)), lambda a, b: a),
    ("softmax", lambda x, y: K.softmax(x),
     lambda a, b: np.exp(a) / np.exp(a).sum(-1, keepdims=True)),
    ("relu", lambda x, y: K.relu(x), lambda a, b: np.maximum(a, 0)),
    ("switch", lambda x, y: K.switch(K.greater(x, 0), x, y), lambda a, b: np.where(a > 0, a, b)),
    ("cast", lambda x, y: K.cast(K.greater(x, 0), "float32"), lambda a, b: (a > 0).astype("float32")),
    ("std", lambda x, y: K.std(x, axis=0), lambda a, b: a.std(0)),
    ("l2_normalize", lambda x, y: K.l2_normalize(x, axis=-1),
     lambda a, b: a / np.sqrt((a ** 2).sum(-1, keepdims=True))),
    ("stop_gradient", lambda x, y: K.stop_gradient(x) * 2, lambda a, b: a * 2),
    ("tile", lambda x, y: K.tile(x, (1, 2)), lambda a, b: np.tile(a, (1, 2))),
    ("zeros_like", lambda x, y: K.zeros_like(x) + 1.0, lambda a, b: np.ones_like(a)),
]


@pytest.mark.parametrize("name,fn,np_fn", K_CASES, ids=[c[0] for c in K_CASES])
def test_k_functions_on_symbolic_tensors(name, fn, np_fn):
    out, value = evaluate(fn, A, B)
    expected = np.asarray(np_fn(A, B))
    assert len(out.shape) == expected.ndim
    assert all(d is None or d == e for d, e in zip(out.shape, expected.shape))
    np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)


def test_losses_and_metrics_record_one_node_by_name():
    y_true, y_pred = Input(shape=(3,)), Input(shape=(3,))
    mse = losses.mean_squared_error(y_true, y_pred)
    assert mse.shape == (None,)
    assert mse._keras_history.layer.symbol == "losses.mean_squared_error"
    acc = metrics.binary_accuracy(y_true, y_pred)
    assert acc._keras_history.layer.symbol == "metrics.binary_accuracy"
    assert losses.get("mse") is losses.mean_squared_error  # lookup keeps one object
    f = K.function([y_true, y_pred], [mse, acc, losses.mse(y_true, y_pred)])
    t = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], "float32")
    p = np.array([[0.9, 0.2, 0.4], [0.1, 0.7, 0.8]], "float32")
    out = f([t, p])
    np.testing.assert_allclose(out[0], ((t - p) ** 2).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(out[1], ((p > 0.5) == t).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(out[2], out[0])


def test_eager_calls_are_unchanged():
    import torch
    x = torch.tensor([[1.0, -2.0]])
    assert torch.equal(K.abs(x), torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="out of range"):
        K.sum(x, axis=5)  # errors of eager calls are not turned into graph nodes


# ------------------------------------------------------------------ models through ops

def op_model():
    tkeras.utils.set_random_seed(3)
    inp = Input(shape=(4,))
    h = layers.Dense(3, name="d")(inp)
    y = K.concatenate([h * 2.0, K.exp(h)[:, 1:]], axis=-1) - 1.0
    y = 2.0 - y / (1.5 + K.abs(y)) + 0.5 ** K.clip(y, -1.0, 1.0)
    out = K.softmax(y[:, :4] + K.mean(losses.mean_squared_error(h, y[:, :3])))
    return Model(inp, out)


def test_functional_model_built_through_ops_fits_predicts_and_summarises(capsys):
    model = op_model()
    x = np.random.RandomState(0).rand(16, 4).astype("float32")
    y = np.eye(4, dtype="float32")[np.arange(16) % 4]
    model.compile("adam", "categorical_crossentropy")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    model.summary()
    text = capsys.readouterr().out
    assert "k.concatenate (OpLayer)" in text and "k.losses.mean_squared_error" in text
    rebuilt = Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("ext", ["h5", "keras"])
def test_op_model_saves_and_loads_in_safe_mode(tmp_path, ext):
    model = op_model()
    x = np.random.RandomState(1).rand(5, 4).astype("float32")
    expected = model.predict(x, verbose=0)
    path = os.path.join(tmp_path, "m." + ext)
    model.save(path)
    loaded = tkeras.models.load_model(path)  # safe_mode stays on: no code in the file
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6)
    ops = [layer for layer in loaded.layers if isinstance(layer, OpLayer)]
    assert {op.symbol for op in ops} >= {"concatenate", "exp", "operator.getitem", "softmax",
                                         "losses.mean_squared_error"}


def test_config_names_functions_and_never_modules():
    cfg = op_model().get_config()
    entry = next(layer for layer in cfg["layers"] if layer["class_name"] == "OpLayer" and
                 layer["config"]["function"] == "operator.getitem")
    assert entry["inbound_nodes"][0][0][3]["key"] == [
        {"class_name": "__slice__", "config": {"start": None, "stop": None, "step": None}},
        {"class_name": "__slice__", "config": {"start": 1, "stop": None, "step": None}}]
    json.dumps(cfg)
    bad = json.loads(json.dumps(cfg))
    for layer in bad["layers"]:
        if layer["class_name"] == "OpLayer":
            layer["config"]["function"] = "os.system"
    with pytest.raises(ValueError, match="Unknown backend function 'os.system'"):
        Model.from_config(bad)
    for layer in bad["layers"]:  # state-writing K functions are never loadable either
        if layer["class_name"] == "OpLayer":
            layer["config"]["function"] = "update_add"
    with pytest.raises(ValueError, match="Unknown backend function 'update_add'"):
        Model.from_config(bad)


def test_a_python_callable_argument_is_saved_like_a_lambda(tmp_path):
    inp = Input(shape=(3,))
    out = K.map_fn(lambda row: row * 2.0 + 1.0, inp)
    model = Model(inp, out)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), x * 2 + 1)
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    with pytest.raises(ValueError, match="Lambda layer with a Python `lambda`"):
        tkeras.models.load_model(path)
    loaded = tkeras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), x * 2 + 1)


# ------------------------------------------------------------------ add_loss / add_metric

def vae(orig=8, latent=2):
    tkeras.utils.set_random_seed(0)
    x = Input(shape=(orig,))
    h = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent)(h)
    z_log_var = layers.Dense(latent)(h)
    z = z_mean + K.exp(0.5 * z_log_var) * 0.1   # a deterministic "sample": no Lambda needed
    decoded = layers.Dense(orig, activation="sigmoid")(layers.Dense(16, activation="relu")(z))
    model = Model(x, decoded)
    reconstruction_loss = losses.binary_crossentropy(x, decoded) * orig
    kl_loss = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
    model.add_loss(K.mean(reconstruction_loss + kl_loss))
    model.add_metric(K.mean(kl_loss), name="kl", aggregation="mean")
    return model


def test_vae_trains_with_add_loss_and_no_compiled_loss():
    model = vae()
    model.compile(optimizer="adam")
    data = (np.random.RandomState(0).rand(64, 8) > 0.5).astype("float32")
    hist = model.fit(data, epochs=8, batch_size=16, verbose=0)
    assert set(hist.history) == {"loss", "kl"}
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    # the logged loss is the added loss, computed by hand from the model's values
    enc = Model(model.inputs, model.outputs)
    pred = enc.predict(data, verbose=0)
    loss, kl = model.evaluate(data, verbose=0, batch_size=64)
    eps = 1e-7
    p = np.clip(pred, eps, 1 - eps)
    bce = -(data * np.log(p + eps) + (1 - data) * np.log(1 - p + eps)).mean(-1) * 8
    assert loss == pytest.approx(float(np.mean(bce)) + kl, rel=1e-4)


def test_add_metric_and_add_loss_survive_save_and_load(tmp_path):
    model = vae()
    model.compile(optimizer="adam")
    data = (np.random.RandomState(1).rand(32, 8) > 0.5).astype("float32")
    model.fit(data, epochs=1, verbose=0)
    expected = model.evaluate(data, verbose=0, batch_size=32)
    for ext in ("h5", "keras"):
        path = os.path.join(tmp_path, "vae." + ext)
        model.save(path)
        loaded = tkeras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0),
                                   rtol=1e-6)
        assert [type(layer).__name__ for layer in loaded.layers[-2:]] == ["AddLoss", "AddMetric"]
        np.testing.assert_allclose(loaded.evaluate(data, verbose=0, batch_size=32), expected,
                                   rtol=1e-5)


def test_add_loss_of_a_symbolic_tensor_needs_a_functional_model():
    class Subclassed(Model):
        def call(self, x):
            return x

    model = Subclassed()
    with pytest.raises(ValueError, match="works on functional models"):
        model.add_loss(K.mean(Input(shape=(3,))))
    inp = Input(shape=(3,))
    functional = Model(inp, layers.Dense(2)(inp))
    with pytest.raises(ValueError, match="provide a name for your metric"):
        functional.add_metric(K.mean(functional.output))


def test_a_plain_python_function_as_an_op_is_saved_like_a_lambda(tmp_path):
    from tkeras.engine.op_layer import op_layer_for
    inp = Input(shape=(2,))
    out = op_layer_for(lambda t, scale: t * scale, inp, scale=3.0)
    assert isinstance(out._keras_history.layer, OpLayer) and out.shape == (None, 2)
    model = Model(inp, out)
    cfg = model.get_config()["layers"][1]["config"]
    assert cfg["function_type"] == "lambda"
    path = os.path.join(tmp_path, "m.h5")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        tkeras.models.load_model(path)
    x = np.array([[1.0, -2.0]], "float32")
    loaded = tkeras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), x * 3.0)
