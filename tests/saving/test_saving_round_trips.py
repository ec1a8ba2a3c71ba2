"""tkeras -> file -> tkeras: weights files, whole models (HDF5 and .keras) for Sequential,
functional, nested and shared-layer models, chunked attributes, and training that resumes
after loading exactly as it would have continued in the original process."""
import h5py
import numpy as np
import pytest
from saving_test_utils import decoded_attr, predict

import tkeras
from tkeras._warn import TkerasWarning
from tkeras.layers import (
    LSTM,
    BatchNormalization,
    Bidirectional,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    Input,
)
from tkeras.models import Model, Sequential, load_model
from tkeras.saving import hdf5_format

RNG = np.random.RandomState(11)
X = RNG.standard_normal((8, 6)).astype(np.float32)
Y = RNG.standard_normal((8, 2)).astype(np.float32)


def _randomize(model, seed=0):
    rng = np.random.RandomState(seed)
    model.set_weights([rng.uniform(0.1, 1.0, w.shape).astype(w.dtype)
                       for w in model.get_weights()])
    return model


def _sequential():
    return Sequential([Dense(8, activation="relu", input_shape=(6,)), BatchNormalization(),
                       Dropout(0.3), Dense(2)])


def _deterministic():
    """For training-step comparisons: no Dropout (its masks are random)."""
    return Sequential([Dense(8, activation="relu", input_shape=(6,)), BatchNormalization(),
                       Dense(2)])


def _functional_nested_shared():
    inner = Sequential([Dense(5, activation="tanh", input_shape=(6,)), Dense(4)], name="inner")
    shared = Dense(4, name="shared")
    a, b = Input(shape=(6,), name="a"), Input(shape=(6,), name="b")
    merged = Concatenate()([shared(inner(a)), shared(inner(b))])
    return Model([a, b], Dense(2, name="out")(merged), name="siamese")


def _recurrent():
    tokens = Input(shape=(5,), dtype="int32")
    x = Embedding(20, 4, mask_zero=True)(tokens)
    x = Bidirectional(LSTM(3))(x)
    return Model(tokens, Dense(2)(x))


MODELS = {"sequential": (_sequential, [X]),
          "nested_shared": (_functional_nested_shared, [X, X[::-1].copy()]),
          "recurrent": (_recurrent, [RNG.randint(0, 20, (8, 5)).astype(np.int32)])}


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("filename", ["m.h5", "m.keras", "w.h5"])
def test_round_trip(kind, filename, tmp_path):
    factory, inputs = MODELS[kind]
    model = _randomize(factory())
    path = str(tmp_path / filename)
    if filename == "w.h5":
        model.save_weights(path)
        loaded = factory()
        loaded.load_weights(path)
    else:
        model.save(path)
        loaded = load_model(path)
        assert loaded.get_config() == model.get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(predict(loaded, inputs), predict(model, inputs)):
        np.testing.assert_array_equal(a, b)


def test_shared_layer_is_stored_once(tmp_path):
    model = _randomize(_functional_nested_shared())
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        names = decoded_attr(f["model_weights"], "layer_names")
        assert names.count("shared") == 1 and names.count("inner") == 1
        assert decoded_attr(f["model_weights"]["inner"], "weight_names") == [
            w._keras_name for w in model.get_layer("inner").weights]


