"""TimeDistributed and Bidirectional: the shared contract, numbers against the wrapped
layers run by hand, masks, states, names, configs and the seed examples."""
import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

from tkeras import layers
from tkeras.layers import Input
from tkeras.models import Model, Sequential, model_from_json

HAS_CONV2D = hasattr(layers, "Conv2D")  # written concurrently by another engineer

CASES = [
    ("td_dense", lambda: layers.TimeDistributed(layers.Dense(3)), (2, 4, 5),
     expect((2, 4, 3), weights=(2, 0), masking=True)),
    ("td_dense_4d", lambda: layers.TimeDistributed(layers.Dense(3, activation="relu")), (2, 4, 2, 5),
     expect((2, 4, 2, 3), weights=(2, 0))),
    ("td_lstm", lambda: layers.TimeDistributed(layers.LSTM(3)), (2, 4, 3, 5),
     expect((2, 4, 3), weights=(3, 0))),
    ("bidi_lstm_concat", lambda: layers.Bidirectional(layers.LSTM(3)), (2, 4, 5),
     expect((2, 6), weights=(6, 0), masking=True)),
    ("bidi_lstm_seq_sum", lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True),
                                                       merge_mode="sum"), (2, 4, 5),
     expect((2, 4, 3), weights=(6, 0))),
    ("bidi_gru_mul", lambda: layers.Bidirectional(layers.GRU(3, return_sequences=True),
                                                  merge_mode="mul"), (2, 4, 5),
     expect((2, 4, 3), weights=(6, 0))),
    ("bidi_rnn_ave", lambda: layers.Bidirectional(layers.SimpleRNN(3), merge_mode="ave"), (2, 4, 5),
     expect((2, 3), weights=(6, 0))),
    ("bidi_none", lambda: layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True),
                                               merge_mode=None), (2, 4, 5),
     expect([(2, 4, 3), (2, 4, 3)], weights=(6, 0))),
    ("bidi_state", lambda: layers.Bidirectional(layers.LSTM(3, return_state=True)), (2, 4, 5),
     expect([(2, 6), (2, 3), (2, 3), (2, 3), (2, 3)], weights=(6, 0))),
    ("bidi_state_none", lambda: layers.Bidirectional(layers.GRU(3, return_state=True),
                                                     merge_mode=None), (2, 4, 5),
     expect([(2, 3)] * 4, weights=(6, 0))),
    ("bidi_backward_layer", lambda: layers.Bidirectional(
        layers.LSTM(3, return_sequences=True),
        backward_layer=layers.GRU(3, return_sequences=True, go_backwards=True)), (2, 4, 5),
     expect((2, 4, 6), weights=(6, 0))),
    ("bidi_conv_lstm", lambda: layers.Bidirectional(layers.ConvLSTM2D(2, 3, padding="same")),
     (2, 3, 4, 4, 2), expect((2, 4, 4, 4), weights=(6, 0))),
]
if HAS_CONV2D:
    CASES.append(("td_conv2d", lambda: layers.TimeDistributed(layers.Conv2D(2, 2)), (2, 3, 4, 5, 2),
     expect((2, 3, 3, 4, 2), weights=(2, 0))))


@pytest.mark.parametrize("name,factory,shape,expected", CASES, ids=[c[0] for c in CASES])
def test_wrapper_contract(name, factory, shape, expected):
    check_layer(factory, shape, tol=1e-5, **expected)


X = np.random.RandomState(0).standard_normal((3, 5, 4)).astype("float32")


# ------------------------------------------------------------------ TimeDistributed

def test_time_distributed_applies_the_layer_to_every_step():
    dense = layers.Dense(2)
    td = layers.TimeDistributed(dense)
    out = td(X).detach().numpy()
    k, b = dense.get_weights()
    np.testing.assert_allclose(out, X @ k + b, rtol=1e-5, atol=1e-6)
    assert [w._keras_name for w in td.weights] == ["time_distributed/kernel:0",
                                                   "time_distributed/bias:0"]
    assert td.compute_output_shape((None, 5, 4)) == (None, 5, 2)
    assert td.get_config()["layer"]["build_config"] == {"input_shape": [3, 4]}


