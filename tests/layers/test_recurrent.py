"""Recurrent layers: the shared contract on every class, numbers against numpy
re-implementations of Keras's formulas, the fused and step-loop paths, masks, states,
stateful layers, the cuDNN weight layouts and the seed examples."""
import json

import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

from tkeras import layers
from tkeras.layers import Input
from tkeras.layers.recurrent import cudnn_to_keras_weights, keras_to_cudnn_weights
from tkeras.models import Model, Sequential, model_from_json
from tkeras.saving import register_keras_serializable
from tkeras.utils import TkerasDeprecationWarning

# ------------------------------------------------------------------ a custom Keras 2 cell

@register_keras_serializable(package="test_recurrent")
class MinimalRNNCell(layers.Layer):
    """The custom cell of the Keras 2 RNN docs (state_size set before super().__init__)."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform",
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform", name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        output = torch.matmul(inputs, self.kernel) + torch.matmul(prev_output, self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


@register_keras_serializable(package="test_recurrent")
class ConstantCell(layers.Layer):
    """A cell that adds a constant (batch, units) tensor at every step."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        step_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        self.kernel = self.add_weight("kernel", shape=(step_shape[-1], self.units))
        self.built = True

    def call(self, inputs, states, constants=None):
        out = torch.matmul(inputs, self.kernel) + states[0] + constants[0]
        return out, [out]

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


# ------------------------------------------------------------------ the shared contract

CASES = [
    ("simple_rnn", lambda: layers.SimpleRNN(4), (3, 5, 2),
     expect((3, 4), weights=(3, 0), masking=True)),
    ("simple_rnn_seq_relu_back", lambda: layers.SimpleRNN(4, activation="relu", return_sequences=True,
                                                          go_backwards=True), (3, 5, 2),
     expect((3, 5, 4), weights=(3, 0))),
    ("simple_rnn_dropout", lambda: layers.SimpleRNN(4, dropout=0.3, recurrent_dropout=0.3), (3, 5, 2),
     expect((3, 4), weights=(3, 0))),
    ("simple_rnn_state", lambda: layers.SimpleRNN(3, return_state=True), (2, 4, 3),
     expect([(2, 3), (2, 3)], weights=(3, 0))),
    ("gru", lambda: layers.GRU(4), (3, 5, 2),
     expect((3, 4), weights=(3, 0), masking=True)),
    ("gru_reset_before_seq", lambda: layers.GRU(3, reset_after=False, return_sequences=True), (3, 5, 2),
     expect((3, 5, 3), weights=(3, 0))),
    ("gru_state_back", lambda: layers.GRU(3, return_state=True, go_backwards=True), (2, 4, 3),
     expect([(2, 3), (2, 3)], weights=(3, 0))),
    ("gru_impl1_dropout", lambda: layers.GRU(3, implementation=1, dropout=0.2,
                                             recurrent_dropout=0.2), (2, 4, 3),
     expect((2, 3), weights=(3, 0))),
    ("lstm", lambda: layers.LSTM(4), (3, 5, 2),
     expect((3, 4), weights=(3, 0), masking=True)),
    ("lstm_seq", lambda: layers.LSTM(3, return_sequences=True), (3, 5, 2),
     expect((3, 5, 3), weights=(3, 0))),
    ("lstm_state", lambda: layers.LSTM(3, return_state=True), (2, 4, 3),
     expect([(2, 3), (2, 3), (2, 3)], weights=(3, 0))),
    ("lstm_back_seq", lambda: layers.LSTM(3, go_backwards=True, return_sequences=True), (2, 4, 3),
     expect((2, 4, 3), weights=(3, 0))),
    ("lstm_hard_sigmoid", lambda: layers.LSTM(3, recurrent_activation="hard_sigmoid"), (2, 4, 3),
     expect((2, 3), weights=(3, 0))),
    ("lstm_no_bias", lambda: layers.LSTM(3, use_bias=False), (2, 4, 3),
     expect((2, 3), weights=(2, 0))),
    ("lstm_impl1_dropout", lambda: layers.LSTM(3, implementation=1, dropout=0.2,
                                               recurrent_dropout=0.2), (2, 4, 3),
     expect((2, 3), weights=(3, 0))),
    ("lstm_time_major", lambda: layers.LSTM(3, time_major=True, return_sequences=True), (4, 2, 3),
     expect((4, 2, 3), weights=(3, 0))),
    ("lstm_unroll", lambda: layers.LSTM(3, unroll=True), (2, 4, 3),
     expect((2, 3), weights=(3, 0))),
    ("rnn_lstm_cell", lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True), (2, 4, 3),
     expect((2, 4, 3), weights=(3, 0), masking=True)),
    ("rnn_stacked", lambda: layers.RNN([layers.GRUCell(3), layers.SimpleRNNCell(2)]), (2, 4, 3),
     expect((2, 2), weights=(6, 0))),
    ("rnn_stacked_state", lambda: layers.RNN(layers.StackedRNNCells(
        [layers.LSTMCell(3), layers.LSTMCell(2)]), return_state=True), (2, 4, 3),
     expect([(2, 2), (2, 3), (2, 3), (2, 2), (2, 2)], weights=(6, 0))),
    ("rnn_custom_cell", lambda: layers.RNN(MinimalRNNCell(3), return_sequences=True), (2, 4, 3),
     expect((2, 4, 3), weights=(2, 0))),
    ("cudnn_lstm", lambda: layers.CuDNNLSTM(4, return_sequences=True), (3, 5, 2),
     expect((3, 5, 4), weights=(3, 0))),
    ("cudnn_lstm_state", lambda: layers.CuDNNLSTM(3, return_state=True, go_backwards=True), (2, 4, 3),
     expect([(2, 3), (2, 3), (2, 3)], weights=(3, 0))),
    ("cudnn_gru", lambda: layers.CuDNNGRU(4), (3, 5, 2),
     expect((3, 4), weights=(3, 0))),
    ("conv_lstm2d_same", lambda: layers.ConvLSTM2D(2, 3, padding="same"), (2, 3, 5, 5, 2),
     expect((2, 5, 5, 2), weights=(3, 0))),
    ("conv_lstm2d_valid_seq", lambda: layers.ConvLSTM2D(2, (2, 3), strides=(2, 1),
                                                        return_sequences=True), (2, 3, 6, 5, 2),
     expect((2, 3, 3, 3, 2), weights=(3, 0))),
    ("conv_lstm2d_channels_first", lambda: layers.ConvLSTM2D(
        2, 3, padding="same", data_format="channels_first", return_state=True), (2, 3, 2, 4, 4),
     expect([(2, 2, 4, 4)] * 3, weights=(3, 0))),
    ("conv_lstm2d_dropout", lambda: layers.ConvLSTM2D(2, 2, dropout=0.2, recurrent_dropout=0.2),
     (2, 3, 4, 4, 2), expect((2, 3, 3, 2), weights=(3, 0))),
]


