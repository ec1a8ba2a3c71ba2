"""Bad input to the saving API gets a clear error: missing, truncated, corrupted or foreign
files, unknown classes, weights of another architecture, unsupported formats."""
import json
import os
import zipfile

import h5py
import numpy as np
import pytest
import torch
from saving_test_utils import predict

import tkeras
from tkeras._warn import TkerasWarning
from tkeras.layers import Dense, Input
from tkeras.models import Model, Sequential, load_model, model_from_json


def _bytes(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _mlp(units=8, name=None):
    return Sequential([Dense(units, activation="relu", input_shape=(4,)), Dense(2)], name=name)


@pytest.fixture
def saved(tmp_path):
    """A valid model file of each format and the model it came from."""
    model = _mlp()
    paths = {"h5": str(tmp_path / "model.h5"), "keras": str(tmp_path / "model.keras"),
             "weights": str(tmp_path / "weights.h5")}
    model.save(paths["h5"])
    model.save(paths["keras"])
    model.save_weights(paths["weights"])
    return model, paths


# ------------------------------------------------------------------ files

@pytest.mark.parametrize("loader", ["load_model", "load_weights"])
def test_missing_file(loader, tmp_path):
    path = str(tmp_path / "nothing_here.h5")
    with pytest.raises(FileNotFoundError, match="No file or directory found at .*nothing_here"):
        if loader == "load_model":
            load_model(path)
        else:
            _mlp().load_weights(path)


@pytest.mark.parametrize("kind", ["h5", "keras", "weights"])
def test_truncated_file(kind, saved, tmp_path):
    _, paths = saved
    data = _bytes(paths[kind])
    path = str(tmp_path / ("cut" + os.path.splitext(paths[kind])[1]))
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        if kind == "weights":
            _mlp().load_weights(path)
        else:
            load_model(path)


def _corrupt_middle(data: bytes, start: int = 1024, size: int = 4096) -> bytes:
    return data[:start] + b"\0" * size + data[start + size:]


@pytest.mark.parametrize("kind", ["h5", "weights"])
def test_corrupted_hdf5_file(kind, saved, tmp_path):
    _, paths = saved
    path = str(tmp_path / "broken.h5")
    with open(path, "wb") as f:
        f.write(_corrupt_middle(_bytes(paths[kind])))
    with pytest.raises(ValueError, match="truncated or corrupted"):
        if kind == "weights":
            _mlp().load_weights(path)
        else:
            load_model(path)


def test_corrupted_keras_zip(saved, tmp_path):
    _, paths = saved
    data = bytearray(_bytes(paths["keras"]))
    with zipfile.ZipFile(paths["keras"]) as zf:
        info = zf.getinfo("model.weights.h5")
    middle = info.header_offset + 200 + info.file_size // 2
    data[middle:middle + 64] = b"\xff" * 64  # inside the stored weights: a CRC error
    path = str(tmp_path / "broken.keras")
    with open(path, "wb") as f:
        f.write(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        load_model(path)


@pytest.mark.parametrize("suffix", [".h5", ".keras", ".bin"])
def test_file_that_is_not_a_model(suffix, tmp_path):
    path = str(tmp_path / ("notes" + suffix))
    with open(path, "w") as f:
        f.write("just some text, not a model\n" * 20)
    with pytest.raises(ValueError, match="not an HDF5 file|not a valid .keras file"):
        load_model(path)
    with pytest.raises(ValueError, match="not an HDF5 file"):
        _mlp().load_weights(path)


def test_zip_that_is_not_a_keras_file(tmp_path):
    path = str(tmp_path / "other.keras")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="lacks .*config.json"):
        load_model(path)


def test_hdf5_file_that_is_not_keras(tmp_path):
    path = str(tmp_path / "data.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    with pytest.raises(ValueError, match="not a Keras model file"):
        load_model(path)
    with pytest.raises(ValueError, match="not a Keras weights file"):
        _mlp().load_weights(path)


def test_weights_file_given_to_load_model(saved):
    _, paths = saved
    with pytest.raises(ValueError, match="holds weights only"):
        load_model(paths["weights"])


def test_directory_given_to_load_model(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        load_model(str(tmp_path))


# ------------------------------------------------------------------ configs

def _config_with_unknown_layer():
    model = _mlp()
    config = json.loads(model.to_json())
    config["config"]["layers"][1]["class_name"] = "MyFancyLayer"
    return config


def test_unknown_layer_class_in_json():
    with pytest.raises(ValueError, match="Unknown layer: 'MyFancyLayer'.*custom_objects"):
        model_from_json(json.dumps(_config_with_unknown_layer()))


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_unknown_layer_class_in_model_file(suffix, tmp_path):
    path = str(tmp_path / ("model" + suffix))
    _mlp().save(path)
    config = _config_with_unknown_layer()
    if suffix == ".h5":
        with h5py.File(path, "r+") as f:
            f.attrs["model_config"] = json.dumps(config)
    else:
        with zipfile.ZipFile(path) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        entry = json.loads(members["config.json"])
        entry["config"] = config["config"]
        members["config.json"] = json.dumps(entry).encode()
        with zipfile.ZipFile(path, "w") as zf:
            for n, data in members.items():
                zf.writestr(n, data)
    with pytest.raises(ValueError, match="Unknown layer: 'MyFancyLayer'.*custom_objects"):
        load_model(path)


# ------------------------------------------------------------------ other architectures

def test_weights_with_another_layer_count(saved):
    _, paths = saved
    other = Sequential([Dense(8, input_shape=(4,)), Dense(8), Dense(2)])
    with pytest.raises(ValueError, match="Layer count mismatch.*expected 3 layers, found 2"):
        other.load_weights(paths["weights"])


def test_weights_with_another_shape_names_the_layer(saved):
    _, paths = saved
    other = Sequential([Dense(5, activation="relu", input_shape=(4,), name="wide"), Dense(2)])
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #0 \(named wide.*\(4, 5\).*"
                                         r"\(4, 8\)"):
        other.load_weights(paths["weights"])


def test_weights_with_another_weight_count_names_the_layer(saved):
    _, paths = saved
    other = Sequential([Dense(8, use_bias=False, input_shape=(4,), name="no_bias"), Dense(2)])
    with pytest.raises(ValueError, match=r"layer #0 \(named no_bias.*expects 1 weight"):
        other.load_weights(paths["weights"])


def test_keras_zip_weights_with_another_architecture(saved):
    _, paths = saved
    other = Sequential([Dense(5, input_shape=(4,), name="wide"), Dense(2)])
    with pytest.raises(ValueError, match=r'Layer "wide" \(stored at "layers/dense"\).*'
                                         r"expects shape \(4, 5\).*\(4, 8\)"):
        other.load_weights(paths["keras"])
    fewer = Sequential([Dense(8, use_bias=False, input_shape=(4,), name="no_bias"), Dense(2)])
    with pytest.raises(ValueError, match='Layer "no_bias".*expected 1 variables, but received 2'):
        fewer.load_weights(paths["keras"])


def test_failed_load_changes_no_weight(saved):
    """Loading is all or nothing: a mismatch in a later layer leaves earlier ones as they were."""
    _, paths = saved
    other = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3)])
    before = other.get_weights()
    for path in (paths["weights"], paths["keras"]):
        with pytest.raises(ValueError):
            other.load_weights(path)
        for a, b in zip(other.get_weights(), before):
            np.testing.assert_array_equal(a, b)