def test_time_distributed_of_a_model_shares_its_weights():
    """Seed 001: TimeDistributed(model) on Input(shape=(20, 784))."""
    inner = Sequential([layers.Dense(8, activation="relu", input_shape=(784,)), layers.Dense(3)])
    input_sequences = Input(shape=(20, 784))
    processed = layers.TimeDistributed(inner)(input_sequences)
    assert processed.shape == (None, 20, 3)
    model = Model(input_sequences, processed)
    x = np.random.rand(2, 20, 784).astype("float32")
    out = model(x).detach().numpy()
    for t in (0, 7, 19):
        np.testing.assert_allclose(out[:, t], inner(x[:, t]).detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert len(model.weights) == 4


def test_time_distributed_masks():
    inp = Input(shape=(5, 4))
    masked = layers.Masking(0.0)(inp)
    out = layers.TimeDistributed(layers.Dense(2))(masked)
    model = Model(inp, out)
    x = X.copy()
    x[0, 3:] = 0.0
    y = model(x)
    expected = np.ones((3, 5), bool)
    expected[0, 3:] = False
    np.testing.assert_array_equal(y._keras_mask.numpy(), expected)
    # an inner layer that makes its own mask: Masking over (batch * time, 2, 4) slices
    td_masking = layers.TimeDistributed(layers.Masking(0.0))
    x4 = np.ones((2, 3, 2, 4), "float32")
    x4[1, 2, 0] = 0.0
    mask = td_masking.compute_mask(torch.as_tensor(x4), None)
    assert tuple(mask.shape) == (2, 3, 2) and not bool(mask[1, 2, 0]) and bool(mask[1, 2, 1])


def test_time_distributed_errors():
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layers.TimeDistributed(layers.Dense(2))(Input(shape=(4,)))
    with pytest.raises(ValueError, match="`keras.layers.Layer` instance"):
        layers.TimeDistributed("dense")


def test_time_distributed_json_round_trip():
    inp = Input(shape=(5, 4))
    model = Model(inp, layers.TimeDistributed(layers.Dense(2))(inp))
    clone = model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(X).detach().numpy(), model(X).detach().numpy())
    assert [w._keras_name for w in clone.weights] == [w._keras_name for w in model.weights]


# ------------------------------------------------------------------ Bidirectional

def _directions(units=3, **kwargs):
    forward = layers.LSTM(units, **kwargs)
    backward = layers.LSTM(units, go_backwards=True, **kwargs)
    return forward, backward


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merges_forward_and_reversed_backward(merge_mode):
    bidi = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)
    out = bidi(X)
    forward, backward = _directions(return_sequences=True)
    forward(X)
    backward(X)
    weights = bidi.get_weights()
    forward.set_weights(weights[:3])
    backward.set_weights(weights[3:])
    f = forward(X).detach().numpy()
    b = backward(X).detach().numpy()[:, ::-1]  # back to time order
    expected = {"concat": np.concatenate([f, b], -1), "sum": f + b, "mul": f * b,
                "ave": (f + b) / 2, None: [f, b]}[merge_mode]
    if merge_mode is None:
        for got, exp in zip(out, expected):
            np.testing.assert_allclose(got.detach().numpy(), exp, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_bidirectional_weight_names_and_order():
    bidi = layers.Bidirectional(layers.LSTM(2))
    bidi(X)
    assert [w._keras_name for w in bidi.weights] == [
        "bidirectional/forward_lstm/lstm_cell/kernel:0",
        "bidirectional/forward_lstm/lstm_cell/recurrent_kernel:0",
        "bidirectional/forward_lstm/lstm_cell/bias:0",
        "bidirectional/backward_lstm/lstm_cell/kernel:0",
        "bidirectional/backward_lstm/lstm_cell/recurrent_kernel:0",
        "bidirectional/backward_lstm/lstm_cell/bias:0"]
    assert bidi.forward_layer.go_backwards is False and bidi.backward_layer.go_backwards is True


def test_bidirectional_return_state_and_initial_state():
    bidi = layers.Bidirectional(layers.LSTM(3, return_state=True))
    outputs = bidi(X)
    assert len(outputs) == 5 and outputs[0].shape == (3, 6)
    rng = np.random.RandomState(0)
    states = [rng.standard_normal((3, 3)).astype("float32") for _ in range(4)]
    with_states = bidi(X, initial_state=states)
    forward, backward = _directions(return_state=True)
    forward(X)
    backward(X)
    forward.set_weights(bidi.get_weights()[:3])
    backward.set_weights(bidi.get_weights()[3:])
    f = forward(X, initial_state=states[:2])
    b = backward(X, initial_state=states[2:])
    np.testing.assert_allclose(with_states[0].detach().numpy(),
                               np.concatenate([f[0].detach().numpy(), b[0].detach().numpy()], -1),
                               rtol=1e-5, atol=1e-6)
    for got, exp in zip(with_states[1:], list(f[1:]) + list(b[1:])):
        np.testing.assert_allclose(got.detach().numpy(), exp.detach().numpy(), rtol=1e-5, atol=1e-6)
    # symbolic states are inputs of the model
    x_in = Input(shape=(5, 4))
    s_in = [Input(shape=(3,)) for _ in range(4)]
    out = layers.Bidirectional(layers.LSTM(3))(x_in, initial_state=s_in)
    model = Model([x_in] + s_in, out)
    assert model([X] + states).shape == (3, 6)
    with pytest.raises(ValueError, match="forward then backward"):
        bidi(X, initial_state=states[:3])


def test_bidirectional_masks_zero_masked_outputs():
    inp = Input(shape=(5, 4))
    masked = layers.Masking(0.0)(inp)
    out = layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode=None)(masked)
    model = Model(inp, out)
    x = X.copy()
    x[0, 3:] = 0.0
    f, b = model(x)
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = False
    np.testing.assert_array_equal(f._keras_mask.numpy(), mask)
    # Keras forces zero outputs at masked steps inside Bidirectional (return_sequences)
    np.testing.assert_array_equal(f.detach().numpy()[0, 3:], 0.0)
    np.testing.assert_array_equal(b.detach().numpy()[0, 3:], 0.0)
    assert not np.allclose(f.detach().numpy()[0, :3], 0.0)