@pytest.mark.parametrize("name,factory,shape,expected", CASES, ids=[c[0] for c in CASES])
def test_recurrent_layer_contract(name, factory, shape, expected):
    check_layer(factory, shape, tol=1e-5, **expected)


# ------------------------------------------------------------------ numpy references

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _np_rnn(step, x, states, mask=None, go_backwards=False):
    """Keras's time loop: masked steps keep the states and repeat the previous output."""
    steps = x.shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    outputs, previous = [], None
    for t in order:
        out, new_states = step(x[:, t], states)
        if mask is not None:
            keep = mask[:, t][:, None]
            new_states = [np.where(keep, n, s) for n, s in zip(new_states, states)]
            previous = np.zeros_like(out) if previous is None else previous
            out = np.where(keep, out, previous)
            previous = out
        states = new_states
        outputs.append(out)
    return np.stack(outputs, axis=1), states


def _np_lstm(x, kernel, recurrent, bias, ract=_sigmoid, **kw):
    u = recurrent.shape[0]

    def step(xt, states):
        h, c = states
        z = xt @ kernel + h @ recurrent + bias
        i, f, cc, o = ract(z[:, :u]), ract(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), ract(z[:, 3 * u:])
        c = f * c + i * cc
        h = o * np.tanh(c)
        return h, [h, c]
    zeros = np.zeros((x.shape[0], u))
    return _np_rnn(step, x, [zeros, zeros], **kw)


def _np_gru(x, kernel, recurrent, bias, reset_after=True, **kw):
    u = recurrent.shape[0]

    def step(xt, states):
        h = states[0]
        if reset_after:
            mx = xt @ kernel + bias[0]
            mi = h @ recurrent + bias[1]
            z = _sigmoid(mx[:, :u] + mi[:, :u])
            r = _sigmoid(mx[:, u:2 * u] + mi[:, u:2 * u])
            hh = np.tanh(mx[:, 2 * u:] + r * mi[:, 2 * u:])
        else:
            mx = xt @ kernel + bias
            z = _sigmoid(mx[:, :u] + h @ recurrent[:, :u])
            r = _sigmoid(mx[:, u:2 * u] + h @ recurrent[:, u:2 * u])
            hh = np.tanh(mx[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
        h = z * h + (1 - z) * hh
        return h, [h]
    return _np_rnn(step, x, [np.zeros((x.shape[0], u))], **kw)


def _np_simple(x, kernel, recurrent, bias, act=np.tanh, **kw):
    def step(xt, states):
        h = act(xt @ kernel + states[0] @ recurrent + bias)
        return h, [h]
    return _np_rnn(step, x, [np.zeros((x.shape[0], recurrent.shape[0]))], **kw)


def _random_weights(layer, seed=0):
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.uniform(-0.8, 0.8, w.shape).astype("float32") for w in layer.get_weights()])
    return [w.astype("float64") for w in layer.get_weights()]