def test_skip_mismatch_warns_once_per_skipped_layer(tmp_path):
    model = Sequential([Dense(8, activation="relu", input_shape=(4,), name="a"),
                        Dense(5, name="b"), Dense(2, name="c")])
    path = str(tmp_path / "weights.h5")
    model.save_weights(path)
    # "a" and "b" differ (b only in its kernel: its bias shape (5,) still matches), "c" fits.
    other = Sequential([Dense(8, activation="relu", input_shape=(3,), name="a"),
                        Dense(5, name="b"), Dense(2, name="c")])
    other.build()
    before = [w.copy() for w in other.get_weights()]
    with pytest.warns(TkerasWarning) as record:
        other.load_weights(path, by_name=True, skip_mismatch=True)
    messages = [str(w.message) for w in record if issubclass(w.category, TkerasWarning)]
    assert len(messages) == 1, messages  # only "a" mismatches: (3, 8) against (4, 8)
    assert messages[0].startswith("Skipping loading weights of layer a (Shape mismatch in "
                                  "layer #0 (named a): weight")
    assert "(3, 8)" in messages[0] and "(4, 8)" in messages[0]
    np.testing.assert_array_equal(other.layers[0].get_weights()[0], before[0])  # a kept its own
    np.testing.assert_array_equal(other.layers[0].get_weights()[1], before[1])  # bias too
    for ours, theirs in zip(other.layers[1:], model.layers[1:]):
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_array_equal(a, b)
    third = Sequential([Dense(8, activation="relu", input_shape=(3,), name="a"),
                        Dense(6, name="b"), Dense(2, name="c")])
    third.build()
    with pytest.warns(TkerasWarning) as record:
        third.load_weights(path, by_name=True, skip_mismatch=True)
    warned = sorted(str(w.message).split(" (")[0] for w in record)
    assert warned == [f"Skipping loading weights of layer {n}" for n in "abc"]  # c: (6, 2) kernel