def test_weights_load_by_name_into_another_architecture(tmp_path):
    model = _randomize(_functional_nested_shared())
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    c = Input(shape=(8,))
    other = Model(c, Dense(2, name="out")(Dense(8, name="unrelated")(c)))
    before = other.get_layer("unrelated").get_weights()
    other.load_weights(path, by_name=True)
    for a, b in zip(other.get_layer("out").get_weights(), model.get_layer("out").get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(other.get_layer("unrelated").get_weights(), before):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ long attributes

def test_long_string_lists_are_split_under_the_header_limit(tmp_path):
    names = [f"layer_{i:05d}_" + "x" * 200 for i in range(600)]  # ~130 KB of names
    with h5py.File(str(tmp_path / "a.h5"), "w") as f:
        hdf5_format.save_attributes_to_hdf5_group(f, "layer_names", names)
        chunks = sorted(k for k in f.attrs if k.startswith("layer_names"))
        assert len(chunks) > 1 and "layer_names" not in f.attrs
        for key in chunks:
            stored = sum(len(v.encode()) + 16 for v in f.attrs[key])
            assert stored <= hdf5_format.HDF5_OBJECT_HEADER_LIMIT
        assert hdf5_format.load_attributes_from_hdf5_group(f, "layer_names") == names


@pytest.mark.parametrize("method", ["save", "save_weights"])
def test_model_with_names_over_the_header_limit_round_trips(method, tmp_path):
    """End to end: 40 layers with 2,000-character names need more than 64 KB of
    layer_names; the file splits them (layer_names0, layer_names1 ...) and loads back."""
    inputs = Input(shape=(3,))
    x = inputs
    for i in range(40):
        x = Dense(3, name=f"dense_{i:02d}_" + "n" * 2000)(x)
    model = Model(inputs, x)
    path = str(tmp_path / "long.h5")
    getattr(model, method)(path)
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if method == "save" else f
        assert "layer_names" not in group.attrs
        assert sorted(k for k in group.attrs if k.startswith("layer_names")) == \
            ["layer_names0", "layer_names1"]
    if method == "save":
        loaded = load_model(path)
    else:
        loaded = Model.from_config(model.get_config())
        loaded.load_weights(path)
    data = np.random.RandomState(0).rand(4, 3).astype("float32")
    np.testing.assert_array_equal(predict(loaded, [data])[0], predict(model, [data])[0])


def test_keras_2_chunked_byte_string_attributes_load(tmp_path):
    """Keras 2.2 split long lists into layer_names0, layer_names1 ... of byte strings."""
    model = _randomize(_sequential())
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        names = decoded_attr(f, "layer_names")
        del f.attrs["layer_names"]
        f.attrs["layer_names0"] = np.array([n.encode() for n in names[:2]])
        f.attrs["layer_names1"] = np.array([n.encode() for n in names[2:]])
    loaded = _sequential()
    loaded.load_weights(path)
    np.testing.assert_array_equal(predict(loaded, [X])[0], predict(model, [X])[0])


# ------------------------------------------------------------------ resuming training

OPTIMIZERS = {
    "adam": lambda: tkeras.optimizers.Adam(lr=0.01),
    "sgd_momentum": lambda: tkeras.optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: tkeras.optimizers.RMSprop(lr=0.01),
    "new_adam": lambda: tkeras.optimizers.experimental.Adam(learning_rate=0.01),
    "new_adamw": lambda: tkeras.optimizers.experimental.AdamW(learning_rate=0.01),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("filename", ["m.h5", "m.keras"])
def test_one_more_step_after_loading_equals_one_more_step_before(optimizer, filename, tmp_path):
    model = _randomize(_deterministic())
    model.compile(optimizer=OPTIMIZERS[optimizer](), loss="mse", metrics=["mae"])
    for _ in range(3):
        model.train_on_batch(X, Y)
    path = str(tmp_path / filename)
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.variable_names() == model.optimizer.variable_names()
    for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)
    x2, y2 = X[::-1].copy(), Y[::-1].copy()
    model.train_on_batch(x2, y2)
    loaded.train_on_batch(x2, y2)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("filename", ["m.h5", "m.keras"])
def test_compiled_but_untrained_model(filename, tmp_path):
    """The optimizer has no state yet: the file loads without warnings and trains."""
    model = _randomize(_deterministic())
    model.compile(optimizer=tkeras.optimizers.experimental.Adam(0.01), loss="mse")
    path = str(tmp_path / filename)
    model.save(path)
    loaded = load_model(path)
    assert not loaded.optimizer.built
    model.train_on_batch(X, Y)
    loaded.train_on_batch(X, Y)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_optimizer_state_that_does_not_fit_warns(tmp_path):
    model = _randomize(_deterministic())
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(X, Y)
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r+") as f:
        group = f["optimizer_weights"]
        names = decoded_attr(group, "weight_names")
        group.attrs["weight_names"] = names[:-1]  # one variable short
    with pytest.warns(TkerasWarning, match="Error in loading the saved optimizer state"):
        loaded = load_model(path)
    loaded.train_on_batch(X, Y)  # a fresh optimizer, still usable


@pytest.mark.parametrize("filename", ["m.h5", "m.keras"])
def test_include_optimizer_false(filename, tmp_path):
    model = _randomize(_sequential())
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(X, Y)
    path = str(tmp_path / filename)
    model.save(path, include_optimizer=False)
    loaded = load_model(path, compile=False)
    assert getattr(loaded, "optimizer", None) is None
    np.testing.assert_array_equal(predict(loaded, [X])[0], predict(model, [X])[0])
    if filename.endswith(".h5"):
        with h5py.File(path, "r") as f:
            assert "optimizer_weights" not in f and "training_config" not in f.attrs


def test_save_to_and_load_from_an_open_h5py_file(tmp_path):
    model = _randomize(_sequential())
    path = str(tmp_path / "open.h5")
    with h5py.File(path, "w") as f:
        model.save(f)
    with h5py.File(path, "r") as f:
        loaded = load_model(f)
        assert f.attrs["keras_version"]  # the caller's file stays open
    np.testing.assert_array_equal(predict(loaded, [X])[0], predict(model, [X])[0])