def _run(layer, x, mask=None, fused=True):
    layer._allow_fused = fused
    kwargs = {} if mask is None else {"mask": torch.as_tensor(mask)}
    with torch.no_grad():
        return layer(torch.as_tensor(x), **kwargs).numpy()


X = np.random.RandomState(1).standard_normal((3, 6, 4)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0]], dtype=bool)

NUMERIC = [
    ("lstm", lambda **kw: layers.LSTM(5, return_sequences=True, **kw), _np_lstm),
    ("lstm_hard_sigmoid", lambda **kw: layers.LSTM(5, return_sequences=True,
                                                   recurrent_activation="hard_sigmoid", **kw),
     lambda x, *w, **kw: _np_lstm(x, *w, ract=_hard_sigmoid, **kw)),
    ("gru_reset_after", lambda **kw: layers.GRU(5, return_sequences=True, **kw), _np_gru),
    ("gru_reset_before", lambda **kw: layers.GRU(5, return_sequences=True, reset_after=False, **kw),
     lambda x, *w, **kw: _np_gru(x, *w, reset_after=False, **kw)),
    ("simple_rnn_tanh", lambda **kw: layers.SimpleRNN(5, return_sequences=True, **kw), _np_simple),
    ("simple_rnn_relu", lambda **kw: layers.SimpleRNN(5, activation="relu", return_sequences=True, **kw),
     lambda x, *w, **kw: _np_simple(x, *w, act=lambda v: np.maximum(v, 0), **kw)),
]


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("name,factory,reference", NUMERIC, ids=[c[0] for c in NUMERIC])
def test_numbers_match_numpy(name, factory, reference, fused, use_mask, go_backwards):
    layer = factory(go_backwards=go_backwards)
    layer(X)
    weights = _random_weights(layer)
    mask = MASK if use_mask else None
    expected, _ = reference(X.astype("float64"), *weights, mask=mask, go_backwards=go_backwards)
    np.testing.assert_allclose(_run(layer, X, mask, fused), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("factory", [
    lambda: layers.LSTM(6, return_sequences=True, return_state=True),
    lambda: layers.GRU(6, return_sequences=True, return_state=True, go_backwards=True),
    lambda: layers.SimpleRNN(6, return_sequences=True, return_state=True),
    lambda: layers.SimpleRNN(6, activation="relu", return_state=True, use_bias=False),
    lambda: layers.LSTM(6, return_state=True, use_bias=False, go_backwards=True),
], ids=["lstm", "gru_back", "simple_tanh", "simple_relu_nobias", "lstm_nobias_back"])
def test_fused_and_step_loop_agree_with_gradients(factory):
    """The fused torch kernel and the cell-by-cell loop: same outputs, states and gradients."""
    layer = factory()
    x = torch.randn(4, 7, 3)
    layer(x)
    _random_weights(layer, seed=3)
    results = []
    for fused in (True, False):
        layer._allow_fused = fused
        outs = layer(x)
        loss = sum((o ** 2).sum() for o in outs)
        grads = torch.autograd.grad(loss, layer.trainable_weights)
        results.append(([o.detach().numpy() for o in outs], [g.numpy() for g in grads]))
    for a, b in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fused_kernel_is_used_only_when_exact(monkeypatch):
    calls = []
    real = torch.lstm

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(torch, "lstm", spy)
    x = torch.randn(2, 4, 3)
    layers.LSTM(3)(x)
    assert len(calls) == 1
    layers.LSTM(3, recurrent_activation="hard_sigmoid")(x)
    layers.LSTM(3)(x, mask=torch.ones(2, 4, dtype=torch.bool))
    layers.LSTM(3, recurrent_dropout=0.5)(x, training=True)
    assert len(calls) == 1
    layers.LSTM(3, recurrent_dropout=0.5)(x, training=False)  # no dropout at inference
    layers.LSTM(3, dropout=0.5)(x, training=True)  # input dropout: one mask per sequence
    assert len(calls) == 3


def test_masked_outputs_repeat_and_mask_propagates():
    """Masked steps: states kept, output repeats the previous step (zeros before the first)."""
    inp = Input(shape=(6, 4))
    masked = layers.Masking(0.0)(inp)
    seq = layers.LSTM(3, return_sequences=True)(masked)
    last = layers.LSTM(3)(masked)
    model = Model(inp, [seq, last])
    x = X.copy()
    x[~MASK] = 0.0
    out_seq, out_last = model(x)
    assert torch.equal(out_seq._keras_mask, torch.as_tensor(MASK))
    assert getattr(out_last, "_keras_mask", None) is None
    s = out_seq.detach().numpy()
    np.testing.assert_array_equal(s[1, :2], 0.0)  # before the first unmasked step
    np.testing.assert_array_equal(s[0, 4], s[0, 3])  # trailing padding repeats
    np.testing.assert_array_equal(s[2, 2], s[2, 1])  # interior masked step
    layer_seq, layer_last = model.layers[2], model.layers[3]
    w = [v.astype("float64") for v in layer_last.get_weights()]
    expected, _ = _np_lstm(x.astype("float64"), *w, mask=MASK)
    np.testing.assert_allclose(out_last.detach().numpy(), expected[:, -1], rtol=1e-5, atol=1e-6)
    assert layer_seq.compute_mask(None, torch.as_tensor(MASK)) is not None


def test_return_state_counts_per_layer():
    """Seed 001: SimpleRNN returns one state, GRU one, LSTM two."""
    x = np.zeros((2, 5, 3), "float32")
    assert len(layers.SimpleRNN(4, return_state=True)(x)) == 2
    assert len(layers.GRU(4, return_state=True)(x)) == 2
    outputs = layers.LSTM(4, return_state=True)(x)
    assert len(outputs) == 3 and all(o.shape == (2, 4) for o in outputs)
    inp = Input(shape=(5, 3))
    sym = layers.LSTM(4, return_state=True, return_sequences=True)(inp)
    assert [t.shape for t in sym] == [(None, 5, 4), (None, 4), (None, 4)]


def test_lstm_state_is_last_output():
    out, h, c = layers.LSTM(4, return_state=True)(X)
    np.testing.assert_array_equal(out.detach().numpy(), h.detach().numpy())


# ------------------------------------------------------------------ initial_state / constants

def test_initial_state_kwarg_positional_and_packed_agree():
    layer = layers.LSTM(4)
    h0 = np.random.RandomState(0).standard_normal((3, 4)).astype("float32")
    c0 = np.random.RandomState(1).standard_normal((3, 4)).astype("float32")
    a = layer(X, initial_state=[h0, c0]).detach().numpy()
    b = layer(X, [h0, c0]).detach().numpy()
    c = layer([X, h0, c0]).detach().numpy()
    w = [v.astype("float64") for v in layer.get_weights()]
    u = 4

    def step(xt, states):
        h, cc = states
        z = xt @ w[0] + h @ w[1] + w[2]
        i, f, g, o = (_sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]),
                      _sigmoid(z[:, 3 * u:]))
        cc = f * cc + i * g
        h = o * np.tanh(cc)
        return h, [h, cc]
    expected, _ = _np_rnn(step, X.astype("float64"), [h0.astype("float64"), c0.astype("float64")])
    np.testing.assert_allclose(a, expected[:, -1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.allclose(a, layer(X).detach().numpy())


def test_symbolic_initial_state_in_functional_model_and_json():
    x_in = Input(shape=(6, 4))
    h_in, c_in = Input(shape=(5,)), Input(shape=(5,))
    out = layers.LSTM(5, name="lstm_with_state")(x_in, initial_state=[h_in, c_in])
    model = Model([x_in, h_in, c_in], out)
    h0 = np.ones((3, 5), "float32") * 0.5
    c0 = -np.ones((3, 5), "float32")
    lstm = model.get_layer("lstm_with_state")
    expected = lstm(X, initial_state=[h0, c0]).detach().numpy()
    np.testing.assert_allclose(model([X, h0, c0]).detach().numpy(), expected, rtol=1e-6)
    clone = model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone([X, h0, c0]).detach().numpy(), expected, rtol=1e-6)


def test_constants_reach_the_cell():
    cell = ConstantCell(2)
    layer = layers.RNN(cell, return_sequences=True)
    x = np.ones((2, 3, 1), "float32")
    const = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    out = layer(x, constants=[const]).detach().numpy()
    k = layer.get_weights()[0].astype("float64")
    h = np.zeros((2, 2))
    for t in range(3):
        h = x[:, t] @ k + h + const
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5)
    inp, c_in = Input(shape=(3, 1)), Input(shape=(2,))
    sym = layers.RNN(ConstantCell(2))(inp, constants=c_in)
    assert sym.shape == (None, 2)
    with pytest.raises(ValueError, match="does not support constants"):
        layers.LSTM(2)(x, constants=[const])