def test_skip_mismatch_needs_by_name(saved):
    _, paths = saved
    with pytest.raises(ValueError, match="skip_mismatch can only be set to True when by_name"):
        _mlp().load_weights(paths["weights"], skip_mismatch=True)


# ------------------------------------------------------------------ saving

class _Subclassed(Model):
    def __init__(self):
        super().__init__(name="sub")
        self.hidden = Dense(4, activation="relu")
        self.out = Dense(1)

    def call(self, inputs):
        return self.out(self.hidden(inputs))


@pytest.mark.parametrize("filename", ["sub.h5", "sub.keras"])
def test_subclassed_model_cannot_be_saved_whole(filename, tmp_path):
    model = _Subclassed()
    model(np.zeros((2, 3), np.float32))
    with pytest.raises(NotImplementedError, match="subclassed model.*save_weights"):
        model.save(str(tmp_path / filename))
    assert not os.listdir(tmp_path)  # nothing half-written


@pytest.mark.parametrize("filename", ["model.h5", "model.keras"])
def test_model_with_wrapped_torch_module_saves_weights_only(filename, tmp_path):
    from tkeras.layers import TorchModuleWrapper
    inputs = Input(shape=(4,))
    model = Model(inputs, Dense(2)(TorchModuleWrapper(torch.nn.Linear(4, 3), name="lin")(inputs)))
    with pytest.raises(NotImplementedError,
                       match=r"^Unable to save model 'model' \(Functional\) with its architecture: "
                             r"TorchModuleWrapper 'lin' wraps arbitrary torch code, which has no "
                             r"Keras config"):
        model.save(str(tmp_path / filename))
    assert not os.listdir(tmp_path)
    path = str(tmp_path / "weights.h5")
    model.save_weights(path)
    again = Model(inputs, Dense(2)(TorchModuleWrapper(torch.nn.Linear(4, 3))(inputs)))
    again.load_weights(path)
    x = np.random.rand(3, 4).astype("float32")
    np.testing.assert_array_equal(predict(again, [x])[0], predict(model, [x])[0])


class _Configurable(_Subclassed):
    """A subclassed model with get_config: it can be saved whole as a .keras file."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()


def test_subclassed_model_with_config_saves_as_keras_zip_not_hdf5(tmp_path):
    x = np.random.RandomState(0).standard_normal((3, 3)).astype(np.float32)
    model = _Configurable()
    model(x)
    with pytest.raises(NotImplementedError, match="HDF5 requires a Sequential or functional"):
        model.save(str(tmp_path / "sub.h5"))
    path = str(tmp_path / "sub.keras")
    model.save(path)
    loaded = load_model(path, custom_objects={"_Configurable": _Configurable})
    assert type(loaded) is _Configurable
    np.testing.assert_array_equal(predict(loaded, [x])[0], predict(model, [x])[0])


def test_subclassed_model_saves_weights(tmp_path):
    x = np.random.RandomState(0).standard_normal((3, 3)).astype(np.float32)
    model = _Subclassed()
    model(x)
    path = str(tmp_path / "sub_weights.h5")
    model.save_weights(path)
    again = _Subclassed()
    again(x)
    again.load_weights(path)
    np.testing.assert_array_equal(predict(again, [x])[0], predict(model, [x])[0])


def test_savedmodel_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="SavedModel"):
        _mlp().save(str(tmp_path / "model"), save_format="tf")
    with pytest.raises(ValueError, match="Unknown save_format"):
        _mlp().save(str(tmp_path / "model"), save_format="pickle")


def test_overwrite_false_keeps_the_existing_file(saved):
    _, paths = saved
    before = _bytes(paths["h5"])
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _mlp(units=3).save(paths["h5"], overwrite=False)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _mlp(units=3).save_weights(paths["weights"], overwrite=False)
    assert _bytes(paths["h5"]) == before


def test_save_model_needs_a_model(tmp_path):
    with pytest.raises(TypeError, match="expects a tkeras Model"):
        tkeras.saving.save_model(Dense(3), str(tmp_path / "layer.h5"))


def test_functional_model_without_extension_is_hdf5(tmp_path):
    inputs = Input(shape=(4,))
    model = Model(inputs, Dense(2)(inputs))
    path = str(tmp_path / "my_model")
    model.save(path)
    assert h5py.is_hdf5(path)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(predict(load_model(path), [x])[0], predict(model, [x])[0])
