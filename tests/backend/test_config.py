"""The backend configuration file ``$TKERAS_HOME/tkeras.json`` (Keras's ``~/.keras/keras.json``)
and the setters of floatx / epsilon / image_data_format.

The file is read once, when tkeras is imported, so each file test imports tkeras in a fresh
Python process with ``TKERAS_HOME`` pointing at a temporary folder.
"""
import json
import os
import subprocess
import sys

import pytest

from tkeras import backend as K

# The keys of the keras.json that Keras 2 writes on first use; the values for the first
# three are Keras's defaults ("backend" names the backend: "tensorflow" in Keras).
KERAS_JSON_KEYS = {"floatx", "epsilon", "image_data_format", "backend"}

REPORT_SETTINGS = """
import json
import tkeras
from tkeras import backend as K
dense = tkeras.layers.Dense(2)
dense.build((None, 3))
print(json.dumps({
    "floatx": K.floatx(), "epsilon": K.epsilon(), "image_data_format": K.image_data_format(),
    "variable_dtype": str(K.variable([1.0]).dtype), "kernel_dtype": str(dense.kernel.dtype),
    "conv_data_format": tkeras.layers.Conv2D(2, 3).data_format,
}))
"""


def settings_in_fresh_process(home, env_overrides=None):
    """Imports tkeras in a new interpreter with ``TKERAS_HOME=home``; returns what it reads.

    ``HOME`` and ``KERAS_HOME`` point at an empty folder beside ``home`` (the machine's own
    ~/.keras/keras.json stays out) unless ``env_overrides`` sets them; a value of None there
    removes the variable."""
    user = home.parent / (home.name + "_user")
    env = dict(os.environ, HOME=str(user), KERAS_HOME=str(user / ".keras"),
               TKERAS_HOME=str(home))
    for key, value in (env_overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    done = subprocess.run([sys.executable, "-c", REPORT_SETTINGS], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_config(home, text):
    home.mkdir(parents=True, exist_ok=True)
    (home / "tkeras.json").write_text(text)


def test_first_import_writes_the_defaults_with_keras_json_keys(tmp_path):
    home = tmp_path / "new" / "home"  # the folder does not exist yet
    got = settings_in_fresh_process(home)
    written = json.loads((home / "tkeras.json").read_text())
    assert set(written) == KERAS_JSON_KEYS
    assert written["floatx"] == "float32"
    assert written["epsilon"] == 1e-07
    assert written["image_data_format"] == "channels_last"
    assert written["backend"] == "torch"
    assert got["floatx"] == "float32" and got["epsilon"] == 1e-07
    assert got["image_data_format"] == "channels_last"
    assert got["kernel_dtype"] == "torch.float32"
    assert got["conv_data_format"] == "channels_last"
    assert not [p.name for p in home.iterdir() if p.name != "tkeras.json"]  # no temp file left


def test_written_defaults_are_read_back_unchanged(tmp_path):
    settings_in_fresh_process(tmp_path)
    first = (tmp_path / "tkeras.json").read_text()
    assert settings_in_fresh_process(tmp_path)["epsilon"] == 1e-07
    assert (tmp_path / "tkeras.json").read_text() == first


def test_existing_file_sets_floatx_epsilon_and_data_format(tmp_path):
    text = json.dumps({"floatx": "float64", "epsilon": 1e-5,
                       "image_data_format": "channels_first", "backend": "tensorflow"})
    write_config(tmp_path, text)
    got = settings_in_fresh_process(tmp_path)
    assert got["floatx"] == "float64"
    assert got["epsilon"] == 1e-5
    assert got["image_data_format"] == "channels_first"
    # what the settings drive: new variables and weights, the layers' default data_format
    assert got["variable_dtype"] == "torch.float64"
    assert got["kernel_dtype"] == "torch.float64"
    assert got["conv_data_format"] == "channels_first"
    assert (tmp_path / "tkeras.json").read_text() == text  # an existing file is not rewritten


def test_missing_keys_keep_their_defaults(tmp_path):
    write_config(tmp_path, json.dumps({"image_data_format": "channels_first"}))
    got = settings_in_fresh_process(tmp_path)
    assert (got["floatx"], got["epsilon"], got["image_data_format"]) == (
        "float32", 1e-07, "channels_first")


def test_unreadable_json_means_defaults_as_in_keras(tmp_path):
    write_config(tmp_path, "{ this is not json")
    got = settings_in_fresh_process(tmp_path)
    assert (got["floatx"], got["epsilon"], got["image_data_format"]) == (
        "float32", 1e-07, "channels_last")


@pytest.fixture
def restore_settings():
    saved = (K.floatx(), K.epsilon(), K.image_data_format())
    yield
    K.set_floatx(saved[0])
    K.set_epsilon(saved[1])
    K.set_image_data_format(saved[2])


@pytest.mark.parametrize("value", ["float128", "int32", "float", "Float32", None])
def test_set_floatx_rejects_unknown_values(value, restore_settings):
    with pytest.raises(ValueError, match=r"Unknown `floatx` value: .*\. Expected one of"):
        K.set_floatx(value)
    assert K.floatx() == "float32"


@pytest.mark.parametrize("value", ["float16", "float32", "float64"])
def test_set_floatx_accepts_keras_floats(value, restore_settings):
    K.set_floatx(value)
    assert K.floatx() == value


@pytest.mark.parametrize("value", ["channels_middle", "NHWC", "Channels_Last", None])
def test_set_image_data_format_rejects_unknown_values(value, restore_settings):
    expected = (r"The `data_format` argument must be one of \{'channels_(first|last)', "
                r"'channels_(first|last)'\}\. Received: data_format=" + str(value))
    with pytest.raises(ValueError, match=expected):
        K.set_image_data_format(value)
    assert K.image_data_format() == "channels_last"


def test_setters_change_what_getters_report(restore_settings):
    K.set_image_data_format("channels_first")
    K.set_epsilon(1e-3)
    assert K.image_data_format() == "channels_first"
    assert K.epsilon() == 1e-3
    K.set_image_data_format("channels_last")
    assert K.image_data_format() == "channels_last"


@pytest.mark.parametrize("value", [2, -1, 0.5, "1"])
def test_set_learning_phase_rejects_values_other_than_0_and_1(value):
    with pytest.raises(ValueError, match=r"Expected learning phase to be 0 or 1\. Received: "):
        K.set_learning_phase(value)