def test_bidirectional_stateful():
    bidi = layers.Bidirectional(layers.GRU(2, stateful=True), batch_input_shape=(3, 5, 4))
    model = Sequential([bidi])
    first = model(X).detach().numpy()
    second = model(X).detach().numpy()
    assert not np.allclose(first, second)
    model.reset_states()
    np.testing.assert_allclose(model(X).detach().numpy(), first, rtol=1e-6)


def test_bidirectional_config_round_trip_with_backward_layer():
    bidi = layers.Bidirectional(layers.LSTM(3, return_sequences=True),
                                backward_layer=layers.LSTM(3, return_sequences=True,
                                                           go_backwards=True, activation="relu"),
                                merge_mode="ave")
    config = bidi.get_config()
    assert config["layer"]["class_name"] == "LSTM" and config["layer"]["config"]["name"] == "lstm"
    assert config["backward_layer"]["config"]["activation"] == "relu"
    assert bidi.backward_layer.name == "backward_lstm_1"
    clone = layers.Bidirectional.from_config(config)
    assert clone.get_config() == config
    out = bidi(X)
    clone(X)
    clone.set_weights(bidi.get_weights())
    np.testing.assert_allclose(clone(X).detach().numpy(), out.detach().numpy(), rtol=1e-6)


def test_bidirectional_errors():
    with pytest.raises(ValueError, match=r"`Bidirectional` needs a recurrent layer as `layer` "
                                         r".*Received: layer=Dense \(layer 'dense'\), which has "
                                         r"no `go_backwards`"):
        layers.Bidirectional(layers.Dense(3, name="dense"))
    with pytest.raises(ValueError, match="needs a recurrent layer as `backward_layer`"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.Conv1D(3, 2))
    with pytest.raises(ValueError, match="Please initialize `Bidirectional` with a"):
        layers.Bidirectional("lstm")
    with pytest.raises(ValueError, match="Invalid merge mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(
            2, go_backwards=True, return_sequences=True))


def test_bidirectional_loads_cudnn_weights_per_direction():
    cudnn = layers.Bidirectional(layers.CuDNNLSTM(2, return_sequences=True))
    cudnn(X)
    rng = np.random.RandomState(1)
    cudnn.set_weights([rng.uniform(-1, 1, w.shape).astype("float32") for w in cudnn.get_weights()])
    plain = layers.Bidirectional(layers.LSTM(2, return_sequences=True))
    plain(X)
    plain.set_weights(cudnn.get_weights())
    np.testing.assert_allclose(plain(X).detach().numpy(), cudnn(X).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_seed_bidirectional_sequential_model():
    model = Sequential()
    model.add(layers.Bidirectional(layers.LSTM(10, return_sequences=True), input_shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(10)))
    model.add(layers.Dense(5))
    model.add(layers.Activation("softmax"))
    assert model.output_shape == (None, 5)
    assert model.layers[0].output_shape == (None, 5, 20)
    assert model.count_params() == 2 * (4 * 10 * (10 + 10 + 1)) + 2 * (4 * 10 * (20 + 10 + 1)) + 105
    out = model(np.random.rand(4, 5, 10).astype("float32"))
    np.testing.assert_allclose(out.sum(dim=1).detach().numpy(), 1.0, rtol=1e-5)


def test_bidirectional_initial_weights_argument():
    source = layers.Bidirectional(layers.SimpleRNN(2))
    source(X)
    weights = [np.random.rand(*w.shape).astype("float32") for w in source.get_weights()]
    bidi = layers.Bidirectional(layers.SimpleRNN(2), weights=weights)
    bidi(X)
    for got, expected in zip(bidi.get_weights(), weights):
        np.testing.assert_array_equal(got, expected)