def test_rnn_with_custom_cell_matches_its_formula():
    cell = MinimalRNNCell(3)
    layer = layers.RNN(cell, return_sequences=True)
    out = layer(X).detach().numpy()
    k, r = [w.astype("float64") for w in layer.get_weights()]
    h = np.zeros((3, 3))
    for t in range(X.shape[1]):
        h = X[:, t] @ k + h @ r
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ stateful

def test_stateful_lstm_keeps_states_between_batches_and_resets():
    """Seed 001: LSTM(32, input_shape=(10, 16), batch_size=32, stateful=True)."""
    model = Sequential([layers.LSTM(32, input_shape=(10, 16), batch_size=32, stateful=True)])
    assert model.layers[0].get_config()["batch_input_shape"] == [32, 10, 16]
    rng = np.random.RandomState(0)
    x1, x2 = (rng.standard_normal((32, 10, 16)).astype("float32") for _ in range(2))
    first = model(x1).detach().numpy()
    second = model(x2).detach().numpy()
    plain = layers.LSTM(32)
    plain(x1)
    plain.set_weights(model.get_weights())
    joined = np.concatenate([x1, x2], axis=1)
    np.testing.assert_allclose(second, plain(joined).detach().numpy(), rtol=1e-5, atol=1e-6)
    model.reset_states()
    assert all(float(s.abs().max()) == 0.0 for s in model.layers[0].states)
    np.testing.assert_allclose(model(x1).detach().numpy(), first, rtol=1e-6)


