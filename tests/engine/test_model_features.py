"""Model and layer features of the Keras 2 API that the foundation audit tried by hand:
Lambda (output_shape, mask, arguments, config), summary(line_length, positions), models
built from dicts, per-node graph accessors, Input / InputLayer in code, the learning phase,
ActivityRegularization, SpatialDropout2D/3D and Sequential's single-output rule.

Expected values are computed by hand or with numpy; summary tables are written out column
by column from Keras 2's layout rule (column i spans ``[positions[i-1], positions[i])``,
the first column starts with one space) or compared with tf-keras's own summary.txt.
"""
import json

import numpy as np
import pytest
import torch

import tkeras as keras
from conftest import ref_path
from tkeras import backend as K
from tkeras import layers
from tkeras.layers import Dense, Input, InputLayer, Lambda
from tkeras.models import Model, Sequential
from tkeras.saving import SafeModeScope


def np_of(t):
    return t.detach().cpu().numpy()


def set_dense(layer, kernel, bias):
    layer.set_weights([np.asarray(kernel, "float32"), np.asarray(bias, "float32")])


# ------------------------------------------------------------------ Lambda

def test_lambda_arguments_are_passed_to_the_function():
    lam = Lambda(lambda v, k, scale: v[:, :k] * scale, arguments={"k": 2, "scale": 3.0})
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]], "float32")
    np.testing.assert_allclose(np_of(lam(x)), [[3.0, 6.0], [-3.0, 1.5]])
    assert lam(Input(shape=(3,))).shape == (None, 2)
    assert lam.get_config()["arguments"] == {"k": 2, "scale": 3.0}


@pytest.mark.parametrize("output_shape", [(2,), lambda s: (s[0], 2)], ids=["tuple", "function"])
def test_lambda_output_shape(output_shape):
    lam = Lambda(lambda v: v[:, :2] + 1.0, output_shape=output_shape)
    assert lam.compute_output_shape((None, 5)) == (None, 2)
    assert lam.compute_output_shape((7, 5)) == (7, 2)  # the batch axis is kept
    inputs = Input(shape=(5,))
    symbolic = lam(inputs)
    assert symbolic.shape == (None, 2)
    model = Model(inputs, symbolic)
    assert model.output_shape == (None, 2)
    np.testing.assert_allclose(np_of(model(np.zeros((3, 5), "float32"))), np.ones((3, 2)))


def test_lambda_mask_function_gives_the_output_mask():
    lam = Lambda(lambda v: v * 2.0, mask=lambda inputs, mask: K.greater(K.sum(inputs, -1), 2.0))
    x = torch.tensor([[[1.0, 2.0], [0.5, 0.5], [3.0, -0.5]]])
    out = lam(x)
    np.testing.assert_allclose(np_of(out), np_of(x) * 2.0)
    np.testing.assert_array_equal(np_of(out._keras_mask), [[True, False, True]])
    symbolic = lam(Input(shape=(3, 2)))
    assert symbolic._keras_mask.shape == (None, 3)


def test_lambda_receives_the_incoming_mask_and_passes_a_fixed_one_on():
    seen = {}

    def double(v, mask=None):
        seen["mask"] = mask
        return v * 2.0

    inputs = Input(shape=(3, 2))
    masked = layers.Masking(0.0)(inputs)
    model = Model(inputs, Lambda(double)(masked))
    data = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 4.0]]], "float32")
    np.testing.assert_allclose(np_of(model(data)), data * 2.0)
    np.testing.assert_array_equal(np_of(seen["mask"]), [[True, False, True]])
    # a Lambda without `mask` does not support masking: the mask stops there (as in Keras)
    assert Lambda(double)(masked)._keras_mask is None


def test_lambda_config_round_trip_needs_safe_mode_off():
    lam = Lambda(lambda v, k: v[:, :k] * 2.0, output_shape=lambda s: (s[0], 2),
                 mask=lambda inputs, mask: K.greater(inputs[:, :2], 0.0), arguments={"k": 2},
                 name="cut")
    config = json.loads(json.dumps(lam.get_config()))  # a JSON-able config
    assert config["function_type"] == "lambda" and config["output_shape_type"] == "lambda"
    assert config["arguments"] == {"k": 2} and config["name"] == "cut"
    with pytest.raises(ValueError, match="safe_mode=False"):
        Lambda.from_config(config)
    with SafeModeScope(False):
        clone = Lambda.from_config(config)
    x = np.array([[1.0, -2.0, 5.0]], "float32")
    out = clone(x)
    np.testing.assert_allclose(np_of(out), [[2.0, -4.0]])
    np.testing.assert_array_equal(np_of(out._keras_mask), [[True, False]])
    assert clone.compute_output_shape((None, 9)) == (None, 2)
    assert clone.name == "cut" and clone.arguments == {"k": 2}


