"""HDF5Matrix, H5Dict, get_source_inputs, convert_all_kernels_in_model, clone_model and
the smaller Keras 2.3.1 names (optimizer aliases, clip_norm, TFOptimizer, losses / metrics)."""
import h5py
import numpy as np
import pytest
import torch

import tkeras
from tkeras import layers
from tkeras.models import clone_model
from tkeras.utils import H5Dict, HDF5Matrix, convert_all_kernels_in_model, get_source_inputs, print_summary

# ---------------------------------------------------------------------------------------
# HDF5Matrix


@pytest.fixture
def h5_data(tmp_path):
    path = str(tmp_path / "data.h5")
    x = np.arange(20 * 3, dtype="float32").reshape(20, 3)
    y = (np.arange(20) % 2).astype("float32")
    with h5py.File(path, "w") as f:
        f["x"] = x
        f["y"] = y
    yield path, x, y
    for f in HDF5Matrix.refs.values():
        f.close()
    HDF5Matrix.refs.clear()


def test_hdf5matrix_indexing_and_properties(h5_data):
    path, x, _ = h5_data
    m = HDF5Matrix(path, "x", start=5, end=15)
    assert len(m) == 10 and m.shape == (10, 3) and m.ndim == 2 and m.size == 30
    assert m.dtype == np.float32
    np.testing.assert_array_equal(m[0], x[5])
    np.testing.assert_array_equal(m[-1], x[14])
    np.testing.assert_array_equal(m[2:4], x[7:9])
    np.testing.assert_array_equal(m[:], x[5:15])
    np.testing.assert_array_equal(m[[3, 1, 3]], x[[8, 6, 8]])
    np.testing.assert_array_equal(m[np.array([0, 9])], x[[5, 14]])
    np.testing.assert_array_equal(np.asarray(m), x[5:15])
    with pytest.raises(IndexError, match="out of range for length 10"):
        m[10]
    with pytest.raises(IndexError, match="out of range for length 10"):
        m[[0, 10]]


def test_hdf5matrix_normalizer_and_errors(h5_data):
    path, x, _ = h5_data
    m = HDF5Matrix(path, "x", normalizer=lambda a: (a / 2).astype("float64"))
    assert m.dtype == np.float64 and m.shape == (20, 3)
    np.testing.assert_allclose(m[3:5], x[3:5] / 2)
    with pytest.raises(ValueError, match="has no dataset 'z'"):
        HDF5Matrix(path, "z")
    with pytest.raises(ValueError, match=r"expected 0 <= start <= end <= 20 .* start=5, end=30"):
        HDF5Matrix(path, "x", start=5, end=30)


def _fit_model(x, y, shuffle):
    tkeras.utils.set_random_seed(3)
    model = tkeras.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                               layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    model.fit(x, y, batch_size=5, epochs=2, shuffle=shuffle, verbose=0)
    return model.get_weights()