def test_stateful_reset_states_with_values_and_errors():
    layer = layers.GRU(3, stateful=True)
    layer(np.zeros((2, 4, 5), "float32"))
    h = np.arange(6, dtype="float32").reshape(2, 3)
    layer.reset_states([h])
    np.testing.assert_array_equal(layer.states[0].numpy(), h)
    with pytest.raises(ValueError, match="expected shape=\\(2, 3\\)"):
        layer.reset_states([np.zeros((3, 3))])
    with pytest.raises(ValueError, match="expects 1 state"):
        layer.reset_states([h, h])
    with pytest.raises(ValueError, match="batch size 2"):
        layer(np.zeros((5, 4, 5), "float32"))
    with pytest.raises(AttributeError, match="must be stateful"):
        layers.GRU(3).reset_states()


def test_stateful_needs_a_fixed_batch_size():
    with pytest.raises(ValueError, match="needs to know its batch size"):
        layers.LSTM(4, stateful=True)(Input(shape=(5, 3)))
    with pytest.raises(ValueError, match="batch_input_shape"):
        Sequential([layers.LSTM(4, stateful=True, input_shape=(5, 3))])


# ------------------------------------------------------------------ errors

def test_input_rank_and_state_count_errors():
    with pytest.raises(ValueError, match='layer "lstm.*expected ndim=3, found ndim=2'):
        layers.LSTM(4)(Input(shape=(5,)))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        layers.GRU(4)(np.zeros((2, 3, 4, 5), "float32"))
    with pytest.raises(ValueError, match="expects 2 initial state"):
        layers.LSTM(4)(X, initial_state=[np.zeros((3, 4), "float32")])
    with pytest.raises(ValueError, match="expects 1 initial state"):
        layers.GRU(4)(Input(shape=(6, 4)), initial_state=[Input(shape=(4,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match="has shape \\(3, 5\\), but the layer expects \\(3, 4\\)"):
        layers.GRU(4)(X, initial_state=[np.zeros((3, 5), "float32")])
    built = layers.SimpleRNN(2)
    built(X)
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        built(np.zeros((3, 6, 5), "float32"))
    with pytest.raises(ValueError, match="`units`"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="`dropout`"):
        layers.GRU(3, dropout=1.5)
    with pytest.raises(ValueError, match="should have a `call` method"):
        layers.RNN(object())
    with pytest.raises(ValueError, match="`state_size` attribute"):
        layers.RNN(layers.Dense(2))


# ------------------------------------------------------------------ dropout

def test_dropout_only_in_training_and_fixed_per_sequence():
    layer = layers.SimpleRNN(6, activation="relu", dropout=0.5, return_sequences=True)
    x = np.ones((4, 5, 6), "float32")
    layer(x)
    layer.set_weights([np.eye(6, dtype="float32"), np.zeros((6, 6), "float32"),
                       np.zeros(6, "float32")])
    np.testing.assert_array_equal(layer(x, training=False).detach().numpy(), x)
    for fused in (True, False):
        layer._allow_fused = fused
        out = layer(x, training=True).detach().numpy()
        # output_t = relu(x_t * mask): the same mask at every step, entries 0 or 2
        assert set(np.unique(out)) <= {0.0, 2.0}
        np.testing.assert_array_equal(out, np.repeat(out[:, :1], 5, axis=1))


# ------------------------------------------------------------------ names and configs

def test_weight_names_follow_keras():
    lstm = layers.LSTM(2)
    lstm(X)
    assert [w._keras_name for w in lstm.weights] == [
        "lstm/lstm_cell/kernel:0", "lstm/lstm_cell/recurrent_kernel:0", "lstm/lstm_cell/bias:0"]
    stacked = layers.RNN([layers.GRUCell(2), layers.SimpleRNNCell(2)])
    stacked(X)
    assert [w._keras_name for w in stacked.weights][:1] == ["rnn/stacked_rnn_cells/gru_cell/kernel:0"]
    assert stacked.weights[3]._keras_name == "rnn/stacked_rnn_cells/simple_rnn_cell/kernel:0"
    cudnn = layers.CuDNNLSTM(2)
    cudnn(X)
    assert [w._keras_name for w in cudnn.weights] == [
        "cu_dnnlstm/kernel:0", "cu_dnnlstm/recurrent_kernel:0", "cu_dnnlstm/bias:0"]
    assert [tuple(w.shape) for w in cudnn.weights] == [(4, 8), (2, 8), (16,)]
    conv = layers.ConvLSTM2D(2, 3)
    conv(np.zeros((1, 2, 4, 4, 3), "float32"))
    assert [w._keras_name for w in conv.weights] == [
        "conv_lstm2d/kernel:0", "conv_lstm2d/recurrent_kernel:0", "conv_lstm2d/bias:0"]


def test_unit_forget_bias_initializes_forget_gate_to_one():
    lstm = layers.LSTM(3)
    lstm(X)
    np.testing.assert_array_equal(lstm.get_weights()[2], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    cudnn = layers.CuDNNLSTM(2)
    cudnn(X)
    expected = np.zeros(16)
    expected[10:12] = 1.0  # the recurrent bias block of the forget gate (Keras 2)
    np.testing.assert_array_equal(cudnn.get_weights()[2], expected)


def test_layer_attributes_delegate_to_cell_and_config_is_flat():
    layer = layers.GRU(3, reset_after=False, dropout=0.25)
    assert (layer.units, layer.reset_after, layer.dropout) == (3, False, 0.25)
    config = layer.get_config()
    assert "cell" not in config and config["units"] == 3 and config["reset_after"] is False
    assert "activity_regularizer" in config and "implementation" in config
    assert "implementation" not in layers.SimpleRNN(2).get_config()
    rnn_config = layers.RNN(layers.LSTMCell(2)).get_config()
    assert rnn_config["cell"]["class_name"] == "LSTMCell"
    assert json.loads(json.dumps(rnn_config)) == rnn_config


# ------------------------------------------------------------------ cuDNN layouts

def test_cudnn_lstm_layout_matches_the_cudnn_formula():
    """Keras 2 CuDNNLSTM: each gate block of the kernel is cuDNN's raw (units, in) matrix."""
    layer = layers.CuDNNLSTM(3, return_sequences=True)
    layer(X)
    kernel, recurrent, bias = _random_weights(layer, seed=5)
    u, d = 3, X.shape[-1]
    w_ih = [kernel[:, g * u:(g + 1) * u].reshape(-1).reshape(u, d) for g in range(4)]
    w_hh = [recurrent[:, g * u:(g + 1) * u].reshape(-1).reshape(u, u) for g in range(4)]
    b = bias[:4 * u] + bias[4 * u:]
    plain_kernel = np.concatenate([w.T for w in w_ih], axis=1)
    plain_recurrent = np.concatenate([w.T for w in w_hh], axis=1)
    expected, _ = _np_lstm(X.astype("float64"), plain_kernel, plain_recurrent, b)
    np.testing.assert_allclose(_run(layer, X), expected, rtol=1e-5, atol=1e-6)


def test_cudnn_conversions_follow_keras2_and_round_trip():
    rng = np.random.RandomState(0)
    kernel, recurrent = rng.rand(5, 12), rng.rand(3, 12)
    bias8 = rng.rand(24)
    k, r, b = cudnn_to_keras_weights([kernel, recurrent, bias8], gates=4)
    # Keras 2's own transform of each gate block: kernel.T.reshape(kernel.shape, order='F')
    blocks = np.split(kernel, 4, axis=1)
    np.testing.assert_array_equal(k, np.concatenate(
        [blk.T.reshape(blk.shape, order="F") for blk in blocks], axis=1))
    np.testing.assert_array_equal(r, np.concatenate([blk.T for blk in np.split(recurrent, 4, 1)], 1))
    np.testing.assert_array_equal(b, bias8[:12] + bias8[12:])
    k2, r2, b2 = keras_to_cudnn_weights([k, r, b], gates=4)
    np.testing.assert_array_equal(k2, kernel)
    np.testing.assert_array_equal(r2, recurrent)
    np.testing.assert_allclose(b2[:12] + b2[12:], b)


@pytest.mark.parametrize("cudnn_cls,plain_factory", [
    (layers.CuDNNLSTM, lambda: layers.LSTM(4, return_sequences=True)),
    (layers.CuDNNGRU, lambda: layers.GRU(4, return_sequences=True)),
])
def test_cudnn_and_plain_layers_exchange_weights(cudnn_cls, plain_factory):
    cudnn = cudnn_cls(4, return_sequences=True)
    cudnn(X)
    _random_weights(cudnn, seed=2)
    plain = plain_factory()
    plain(X)
    plain.set_weights(cudnn.get_weights())  # Keras 2 cuDNN layout -> plain layout
    np.testing.assert_allclose(_run(plain, X), _run(cudnn, X), rtol=1e-5, atol=1e-6)
    other = cudnn_cls(4, return_sequences=True)
    other(X)
    other.set_weights(plain.get_weights())  # plain layout -> cuDNN layout
    np.testing.assert_allclose(_run(other, X), _run(cudnn, X), rtol=1e-5, atol=1e-6)


def test_cudnn_errors():
    with pytest.raises(ValueError, match="masking is not supported"):
        layers.CuDNNLSTM(2)(X, mask=torch.ones(3, 6, dtype=torch.bool))
    gru = layers.CuDNNGRU(2)
    gru(X)
    with pytest.raises(ValueError, match="reset_after=False"):
        gru.set_weights([np.zeros((4, 6)), np.zeros((2, 6)), np.zeros(6)])
    plain = layers.GRU(2, reset_after=False)
    plain(X)
    with pytest.raises(ValueError, match="reset_after=True"):
        plain.set_weights([np.zeros((4, 6)), np.zeros((2, 6)), np.zeros(12)])


# ------------------------------------------------------------------ ConvLSTM2D

def _np_conv_valid(x, kernel, stride):
    """(B, H, W, C) valid convolution with a (kh, kw, C, F) kernel, by hand."""
    kh, kw = kernel.shape[:2]
    rows = (x.shape[1] - kh) // stride[0] + 1
    cols = (x.shape[2] - kw) // stride[1] + 1
    out = np.zeros((x.shape[0], rows, cols, kernel.shape[-1]))
    for i in range(rows):
        for j in range(cols):
            patch = x[:, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw, :]
            out[:, i, j] = np.einsum("bhwc,hwcf->bf", patch, kernel)
    return out


def _np_conv_same(x, kernel):
    kh, kw = kernel.shape[:2]
    padded = np.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    return _np_conv_valid(padded, kernel, (1, 1))


def test_conv_lstm2d_matches_numpy_with_strides():
    layer = layers.ConvLSTM2D(2, (2, 3), strides=(2, 1), return_sequences=True)
    x = np.random.RandomState(0).standard_normal((2, 3, 5, 5, 2)).astype("float32")
    layer(x)
    kernel, recurrent, bias = _random_weights(layer, seed=1)
    h = np.zeros((2, 2, 3, 2))
    c = np.zeros_like(h)
    out = _run(layer, x)
    for t in range(3):
        z = _np_conv_valid(x[:, t].astype("float64"), kernel, (2, 1)) + bias + \
            _np_conv_same(h, recurrent)
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _hard_sigmoid(f) * c + _hard_sigmoid(i) * np.tanh(g)
        h = _hard_sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-5)


def test_conv_lstm2d_channels_first_equals_channels_last():
    x = np.random.RandomState(0).standard_normal((2, 3, 4, 4, 2)).astype("float32")
    last = layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    first = layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True,
                              data_format="channels_first")
    out_last = last(x)
    first(np.transpose(x, (0, 1, 4, 2, 3)))
    first.set_weights(last.get_weights())
    out_first = first(np.transpose(x, (0, 1, 4, 2, 3))).detach().numpy()
    np.testing.assert_allclose(np.transpose(out_first, (0, 1, 3, 4, 2)), out_last.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert first.compute_output_shape((None, 3, 2, 4, 4)) == (None, 3, 3, 4, 4)


# ------------------------------------------------------------------ seed 001 examples

def test_seed_stacked_lstm():
    model = Sequential()
    model.add(layers.LSTM(32, return_sequences=True, input_shape=(8, 16)))
    model.add(layers.LSTM(32, return_sequences=True))
    model.add(layers.LSTM(32))
    model.add(layers.Dense(10, activation="softmax"))
    assert model.output_shape == (None, 10)
    out = model(np.random.rand(5, 8, 16).astype("float32"))
    assert out.shape == (5, 10)
    np.testing.assert_allclose(out.sum(dim=1).detach().numpy(), 1.0, rtol=1e-5)


def test_seed_shared_lstm_on_two_inputs():
    tweet_a, tweet_b = Input(shape=(14, 25)), Input(shape=(14, 25))
    shared_lstm = layers.LSTM(64)
    encoded_a, encoded_b = shared_lstm(tweet_a), shared_lstm(tweet_b)
    merged = layers.concatenate([encoded_a, encoded_b], axis=-1)
    predictions = layers.Dense(1, activation="sigmoid")(merged)
    model = Model(inputs=[tweet_a, tweet_b], outputs=predictions)
    assert len(model.weights) == 5  # one LSTM's three weights, shared
    a = np.random.rand(3, 14, 25).astype("float32")
    b = np.random.rand(3, 14, 25).astype("float32")
    assert model([a, b]).shape == (3, 1)
    np.testing.assert_allclose(shared_lstm(a).detach().numpy(),
                               model.get_layer(index=2)(a).detach().numpy())


def test_seed_cudnn_lstm_then_time_distributed_dense():
    x_test = np.zeros(shape=(512, 10, 16), dtype="float32")
    ip = Input(shape=(10, 16))
    op = layers.CuDNNLSTM(32, input_shape=(10, 16), return_sequences=True)(ip)
    op = layers.TimeDistributed(layers.Dense(4))(op)
    with pytest.warns(TkerasDeprecationWarning, match="Update your `Model` call to the Keras 2 API"):
        model = Model(input=ip, output=op)  # the seed's spelling: Keras 2.3.1 warns
    assert model.predict(x_test).shape == (512, 10, 4)


def test_seed_stateful_lstm_with_time_distributed_dense():
    """Seed 001: a stateful LSTM(32, batch_size=32) with return_sequences and
    TimeDistributed(Dense(4)) gives (512, 10, 4); fit needs shuffle=False and a sample count
    the batch size divides."""
    rng = np.random.RandomState(0)
    x = rng.rand(512, 10, 16).astype("float32")
    ip = Input(shape=(10, 16), batch_size=32)
    op = layers.LSTM(32, return_sequences=True, stateful=True)(ip)
    model = Model(ip, layers.TimeDistributed(layers.Dense(4))(op))
    assert model.predict(x, batch_size=32).shape == (512, 10, 4)
    model.compile("adam", "mse")
    history = model.fit(x, rng.rand(512, 10, 4).astype("float32"), batch_size=32, epochs=1,
                        shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    states = [s.detach().clone() for s in model.layers[1].states]
    assert all(torch.count_nonzero(s) > 0 for s in states)  # carried from the last batch
    model.reset_states()
    assert all(torch.count_nonzero(s) == 0 for s in model.layers[1].states)
    with pytest.raises(ValueError, match="In a stateful network, you should only pass inputs "
                                         "with a number of samples that can be divided by the "
                                         "batch size. Found: 500 samples"):
        model.fit(x[:500], rng.rand(500, 10, 4).astype("float32"), batch_size=32, verbose=0)
    with pytest.raises(ValueError, match="Found: 100 samples"):
        model.predict(x[:100], batch_size=32)


# ------------------------------------------------------------------ Keras 2 compatibility

def test_input_dim_and_input_length_make_the_input_shape():
    model = Sequential([layers.LSTM(8, input_dim=16, input_length=10)])
    assert model.input_shape == (None, 10, 16) and model.output_shape == (None, 8)
    assert Sequential([layers.GRU(4, input_dim=3)]).input_shape == (None, None, 3)


def test_gru_config_without_reset_after_is_the_old_reset_before_gru():
    config = layers.GRU(3).get_config()
    del config["reset_after"]
    assert layers.GRU.from_config(config).reset_after is False
    assert layers.GRU.from_config(layers.GRU(3).get_config()).reset_after is True


def test_hdf5_weights_of_a_cudnn_model_load_into_an_lstm_model(tmp_path):
    def build(rnn):
        inp = Input(shape=(6, 4))
        return Model(inp, layers.Dense(2)(rnn(inp)))
    cudnn_model = build(layers.CuDNNLSTM(3, name="rnn"))
    _random_weights(cudnn_model.get_layer("rnn"), seed=4)
    path = str(tmp_path / "weights.h5")
    cudnn_model.save_weights(path)
    lstm_model = build(layers.LSTM(3, name="rnn"))
    lstm_model.load_weights(path)
    np.testing.assert_allclose(lstm_model(X).detach().numpy(), cudnn_model(X).detach().numpy(),
                               rtol=1e-5, atol=1e-6)



@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
def test_kernels_are_stored_in_the_fused_ops_layout(cls):
    """Keras shapes (in, gates*units), stored so that kernel.t() is the contiguous weight
    torch's fused RNN ops take; loading Keras weights keeps that layout."""
    layer = cls(3)
    layer(np.zeros((2, 4, 5), "float32"))
    cell = layer.cell
    assert tuple(cell.kernel.shape) == (5, 3 * cell._gates)
    assert cell.kernel.t().is_contiguous() and cell.recurrent_kernel.t().is_contiguous()
    values = [np.random.rand(*w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(values)
    assert cell.kernel.t().is_contiguous()
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, want)
