"""Backend configuration: floatx, epsilon, image_data_format, the learning phase, uids.

The settings ``floatx``, ``epsilon`` and ``image_data_format`` are read once, at import,
each from the first of these that sets it to a valid value:

1. ``$TKERAS_HOME/tkeras.json`` (default ``~/.tkeras/tkeras.json``);
2. a Keras user's ``$KERAS_HOME/keras.json`` (default ``~/.keras/keras.json``; Keras 2's
   ``backend`` key is ignored);
3. the defaults: ``float32``, ``1e-07``, ``channels_last``.

When neither file exists, ``tkeras.json`` is created with the defaults, as Keras creates
``keras.json`` on first use; an existing ``keras.json`` is never written to, and its
presence alone creates no ``tkeras.json`` (so later edits of it keep applying).
"""
from __future__ import annotations

import collections
import json
import os
import threading
from typing import Callable, List, Optional, Union

import numpy as np
import torch

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_VALID_FLOATX = ("float16", "bfloat16", "float32", "float64")
_VALID_DATA_FORMATS = ("channels_last", "channels_first")

_TORCH_DTYPES = {
    "float16": torch.float16, "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32, "float": torch.float32,
    "float64": torch.float64, "double": torch.float64,
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "uint8": torch.uint8, "bool": torch.bool,
    "complex64": torch.complex64, "complex128": torch.complex128,
}
_DTYPE_NAMES = {v: k for k, v in reversed(list(_TORCH_DTYPES.items()))}


def _home_base() -> str:
    base = os.path.expanduser("~")
    return base if os.access(base, os.W_OK) else "/tmp"


def config_dir() -> str:
    """The folder that holds ``tkeras.json``: ``$TKERAS_HOME`` or ``~/.tkeras``."""
    home = os.environ.get("TKERAS_HOME")
    if home:
        return home
    return os.path.join(_home_base(), ".tkeras")


def keras_config_dir() -> str:
    """The folder of a Keras user's ``keras.json``: ``$KERAS_HOME`` or ``~/.keras`` (as
    Keras 2 finds it: ``/tmp/.keras`` when the home folder is not writable)."""
    home = os.environ.get("KERAS_HOME")
    if home:
        return home
    return os.path.join(_home_base(), ".keras")


def _read_json(path: str) -> Optional[dict]:
    """The JSON object in ``path``; ``{}`` for an unreadable file (Keras then uses the
    defaults); None when there is no file."""
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        return {}
    return cfg if isinstance(cfg, dict) else {}


def _valid_settings(cfg: dict) -> dict:
    """The settings of a config file that tkeras understands, invalid values left out."""
    out = {}
    if cfg.get("floatx") in _VALID_FLOATX:
        out["floatx"] = cfg["floatx"]
    eps = cfg.get("epsilon")
    if isinstance(eps, (int, float)) and not isinstance(eps, bool):
        out["epsilon"] = float(eps)
    if cfg.get("image_data_format") in _VALID_DATA_FORMATS:
        out["image_data_format"] = cfg["image_data_format"]
    return out


def _load_config_file() -> None:
    global _FLOATX, _EPSILON, _IMAGE_DATA_FORMAT
    folder = config_dir()
    path = os.path.join(folder, "tkeras.json")
    own = _read_json(path)
    keras = _read_json(os.path.join(keras_config_dir(), "keras.json"))
    settings = _valid_settings(keras or {})
    settings.update(_valid_settings(own or {}))  # tkeras.json wins key by key
    _FLOATX = settings.get("floatx", _FLOATX)
    _EPSILON = settings.get("epsilon", _EPSILON)
    _IMAGE_DATA_FORMAT = settings.get("image_data_format", _IMAGE_DATA_FORMAT)
    if own is not None or keras is not None:
        return
    try:
        os.makedirs(folder, exist_ok=True)
        defaults = {"floatx": _FLOATX, "epsilon": _EPSILON,
                    "image_data_format": _IMAGE_DATA_FORMAT, "backend": "torch"}
        tmp = path + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            json.dump(defaults, f, indent=4)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home is fine: the defaults apply


_load_config_file()


def floatx() -> str:
    """The default float type, as a string: ``'float32'``."""
    return _FLOATX


def set_floatx(value: str) -> None:
    global _FLOATX
    value = str(value)
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {set(_VALID_FLOATX)}")
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (default 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    global _IMAGE_DATA_FORMAT
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}")
    _IMAGE_DATA_FORMAT = str(data_format)


def normalize_data_format(value: Optional[str]) -> str:
    if value is None:
        return _IMAGE_DATA_FORMAT
    data_format = str(value).lower()
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value}")
    return data_format


# ---------------------------------------------------------------- dtypes

def torch_dtype(dtype: Union[str, torch.dtype, None] = None) -> torch.dtype:
    """Turns a Keras dtype name (or numpy / torch dtype) into a torch dtype; None -> floatx."""
    if dtype is None:
        return _TORCH_DTYPES[_FLOATX]
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, type):  # numpy scalar types: np.float32
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"Unknown dtype: {dtype!r}") from None
    name = getattr(dtype, "name", None) or str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    try:
        return _TORCH_DTYPES[name]
    except KeyError:
        raise ValueError(f"Unknown dtype: {dtype!r}") from None


def dtype_name(dtype: Union[str, torch.dtype, None]) -> str:
    """The Keras name of a dtype: torch.float32 -> 'float32'."""
    if dtype is None:
        return _FLOATX
    return _DTYPE_NAMES[torch_dtype(dtype)]


# ---------------------------------------------------------------- learning phase

_LEARNING_PHASE: Optional[int] = None


def learning_phase():
    """The global learning phase: 0 (test), 1 (train); 0 when never set."""
    return 0 if _LEARNING_PHASE is None else _LEARNING_PHASE


def learning_phase_if_set() -> Optional[int]:
    """The learning phase ``set_learning_phase`` set, or None (layers then use their own
    training default)."""
    return _LEARNING_PHASE


def set_learning_phase(value) -> None:
    global _LEARNING_PHASE
    if value not in (0, 1, True, False):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: {value}")
    _LEARNING_PHASE = int(value)


def _reset_learning_phase() -> None:
    global _LEARNING_PHASE
    _LEARNING_PHASE = None


# ---------------------------------------------------------------- names

_UIDS: "collections.defaultdict[str, int]" = collections.defaultdict(int)
_UID_LOCK = threading.Lock()


def get_uid(prefix: str = "") -> int:
    """Counts calls per prefix: 1 for the first, 2 for the second, ... (Keras's get_uid)."""
    with _UID_LOCK:
        _UIDS[prefix] += 1
        return _UIDS[prefix]


def unique_object_name(prefix: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... per session, as Keras names layers."""
    n = get_uid(prefix)
    return prefix if n == 1 else f"{prefix}_{n - 1}"


def reset_uids() -> None:
    with _UID_LOCK:
        _UIDS.clear()


_CLEAR_SESSION_HOOKS: List[Callable[[], None]] = []


def register_clear_session_hook(fn) -> None:
    """Lets other parts of tkeras reset their per-session state in clear_session()."""
    _CLEAR_SESSION_HOOKS.append(fn)


def clear_session() -> None:
    """Resets the automatic layer names and the learning phase, as Keras's clear_session."""
    reset_uids()
    _reset_learning_phase()
    for fn in _CLEAR_SESSION_HOOKS:
        fn()