def test_hdf5matrix_as_fit_input(h5_data):
    path, x, y = h5_data
    xm, ym = HDF5Matrix(path, "x"), HDF5Matrix(path, "y")
    for got, want in zip(_fit_model(xm, ym, False), _fit_model(x / 1.0, y, False)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for got, want in zip(_fit_model(xm, ym, "batch"), _fit_model(x / 1.0, y, "batch")):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_h5dict_round_trip(tmp_path):
    path = tmp_path / "d.h5"
    d = H5Dict(path, mode="w")
    d["name"] = "model"
    d["names"] = ["a", "bb"]
    d["layer"]["kernel"] = np.arange(3.0)
    assert "name" in d and "layer" in d
    d.close()
    r = H5Dict(path, mode="r")
    assert r["name"] == "model" and r["names"] == ["a", "bb"]
    np.testing.assert_array_equal(r["layer"]["kernel"], np.arange(3.0))
    with pytest.raises(ValueError, match="Cannot set item in read-only mode."):
        r["x"] = 1
    r.close()
    plain = H5Dict({})
    plain["a"]["b"] = 3
    assert plain["a"]["b"] == 3
    with pytest.raises(TypeError, match="Required Group, str, Path or dict. Received: <class 'int'>"):
        H5Dict(3)


# ---------------------------------------------------------------------------------------
# graph utilities


def test_get_source_inputs_in_utils_and_engine():
    a, b = tkeras.Input((2,), name="a"), tkeras.Input((2,), name="b")
    h = layers.Dense(2)(a)
    out = layers.Dense(1)(layers.add([h, b, h]))
    assert tkeras.engine.get_source_inputs is get_source_inputs
    sources = get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert get_source_inputs(a) == [a]
    assert get_source_inputs("not a tensor") == "not a tensor"


def test_get_source_inputs_walks_shared_subgraphs_once():
    # 60 residual blocks: a walk that followed every path would visit 2**60 of them.
    a, b = tkeras.Input((2,), name="a"), tkeras.Input((2,), name="b")
    x = layers.add([a, layers.Dense(2)(b)])
    for _ in range(60):
        x = layers.add([x, layers.Dense(2)(x)])
    assert [id(t) for t in get_source_inputs(x)] == [id(a), id(b)]
    assert [id(t) for t in get_source_inputs(layers.add([layers.Dense(2)(b), x]))] \
        == [id(b), id(a)]


def test_print_summary_is_the_summary():
    model = tkeras.Sequential([layers.Dense(2, input_shape=(3,))])
    lines_a, lines_b = [], []
    print_summary(model, print_fn=lines_a.append)
    model.summary(print_fn=lines_b.append)
    assert lines_a == lines_b and any("Total params: 8" in line for line in lines_a)


def test_convert_all_kernels_in_model():
    model = tkeras.Sequential([layers.Conv2D(2, (2, 3), input_shape=(5, 5, 1)),
                               layers.Reshape((-1, 2)),
                               layers.Conv1D(3, 2), layers.Flatten(), layers.Dense(2)])
    before = [w.copy() for w in model.get_weights()]
    convert_all_kernels_in_model(model)
    after = model.get_weights()
    np.testing.assert_array_equal(after[0], before[0][::-1, ::-1, :, :])
    np.testing.assert_array_equal(after[1], before[1])  # bias untouched
    np.testing.assert_array_equal(after[2], before[2][::-1, :, :])
    np.testing.assert_array_equal(after[4], before[4])  # Dense untouched
    convert_all_kernels_in_model(model)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    from tkeras.utils.conv_utils import convert_kernel
    with pytest.raises(ValueError, match=r"Invalid kernel shape: \(2, 2\)"):
        convert_kernel(np.zeros((2, 2)))


# ---------------------------------------------------------------------------------------
# clone_model


def _functional():
    i = tkeras.Input((4,), name="x")
    shared = layers.Dense(3, name="shared")
    a, b = shared(i), shared(layers.Dense(4, name="pre")(i))
    out = layers.Dense(1, name="out")(layers.concatenate([a, b]))
    return tkeras.Model(i, out, name="net")


def _assert_fresh_clone(model, clone):
    assert clone is not model and clone.name == model.name
    assert clone.get_config() == model.get_config()
    assert len(clone.weights) == len(model.weights)
    old = {id(w) for w in model.weights}
    assert not any(id(w) in old for w in clone.weights)
    x = np.random.RandomState(0).rand(3, 4).astype("float32")
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_clone_functional_model():
    model = _functional()
    clone = clone_model(model)
    assert isinstance(clone, tkeras.Model) and not isinstance(clone, tkeras.Sequential)
    _assert_fresh_clone(model, clone)
    # The shared layer is cloned once and still shared.
    assert len(clone.get_layer("shared")._inbound_nodes) == 2


def test_clone_sequential_model():
    model = tkeras.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dropout(0.5),
                               layers.Dense(2)], name="seq")
    clone = clone_model(model)
    assert isinstance(clone, tkeras.Sequential)
    _assert_fresh_clone(model, clone)