def test_lambda_with_tuple_output_shape_round_trips_as_raw():
    lam = Lambda(lambda v: v[:, :2], output_shape=(2,))
    config = lam.get_config()
    assert config["output_shape"] == [2] and config["output_shape_type"] == "raw"
    with SafeModeScope(False):
        clone = Lambda.from_config(config)
    assert clone.compute_output_shape((4, 6)) == (4, 2)


# ------------------------------------------------------------------ summary

def summary_lines(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def row(cells, positions):
    """One table line: cell i fills the columns [positions[i-1], positions[i]); the first
    cell starts with one space (Keras 2's print_row for cells that fit)."""
    starts = [0] + list(positions[:-1])
    text = ""
    for i, (cell, start, end) in enumerate(zip(cells, starts, positions)):
        text += ((" " if i == 0 else "") + cell).ljust(end - start)
    return text


def narrow_sequential():
    return Sequential([Dense(3, input_shape=(4,), name="dense_with_a_long_name"),
                       Dense(1, name="out")])


NARROW_SEQUENTIAL_TABLE = [
    'Model: "sequential"',
    "_" * 50,
    row(["Layer (type)", "Output Shape", "Param #"], [20, 35, 50]),
    "=" * 50,
    # the name column holds 20 - 2 (gap) - 1 (alignment) = 17 characters; the rest wraps
    row(["dense_with_a_long", "(None, 3)", "15"], [20, 35, 50]),
    row(["_name (Dense)", "", ""], [20, 35, 50]),
    " " * 50,
    row(["out (Dense)", "(None, 1)", "4"], [20, 35, 50]),
    " " * 50,
    "=" * 50,
    "Total params: 19 (76.00 Byte)",          # 4*3+3 + 3*1+1 float32 weights
    "Trainable params: 19 (76.00 Byte)",
    "Non-trainable params: 0 (0.00 Byte)",
    "_" * 50,
]


@pytest.mark.parametrize("positions", [[0.4, 0.7, 1.0], [20, 35, 50]],
                         ids=["fractions", "absolute"])
def test_summary_line_length_and_positions_sequential(positions):
    assert summary_lines(narrow_sequential(), line_length=50,
                         positions=positions) == NARROW_SEQUENTIAL_TABLE


def test_summary_line_length_alone_scales_the_default_positions():
    lines = summary_lines(narrow_sequential(), line_length=100)
    # default fractions 0.45 / 0.85 / 1.0 of 100 columns
    assert lines[1] == "_" * 100
    assert lines[2] == row(["Layer (type)", "Output Shape", "Param #"], [45, 85, 100])
    assert lines[4] == row(["dense_with_a_long_name (Dense)", "(None, 3)", "15"], [45, 85, 100])


@pytest.mark.parametrize("positions", [[0.25, 0.5, 0.75, 1.0], [20, 40, 60, 80]],
                         ids=["fractions", "absolute"])
def test_summary_line_length_and_positions_functional(positions):
    a, b = Input(shape=(3,), name="a"), Input(shape=(3,), name="b")
    out = Dense(2, name="out")(layers.add([a, b], name="sum"))
    model = Model([a, b], out, name="two")
    cols = [20, 40, 60, 80]
    assert summary_lines(model, line_length=80, positions=positions) == [
        'Model: "two"',
        "_" * 80,
        row(["Layer (type)", "Output Shape", "Param #", "Connected to"], cols),
        "=" * 80,
        row(["a (InputLayer)", "[(None, 3)]", "0", "[]"], cols),
        " " * 80,
        row(["b (InputLayer)", "[(None, 3)]", "0", "[]"], cols),
        " " * 80,
        # "['a[0][0]', 'b[0][0]']" is 22 characters, the last column 20: Keras breaks
        # the line after "',"
        row(["sum (Add)", "(None, 3)", "0", "['a[0][0]',"], cols),
        row(["", "", "", " 'b[0][0]']"], cols),
        " " * 80,
        row(["out (Dense)", "(None, 2)", "8", "['sum[0][0]']"], cols),
        " " * 80,
        "=" * 80,
        "Total params: 8 (32.00 Byte)",
        "Trainable params: 8 (32.00 Byte)",
        "Non-trainable params: 0 (0.00 Byte)",
        "_" * 80,
    ]


def reference_model(name):
    with open(ref_path("files", name, "model.json")) as f:
        return keras.models.model_from_json(f.read())


def reference_summary(name):
    with open(ref_path("files", name, "summary.txt")) as f:
        return f.read().rstrip("\n").split("\n")


@pytest.mark.parametrize("name,kwargs", [
    # Keras's defaults written out: 65 columns at 0.45 / 0.85 / 1.0 -> 29 / 55 / 65
    ("cnn_sequential", {"line_length": 65, "positions": [0.45, 0.85, 1.0]}),
    ("cnn_sequential", {"positions": [29, 55, 65]}),
    # 98 columns at 0.3 / 0.6 / 0.7 / 1.0 -> 29 / 58 / 68 / 98
    ("two_input_two_output", {"line_length": 98, "positions": [0.3, 0.6, 0.7, 1.0]}),
    ("two_input_two_output", {"positions": [29, 58, 68, 98]}),
])
def test_explicit_default_layout_reproduces_keras_summary(name, kwargs):
    assert summary_lines(reference_model(name), **kwargs) == reference_summary(name)


# ------------------------------------------------------------------ models from dicts

def dict_model():
    a, b = Input(shape=(2,), name="a"), Input(shape=(1,), name="b")
    sum_out = Dense(1, name="sum_out")(layers.concatenate([a, b]))
    pair_out = Dense(2, name="pair_out")(a)
    set_dense(sum_out._keras_history.layer, [[1.0], [1.0], [1.0]], [0.0])
    set_dense(pair_out._keras_history.layer, [[1.0, 0.0], [0.0, -1.0]], [0.5, 0.5])
    model = Model(inputs={"a": a, "b": b}, outputs={"pair": pair_out, "total": sum_out})
    return model, a, b, sum_out, pair_out


def test_dict_model_inputs_outputs_and_names():
    model, a, b, sum_out, pair_out = dict_model()
    assert model.inputs[0] is a and model.inputs[1] is b
    assert model.outputs[0] is pair_out and model.outputs[1] is sum_out
    assert model.input_names == ["a", "b"]
    assert [t.name for t in model.inputs] == ["a", "b"]
    assert model.output_names == ["pair_out", "sum_out"]  # the output layers' names
    assert model.input_shape == [(None, 2), (None, 1)]
    assert model.output_shape == [(None, 2), (None, 1)]


def test_dict_model_called_with_a_dict_returns_a_dict():
    model = dict_model()[0]
    xa = np.array([[1.0, 2.0], [3.0, -1.0]], "float32")
    xb = np.array([[10.0], [0.5]], "float32")
    out = model({"b": xb, "a": xa})  # keys in any order
    assert isinstance(out, dict) and sorted(out) == ["pair", "total"]
    np.testing.assert_allclose(np_of(out["total"]), [[13.0], [2.5]])
    np.testing.assert_allclose(np_of(out["pair"]), [[1.5, -1.5], [3.5, 1.5]])
    predicted = model.predict({"a": xa, "b": xb}, verbose=0)
    np.testing.assert_allclose(predicted["total"], [[13.0], [2.5]])
    with pytest.raises(ValueError, match='Missing data for input "b"'):
        model({"a": xa})


def test_dict_model_called_symbolically_with_a_dict():
    model = dict_model()[0]
    out = model({"a": Input(shape=(2,)), "b": Input(shape=(1,))})
    assert sorted(out) == ["pair", "total"]
    assert out["pair"].shape == (None, 2) and out["total"].shape == (None, 1)


def test_dict_model_called_symbolically_with_keys_in_another_order():
    model = dict_model()[0]
    out = model({"b": Input(shape=(1,)), "a": Input(shape=(2,))})
    assert out["total"].shape == (None, 1)


def test_dict_model_orders_inputs_and_outputs_by_key_as_keras():
    a, b = Input(shape=(2,), name="a"), Input(shape=(1,), name="b")
    y1, y2 = Dense(1, name="y1")(a), Dense(1, name="y2")(b)
    model = Model(inputs={"b": b, "a": a}, outputs={"second": y2, "first": y1})
    assert model.inputs[0] is a and model.outputs[0] is y1


def test_dict_model_maps_call_dicts_by_the_constructor_keys():
    a = Input(shape=(2,), name="a")
    model = Model(inputs={"features": a}, outputs=Dense(1)(a))
    assert model({"features": np.ones((1, 2), "float32")}).shape == (1, 1)
    assert model({"a": np.ones((1, 2), "float32")}).shape == (1, 1)  # the Input's name too
    with pytest.raises(ValueError, match=r"Missing data for input \"features\""):
        model({"other": np.ones((1, 2), "float32")})


# ------------------------------------------------------------------ per-node accessors

def shared_dense_called_twice():
    dense = Dense(4, name="shared")
    x1, x2 = Input(shape=(3,)), Input(shape=(5, 3))
    y1, y2 = dense(x1), dense(x2)
    return dense, (x1, x2), (y1, y2)


def test_node_accessors_of_a_layer_called_twice():
    dense, (x1, x2), (y1, y2) = shared_dense_called_twice()
    assert dense.get_input_at(0) is x1 and dense.get_input_at(1) is x2
    assert dense.get_output_at(0) is y1 and dense.get_output_at(1) is y2
    assert dense.get_input_shape_at(0) == (None, 3)
    assert dense.get_input_shape_at(1) == (None, 5, 3)
    assert dense.get_output_shape_at(0) == (None, 4)
    assert dense.get_output_shape_at(1) == (None, 5, 4)
    with pytest.raises(ValueError, match="Asked to get input at node 2, but the layer has only 2 "
                                         "inbound nodes"):
        dense.get_input_at(2)
    with pytest.raises(ValueError, match="Asked to get output shape at node 5"):
        dense.get_output_shape_at(5)


def test_input_and_output_of_a_layer_with_several_nodes_is_a_keras_error():
    dense = shared_dense_called_twice()[0]
    with pytest.raises(AttributeError, match=r'Layer shared has multiple inbound nodes, hence the '
                                             r'notion of "layer input" is ill-defined\. Use '
                                             r"`get_input_at\(node_index\)` instead\."):
        dense.input
    with pytest.raises(AttributeError, match=r'notion of "layer output" is ill-defined\. Use '
                                             r"`get_output_at\(node_index\)` instead\."):
        dense.output
    with pytest.raises(AttributeError, match='The layer "shared" has multiple inbound nodes, with '
                                             'different output shapes'):
        dense.output_shape


def test_input_and_output_of_a_layer_with_one_node():
    x = Input(shape=(4,))
    dense = Dense(3)
    y = dense(x)
    assert dense.input is x and dense.output is y
    assert dense.input_shape == (None, 4) and dense.output_shape == (None, 3)
    merged_inputs = [Input(shape=(2,)), Input(shape=(2,))]
    add = layers.Add()
    s = add(merged_inputs)
    assert add.input == merged_inputs and add.output is s  # several inputs: a list
    with pytest.raises(AttributeError, match="is not connected, no input to return"):
        Dense(2).input
    with pytest.raises(RuntimeError, match="The layer never has never been called and thus has "
                                           "no defined output shape"):
        Dense(2, name="never").get_output_shape_at(0)


# ------------------------------------------------------------------ Input / InputLayer in code

def test_input_with_batch_size_name_and_dtype():
    tokens = Input(shape=(3,), batch_size=8, name="tokens", dtype="int32")
    assert tokens.shape == (8, 3) and tokens.dtype == "int32" and tokens.name == "tokens"
    input_layer = tokens._keras_history.layer
    assert isinstance(input_layer, InputLayer) and input_layer.name == "tokens"
    assert input_layer.get_config()["batch_input_shape"] == [8, 3]
    assert input_layer.get_config()["dtype"] == "int32"
    embed = layers.Embedding(5, 2)
    model = Model(tokens, embed(tokens))
    assert model.input_names == ["tokens"] and model.input_shape == (8, 3)
    table = np.arange(10, dtype="float32").reshape(5, 2)
    embed.set_weights([table])
    ids = np.array([[0, 4, 2]] * 8)
    np.testing.assert_array_equal(np_of(model(ids)), table[ids])
    assert model({"tokens": ids}).shape == (8, 3, 2)


def test_input_layer_with_batch_input_shape_in_code():
    model = Sequential([InputLayer(batch_input_shape=(None, 4), name="features"), Dense(2)])
    assert model.input_shape == (None, 4) and model.output_shape == (None, 2)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"]  # as in Keras
    first = model.get_config()["layers"][0]
    assert first["class_name"] == "InputLayer"
    assert first["config"]["batch_input_shape"] == [None, 4]
    assert first["config"]["name"] == "features"
    fixed = Sequential([InputLayer(batch_input_shape=(5, 4)), Dense(2)])
    assert fixed.input_shape == (5, 4)
    input_layer = InputLayer(input_shape=(6,), batch_size=3, dtype="float64")
    assert input_layer.output.shape == (3, 6) and input_layer.output.dtype == "float64"
    functional = Model(input_layer.output, Dense(1)(input_layer.output))
    assert functional.input_shape == (3, 6)


# ------------------------------------------------------------------ learning phase

def test_learning_phase_getter_before_and_after_setting_it():
    assert K.learning_phase() == 0
    dropout = layers.Dropout(0.5)
    ones = np.ones((4, 50), "float32")
    np.testing.assert_array_equal(np_of(dropout(ones)), ones)  # test phase: identity
    K.set_learning_phase(1)
    assert K.learning_phase() == 1
    out = np_of(dropout(ones))
    assert set(np.unique(out)) == {0.0, 2.0}  # training phase: a dropout mask
    np.testing.assert_array_equal(np_of(dropout(ones, training=False)), ones)  # explicit wins
    K.set_learning_phase(0)
    assert K.learning_phase() == 0
    K.set_learning_phase(1)
    K.clear_session()
    assert K.learning_phase() == 0


# ------------------------------------------------------------------ ActivityRegularization

X_ACT = np.array([[1.0, -2.0], [3.0, 0.0]], "float32")
# l1 * sum|x| + l2 * sum x^2 over the batch, divided by the batch size (as tf-keras):
# (0.1 * 6 + 0.01 * 14) / 2 = 0.37
ACT_PENALTY = (0.1 * 6.0 + 0.01 * 14.0) / 2


def test_activity_regularization_penalty_in_layer_losses():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    out = layer(X_ACT)
    np.testing.assert_array_equal(np_of(out), X_ACT)  # the identity on values
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(ACT_PENALTY, rel=1e-6)
    layer(X_ACT[:1])  # a new call replaces the penalty: (0.1 * 3 + 0.01 * 5) / 1
    assert [float(v) for v in layer.losses] == pytest.approx([0.35], rel=1e-6)


@pytest.mark.parametrize("l1,l2", [(0.1, 0.0), (0.0, 0.01), (0.1, 0.01)])
def test_activity_regularization_penalty_in_model_losses_and_loss(l1, l2):
    inputs = Input(shape=(2,))
    model = Model(inputs, layers.ActivityRegularization(l1=l1, l2=l2)(inputs))
    model(X_ACT)
    penalty = (l1 * np.abs(X_ACT).sum() + l2 * np.square(X_ACT).sum()) / len(X_ACT)
    assert [float(v) for v in model.losses] == pytest.approx([penalty], rel=1e-6)
    model.compile(loss="mse")
    mse = np.mean(np.square(X_ACT))  # targets are zeros
    assert model.evaluate(X_ACT, np.zeros_like(X_ACT), batch_size=2, verbose=0) == \
        pytest.approx(mse + penalty, rel=1e-6)


def test_activity_regularization_config():
    layer = layers.ActivityRegularization(l1=0.2, l2=0.05)
    config = layer.get_config()
    assert config["l1"] == 0.2 and config["l2"] == 0.05
    clone = layers.ActivityRegularization.from_config(config)
    clone(X_ACT)
    expected = (0.2 * 6.0 + 0.05 * 14.0) / 2
    assert float(clone.losses[0]) == pytest.approx(expected, rel=1e-6)


# ------------------------------------------------------------------ SpatialDropout2D / 3D

SPATIAL_CASES = [
    (layers.SpatialDropout2D, "channels_last", (4, 3, 5, 16)),
    (layers.SpatialDropout2D, "channels_first", (4, 16, 3, 5)),
    (layers.SpatialDropout3D, "channels_last", (4, 2, 3, 2, 16)),
    (layers.SpatialDropout3D, "channels_first", (4, 16, 2, 3, 2)),
]


def per_channel_factors(out, x, data_format):
    """out / x with the channel axis moved last, reshaped to (batch, spatial, channels)."""
    ratio = out / x
    if data_format == "channels_first":
        ratio = np.moveaxis(ratio, 1, -1)
    return ratio.reshape(ratio.shape[0], -1, ratio.shape[-1])


@pytest.mark.parametrize("cls,data_format,shape", SPATIAL_CASES,
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_spatial_dropout_drops_whole_channels_in_training(cls, data_format, shape):
    rate = 0.25
    x = np.random.default_rng(0).uniform(0.5, 2.0, size=shape).astype("float32")
    layer = cls(rate, data_format=data_format, seed=1)
    out = np_of(layer(x, training=True))
    factors = per_channel_factors(out, x, data_format)
    # one factor per (sample, channel), the same at every spatial position ...
    np.testing.assert_allclose(factors, np.broadcast_to(factors[:, :1, :], factors.shape),
                               rtol=1e-6)
    kept = factors[:, 0, :]
    # ... either 0 (dropped) or 1 / (1 - rate) (kept, scaled)
    dropped = kept == 0
    np.testing.assert_allclose(kept[~dropped], 1.0 / (1.0 - rate), rtol=1e-6)
    assert 0 < dropped.sum() < dropped.size  # 64 channel maps: both happen
    np.testing.assert_array_equal(np_of(layer(x, training=False)), x)


def test_spatial_dropout_follows_image_data_format_by_default():
    K.set_image_data_format("channels_first")
    try:
        layer = layers.SpatialDropout2D(0.5, seed=2)
    finally:
        K.set_image_data_format("channels_last")
    assert layer.data_format == "channels_first"
    x = np.ones((2, 8, 3, 3), "float32")
    factors = per_channel_factors(np_of(layer(x, training=True)), x, "channels_first")
    np.testing.assert_allclose(factors, np.broadcast_to(factors[:, :1, :], factors.shape))


# ------------------------------------------------------------------ Sequential: one output per layer

class SplitInTwo(layers.Layer):
    """A layer with two outputs."""

    def call(self, inputs):
        return [inputs[:, :2], inputs[:, 2:]]


SINGLE_OUTPUT_ERROR = ("All layers in a Sequential model should have a single output tensor. "
                       "For multi-output layers, use the functional API.")


def two_output_model():
    inputs = Input(shape=(4,))
    return Model(inputs, [Dense(1)(inputs), Dense(2)(inputs)])


@pytest.mark.parametrize("build", [
    lambda: Sequential([Input(shape=(4,)), SplitInTwo()]),
    lambda: Sequential([Dense(4, input_shape=(3,)), SplitInTwo()]),
    lambda: Sequential([Input(shape=(4,)), two_output_model()]),
    lambda: Sequential([SplitInTwo()]).build((None, 4)),
    lambda: Sequential([SplitInTwo()])(np.ones((2, 4), "float32")),
], ids=["after_input", "after_dense", "two_output_model", "deferred_build", "deferred_call"])
def test_sequential_refuses_a_multi_output_layer(build):
    with pytest.raises(ValueError, match=SINGLE_OUTPUT_ERROR):
        build()


def test_a_refused_layer_leaves_the_sequential_model_unchanged():
    model = Sequential([Input(shape=(4,)), Dense(4, name="kept")])
    with pytest.raises(ValueError, match=SINGLE_OUTPUT_ERROR):
        model.add(SplitInTwo(name="refused"))
    assert [layer.name for layer in model.layers] == ["kept"]


def test_lambda_config_keys_follow_tf_keras():
    """tf-keras's Lambda config: function, output shape, the mask keys only when a mask is
    set, then arguments."""
    plain = layers.Lambda(lambda x: x * 2.0).get_config()
    keys = [k for k in plain if k not in ("name", "trainable", "dtype")]
    assert keys == ["function", "function_type", "module", "output_shape", "output_shape_type",
                    "output_shape_module", "arguments"]
    masked = layers.Lambda(lambda x: x, mask=lambda x, m: m).get_config()
    keys = [k for k in masked if k not in ("name", "trainable", "dtype")]
    assert keys[-4:] == ["mask", "mask_type", "mask_module", "arguments"]
