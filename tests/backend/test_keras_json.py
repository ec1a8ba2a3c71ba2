"""A Keras user's ``keras.json`` (``$KERAS_HOME`` or ``~/.keras``) sets floatx, epsilon and
image_data_format where ``tkeras.json`` does not; its ``backend`` key is ignored. Each case
imports tkeras in a fresh process with HOME / KERAS_HOME / TKERAS_HOME in temp folders."""
import json

from test_config import settings_in_fresh_process, write_config

KERAS_USER_CONFIG = {"floatx": "float64", "epsilon": 1e-4,
                     "image_data_format": "channels_first", "backend": "tensorflow"}


def _write_keras_json(folder, cfg):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "keras.json").write_text(json.dumps(cfg))


def _settings(got):
    return got["floatx"], got["epsilon"], got["image_data_format"]


def test_keras_json_under_home_is_used_when_there_is_no_tkeras_json(tmp_path):
    user = tmp_path / "user"
    _write_keras_json(user / ".keras", KERAS_USER_CONFIG)
    got = settings_in_fresh_process(tmp_path / "th", {"HOME": user, "KERAS_HOME": None,
                                                      "TKERAS_HOME": None})
    assert _settings(got) == ("float64", 1e-4, "channels_first")
    assert got["kernel_dtype"] == "torch.float64"  # the settings drive new weights
    assert got["conv_data_format"] == "channels_first"
    # Keras's file is left as it was, and no tkeras.json is written beside it: later edits
    # of keras.json keep applying.
    assert json.loads((user / ".keras" / "keras.json").read_text()) == KERAS_USER_CONFIG
    assert not (user / ".tkeras").exists()


def test_keras_home_names_the_folder_of_keras_json(tmp_path):
    keras_home = tmp_path / "elsewhere"
    _write_keras_json(keras_home, {"floatx": "float16", "epsilon": 0.01})
    got = settings_in_fresh_process(tmp_path / "th", {"KERAS_HOME": keras_home})
    assert _settings(got) == ("float16", 0.01, "channels_last")
    assert not (tmp_path / "th").exists()


def test_tkeras_json_wins_key_by_key(tmp_path):
    keras_home = tmp_path / "kh"
    _write_keras_json(keras_home, KERAS_USER_CONFIG)
    write_config(tmp_path / "th", json.dumps({"epsilon": 1e-3, "backend": "torch"}))
    got = settings_in_fresh_process(tmp_path / "th", {"KERAS_HOME": keras_home})
    assert _settings(got) == ("float64", 1e-3, "channels_first")


def test_a_full_tkeras_json_leaves_keras_json_unused(tmp_path):
    keras_home = tmp_path / "kh"
    _write_keras_json(keras_home, KERAS_USER_CONFIG)
    write_config(tmp_path / "th", json.dumps({"floatx": "float32", "epsilon": 1e-7,
                                              "image_data_format": "channels_last"}))
    got = settings_in_fresh_process(tmp_path / "th", {"KERAS_HOME": keras_home})
    assert _settings(got) == ("float32", 1e-7, "channels_last")


def test_invalid_or_unreadable_keras_json_values_fall_back_to_the_defaults(tmp_path):
    keras_home = tmp_path / "kh"
    _write_keras_json(keras_home, {"floatx": "float128", "epsilon": "small",
                                   "image_data_format": "NHWC", "backend": "theano"})
    got = settings_in_fresh_process(tmp_path / "th", {"KERAS_HOME": keras_home})
    assert _settings(got) == ("float32", 1e-7, "channels_last")
    (keras_home / "keras.json").write_text("{ not json")
    got = settings_in_fresh_process(tmp_path / "th2", {"KERAS_HOME": keras_home})
    assert _settings(got) == ("float32", 1e-7, "channels_last")


def test_without_either_file_tkeras_json_is_created_and_keras_json_is_not(tmp_path):
    keras_home = tmp_path / "kh"
    got = settings_in_fresh_process(tmp_path / "th", {"KERAS_HOME": keras_home})
    assert _settings(got) == ("float32", 1e-7, "channels_last")
    assert (tmp_path / "th" / "tkeras.json").exists()
    assert not keras_home.exists()