def test_clone_with_input_tensors_and_clone_function():
    model = _functional()
    new_input = tkeras.Input((4,), name="new_x")
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        return layer if layer.name == "pre" else layer.__class__.from_config(layer.get_config())
    clone = clone_model(model, input_tensors=[new_input], clone_function=clone_function)
    assert clone.inputs[0] is new_input
    assert sorted(seen) == ["concatenate", "out", "pre", "shared"]
    assert clone.get_layer("pre") is model.get_layer("pre")  # shared on purpose
    assert clone.get_layer("out") is not model.get_layer("out")
    with pytest.raises(ValueError, match=r"expects 1 input tensor\(s\) in `input_tensors`, received 2"):
        clone_model(model, input_tensors=[new_input, new_input])


def test_clone_subclassed_model_is_an_error():
    class Net(tkeras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(1)

        def call(self, x):
            return self.d(x)
    with pytest.raises(ValueError, match="Expected `model` argument to be a functional `Model` "
                                         "instance, but got a subclass model instead"):
        clone_model(Net())


# ---------------------------------------------------------------------------------------
# optimizers, losses, metrics names


def test_optimizer_aliases_and_clip_norm():
    opt = tkeras.optimizers
    assert (opt.sgd, opt.rmsprop, opt.adagrad, opt.adadelta, opt.adam, opt.adamax, opt.nadam) == (
        opt.SGD, opt.RMSprop, opt.Adagrad, opt.Adadelta, opt.Adam, opt.Adamax, opt.Nadam)
    g = torch.tensor([3.0, 4.0])
    torch.testing.assert_close(opt.clip_norm(g, 1.0, torch.tensor(5.0)), torch.tensor([0.6, 0.8]))
    torch.testing.assert_close(opt.clip_norm(g, 10.0, torch.tensor(5.0)), g)
    assert opt.clip_norm(g, 0, 5.0) is g


def test_tfoptimizer_is_an_optimizer_and_trains():
    model = tkeras.Sequential([layers.Dense(1, input_shape=(2,))])
    wrapped = tkeras.optimizers.TFOptimizer(torch.optim.SGD(model.parameters(), lr=0.1))
    assert isinstance(wrapped, tkeras.optimizers.Optimizer)
    assert tkeras.optimizers.get(wrapped) is wrapped
    model.compile(wrapped, "mse")
    before = model.get_weights()[0].copy()
    model.fit(np.ones((4, 2), "float32"), np.zeros((4, 1), "float32"), verbose=0)
    assert not np.allclose(model.get_weights()[0], before)
    assert int(wrapped.iterations) == 1


def test_is_categorical_crossentropy():
    losses = tkeras.losses
    assert losses.is_categorical_crossentropy("categorical_crossentropy")
    assert losses.is_categorical_crossentropy(losses.categorical_crossentropy)
    assert losses.is_categorical_crossentropy(losses.CategoricalCrossentropy())
    assert losses.is_categorical_crossentropy(
        losses.LossFunctionWrapper(losses.categorical_crossentropy))
    assert not losses.is_categorical_crossentropy("mse")
    assert not losses.is_categorical_crossentropy(losses.BinaryCrossentropy())
    assert not losses.is_categorical_crossentropy(losses.sparse_categorical_crossentropy)


def _rates_by_hand(y, p, num_thresholds):
    """TP/TN/FP/FN at Keras 2.3.1's thresholds, with numpy (prediction > threshold)."""
    thresholds = [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
    out = []
    for t in thresholds:
        pos = p > t
        out.append((np.sum(pos & (y == 1)), np.sum(~pos & (y == 0)), np.sum(pos & (y == 0)),
                    np.sum(~pos & (y == 1))))
    return np.array(out, dtype="float64")


def test_sensitivity_and_specificity_metrics():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 200)
    p = np.clip(y * 0.3 + rng.rand(200) * 0.7, 0, 1)
    counts = _rates_by_hand(y, p, 200)
    tp, tn, fp, fn = counts.T
    spec = np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), 0)
    sens = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0)
    i = np.argmin(np.abs(spec - 0.8))
    j = np.argmin(np.abs(sens - 0.7))
    m = tkeras.metrics.SensitivityAtSpecificity(0.8)
    m.update_state(y, p)
    np.testing.assert_allclose(float(m.result()), tp[i] / (tp[i] + fn[i]), rtol=1e-6)
    s = tkeras.metrics.SpecificityAtSensitivity(0.7)
    s.update_state(y, p)
    np.testing.assert_allclose(float(s.result()), tn[j] / (tn[j] + fp[j]), rtol=1e-6)
    assert m.get_config()["specificity"] == 0.8 and m.get_config()["num_thresholds"] == 200
    assert isinstance(m, tkeras.metrics.SensitivitySpecificityBase)
    again = tkeras.metrics.deserialize(tkeras.metrics.serialize(m))
    assert type(again) is tkeras.metrics.SensitivityAtSpecificity and again.specificity == 0.8
    with pytest.raises(ValueError, match=r"`specificity` must be in the range \[0, 1\]. "
                                         "Received: specificity=1.5"):
        tkeras.metrics.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match="`num_thresholds` must be > 0. Received: num_thresholds=0"):
        tkeras.metrics.SpecificityAtSensitivity(0.5, num_thresholds=0)


def test_clone_metric_and_clone_metrics():
    auc = tkeras.metrics.AUC(name="auc", num_thresholds=50)
    auc.update_state([0, 1], [0.2, 0.9])
    clone = tkeras.metrics.clone_metric(auc)
    assert type(clone) is tkeras.metrics.AUC and clone is not auc
    assert clone.get_config() == auc.get_config() and float(clone.result()) == 0.0
    fn = tkeras.metrics.binary_accuracy
    assert tkeras.metrics.clone_metric(fn) is fn
    cloned = tkeras.metrics.clone_metrics({"a": auc, "b": fn})
    assert cloned["b"] is fn and cloned["a"] is not auc
    assert [type(c) for c in tkeras.metrics.clone_metrics([auc])] == [tkeras.metrics.AUC]
    assert tkeras.metrics.clone_metrics(None) is None


def test_losses_utils_compute_weighted_loss():
    from tkeras.utils import losses_utils
    losses = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = torch.tensor([1.0, 0.0])
    torch.testing.assert_close(losses_utils.compute_weighted_loss(losses, w), torch.tensor(0.75))
    torch.testing.assert_close(losses_utils.compute_weighted_loss(losses, w, reduction="sum"),
                               torch.tensor(3.0))
    torch.testing.assert_close(losses_utils.compute_weighted_loss(losses, w, reduction="none"),
                               torch.tensor([[1.0, 2.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="Invalid Reduction Key: mean"):
        losses_utils.compute_weighted_loss(losses, w, reduction="mean")


# ---------------------------------------------------------------------------------------
# Keras 1 layers kept by Keras 2.3.1


def test_atrous_convolutions():
    with pytest.warns(tkeras.utils.TkerasDeprecationWarning,
                      match="The `AtrousConvolution2D` layer  has been deprecated. Use instead "
                            "the `Conv2D` layer with the `dilation_rate` argument."):
        conv = layers.AtrousConv2D(4, (3, 3), atrous_rate=(2, 2))
    assert type(conv) is layers.Conv2D and conv.dilation_rate == (2, 2)
    with pytest.warns(tkeras.utils.TkerasDeprecationWarning, match="AtrousConvolution1D"):
        conv = layers.AtrousConvolution1D(4, 3, atrous_rate=3)
    assert type(conv) is layers.Conv1D and conv.dilation_rate == (3,)
    assert layers.AtrousConv1D is layers.AtrousConvolution1D


def test_maxout_dense_and_highway_values():
    rng = np.random.RandomState(1)
    x = rng.rand(5, 4).astype("float32")
    with pytest.warns(tkeras.utils.TkerasDeprecationWarning, match="`MaxoutDense` layer is deprecated"):
        maxout = layers.MaxoutDense(3, nb_feature=2, input_dim=4)
    model = tkeras.Sequential([maxout])
    W, b = rng.rand(2, 4, 3).astype("float32"), rng.rand(2, 3).astype("float32")
    model.set_weights([W, b])
    want = np.max(np.einsum("ni,fio->nfo", x, W) + b, axis=1)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5)

    with pytest.warns(tkeras.utils.TkerasDeprecationWarning, match="`Highway` layer is deprecated"):
        highway = layers.Highway(activation="relu", input_dim=4)
    model = tkeras.Sequential([highway])
    Wh, Wc = rng.rand(4, 4).astype("float32") - 0.5, rng.rand(4, 4).astype("float32") - 0.5
    bh, bc = rng.rand(4).astype("float32"), rng.rand(4).astype("float32")
    model.set_weights([Wh, Wc, bh, bc])
    t = 1 / (1 + np.exp(-(x @ Wc + bc)))
    want = np.maximum(x @ Wh + bh, 0) * t + (1 - t) * x
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5)
    assert [w._keras_name for w in highway.weights] == [
        f"{highway.name}/{n}:0" for n in ("W", "W_carry", "b", "b_carry")]
    config = highway.get_config()
    assert config["activation"] == "relu" and config["bias"] is True and config["input_dim"] == 4
    with pytest.warns(tkeras.utils.TkerasDeprecationWarning):
        assert layers.Highway.from_config(config).get_config() == config
    with pytest.warns(tkeras.utils.TkerasDeprecationWarning):
        again = layers.MaxoutDense.from_config(maxout.get_config())
    assert again.get_config() == maxout.get_config() and again.nb_feature == 2


class _MinimalRNN(layers.Recurrent):
    """A Keras 1 style recurrent layer: h_t = tanh(x_t W + h_{t-1} U)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight("recurrent_kernel", shape=(self.units, self.units))
        self.states = [None]
        self.built = True

    def step(self, x, states):
        h = torch.tanh(x @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]


def _numpy_rnn(x, W, U, backwards=False):
    h = np.zeros((x.shape[0], W.shape[1]), "float32")
    outs = []
    steps = range(x.shape[1])[::-1] if backwards else range(x.shape[1])
    for t in steps:
        h = np.tanh(x[:, t] @ W + h @ U)
        outs.append(h)
    return np.stack(outs, 1), h


def test_legacy_recurrent_base():
    rng = np.random.RandomState(2)
    x = rng.rand(2, 5, 3).astype("float32")
    W, U = rng.rand(3, 4).astype("float32") - 0.5, rng.rand(4, 4).astype("float32") - 0.5
    for backwards in (False, True):
        inp = tkeras.Input((5, 3))
        outs = _MinimalRNN(4, return_sequences=True, return_state=True, go_backwards=backwards)(inp)
        model = tkeras.Model(inp, outs)
        assert model.output_shape == [(None, 5, 4), (None, 4)]
        model.set_weights([W, U])
        seq, state = model.predict(x, verbose=0)
        want_seq, want_h = _numpy_rnn(x, W, U, backwards)
        np.testing.assert_allclose(seq, want_seq, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(state, want_h, rtol=1e-5, atol=1e-7)
    model = tkeras.Sequential([layers.Masking(0.0, input_shape=(5, 3)), _MinimalRNN(4)])
    model.set_weights([W, U])
    masked = x.copy()
    masked[:, 3:] = 0.0  # the last two steps are masked: the output stays at step 3's
    np.testing.assert_allclose(model.predict(masked, verbose=0), _numpy_rnn(x[:, :3], W, U)[1],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="does not support `stateful=True`"):
        _MinimalRNN(4, stateful=True)
    conv = layers.ConvRecurrent2D(6, 3, padding="valid", return_sequences=True)
    assert conv.compute_output_shape((None, 4, 10, 10, 2)) == (None, 4, 8, 8, 6)
