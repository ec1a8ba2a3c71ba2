"""``save_model`` / ``load_model``: whole models in Keras 2's HDF5 layout or the ``.keras`` zip,
plus the compile information both formats store (training config, optimizer state).

    model.save("model.h5")                      # Keras 2 HDF5 (also any other extension)
    model.save("model.keras")                   # the zip format of tf-keras 2.13+ / Keras 3
    model = tkeras.models.load_model("model.h5", custom_objects={"MyLayer": MyLayer})

Loading never runs code stored in a file unless the caller passes ``safe_mode=False``
(a ``Lambda`` layer's Python function is stored as bytecode, as Keras stores it), and never
unpickles anything.

What the saving code expects from the training API of ``Model`` (``engine/trainer.py``):
``model.optimizer`` (None before ``compile``), ``model.compile(optimizer=, loss=, metrics=,
loss_weights=, weighted_metrics=, ...)`` and ``model.get_compile_config()``: the arguments
given to ``compile`` as a dict with the keys ``optimizer``, ``loss``, ``metrics``,
``loss_weights``, ``weighted_metrics`` (``run_eagerly``, ``steps_per_execution``,
``jit_compile`` optional), raw or already serialized, or None when the model is not
compiled. ``model.metrics`` (metric objects with ``variables``) is saved when present.
"""
from __future__ import annotations

import logging
import os
import warnings
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from .._warn import TkerasWarning
from .object_registration import (
    CustomObjectScope, SafeModeScope, get_registered_name, get_registered_object,
    serialize_keras_object,
)

_LOG = logging.getLogger("tkeras")

_H5_FORMATS = ("h5", "hdf5")
_H5_EXTENSIONS = (".h5", ".hdf5")


# ------------------------------------------------------------------ save / load

def check_overwrite(filepath: str, overwrite: bool) -> None:
    """Refuses to replace an existing file when ``overwrite=False``."""
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"The file {filepath} already exists and overwrite=False was "
                              "passed. Pass overwrite=True to replace it.")


def _save_format(filepath, save_format: Optional[str]) -> str:
    import h5py
    if save_format is not None:
        fmt = str(save_format).lower()
        if fmt in _H5_FORMATS:
            return "h5"
        if fmt == "keras":
            return "keras"
        if fmt in ("tf", "tensorflow"):
            raise ValueError("tkeras cannot write TensorFlow SavedModel directories "
                             "(save_format='tf'). Use a filepath ending in .h5 or .keras, or "
                             "save_format='h5' / 'keras'.")
        raise ValueError(f"Unknown save_format: {save_format!r}. Expected one of 'h5', "
                         "'keras'.")
    if isinstance(filepath, h5py.File):
        return "h5"
    return "keras" if os.fspath(filepath).endswith(".keras") else "h5"


def _check_savable(model, fmt: str) -> None:
    from ..engine.functional import Functional
    from ..engine.training import Model
    if not isinstance(model, Model):
        raise TypeError(f"save_model expects a tkeras Model. Received: {type(model).__name__}")
    if fmt == "h5" and not isinstance(model, Functional):
        raise NotImplementedError(
            f"Saving model {model.name!r} ({type(model).__name__}) to HDF5 requires a "
            "Sequential or functional model: a subclassed model's layers are defined in "
            "Python code. Save it as a .keras file (it needs `get_config()` and the class "
            "passed to `load_model` in custom_objects), or save its weights with "
            "`model.save_weights(path)`.")
    try:
        model.get_config()
    except NotImplementedError as e:
        prefix = (f"Unable to save model {model.name!r} ({type(model).__name__}) with its "
                  "architecture")
        if isinstance(model, Functional):  # a layer without a config, e.g. wrapped torch code
            raise NotImplementedError(f"{prefix}: {e}") from None
        raise NotImplementedError(
            f"{prefix}: it is a subclassed model whose layers are defined in Python code, which a "
            "file cannot hold. Save its weights with `model.save_weights(path)` and rebuild the "
            "model in code before `load_weights`, or implement `get_config()` / "
            f"`from_config()` in the class. ({e})") from None


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True,
               save_format: Optional[str] = None, signatures=None, options=None,
               save_traces: bool = True) -> None:
    """Saves a model: architecture, weights, training config and optimizer state.

    Args:
        model: the model (Sequential, functional, or subclassed with ``get_config``).
        filepath: a path, or an open writable ``h5py.File``. ``.keras`` writes the zip
            format; anything else writes Keras 2's HDF5 layout.
        overwrite: replace an existing file (False raises FileExistsError).
        include_optimizer: also store the training config and the optimizer's state.
        save_format: "h5" or "keras" to force a format.
        signatures: TensorFlow SavedModel argument, ignored.
        options: TensorFlow SavedModel argument, ignored.
        save_traces: TensorFlow SavedModel argument, ignored.
    """
    from ..distribute.engine import saving
    fmt = _save_format(filepath, save_format)
    _check_savable(model, fmt)
    with saving(model) as write:  # with several processes: rank 0 writes, all wait
        if write:
            _write_model(model, filepath, fmt, overwrite, include_optimizer)


def _write_model(model, filepath, fmt: str, overwrite: bool, include_optimizer: bool) -> None:
    from . import hdf5_format, keras_v3
    if fmt == "keras":
        keras_v3.save_model(model, filepath, overwrite=overwrite,
                            include_optimizer=include_optimizer)
    else:
        hdf5_format.save_model_to_hdf5(model, filepath, overwrite=overwrite,
                                       include_optimizer=include_optimizer)


def load_model(filepath, custom_objects: Optional[Mapping[str, Any]] = None, compile: bool = True,
               safe_mode: bool = True, options=None):
    """Loads a model saved by ``model.save`` (tkeras, or Keras 2.x: ``.h5`` / ``.keras``).

    Args:
        filepath: path of the file (or an open ``h5py.File``).
        custom_objects: classes and functions the file names (custom layers, losses,
            metrics, initializers, activations...), by name.
        compile: compile the model as it was saved and restore the optimizer's state.
        safe_mode: False allows loading Python code stored in the file (Lambda bytecode)
            and lets a Lambda's function name be found in the module the file names (when
            already imported), as Keras does; only for files you trust. In safe mode (the
            default) names resolve only through ``custom_objects``, registered objects and
            tkeras's own objects.
        options: TensorFlow SavedModel argument, ignored.

    Returns:
        The model.
    """
    import h5py

    from . import hdf5_format, keras_v3
    with SafeModeScope(safe_mode), CustomObjectScope(dict(custom_objects or {})):
        if isinstance(filepath, h5py.File):
            return hdf5_format.load_model_from_hdf5(filepath, custom_objects, compile)
        path = os.fspath(filepath)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No file or directory found at {path}")
        if os.path.isdir(path):
            raise ValueError(f"{path} is a directory (a TensorFlow SavedModel?). tkeras loads "
                             "models saved as .h5 / .hdf5 files and .keras zip files.")
        if keras_v3.is_keras_zip(path):
            return keras_v3.load_model(path, custom_objects, compile)
        if path.endswith(".keras"):
            raise ValueError(f"The file {path} is not a valid .keras file (not a zip archive): "
                             "it is truncated or corrupted.")
        return hdf5_format.load_model_from_hdf5(path, custom_objects, compile)


# ------------------------------------------------------------------ compile information

def _serialize_compile_value(value):
    """Loss / metric arguments as Keras stores them: names stay names, functions become
    their (registered) names, objects ``{"module", "class_name", "config", ...}``."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        if "class_name" in value:  # already serialized
            return dict(value)
        return {k: _serialize_compile_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialize_compile_value(v) for v in value]
    return serialize_keras_object(value)


def _compile_arguments(model) -> Optional[Dict[str, Any]]:
    if getattr(model, "optimizer", None) is None:
        return None
    return model.get_compile_config()


def compile_config(model) -> Optional[Dict[str, Any]]:
    """The ``compile_config`` of a ``.keras`` file (None for a model not compiled)."""
    args = _compile_arguments(model)
    if args is None:
        return None
    config = {"optimizer": _serialize_optimizer(model.optimizer)}
    for key in ("loss", "metrics", "loss_weights", "weighted_metrics"):
        config[key] = _serialize_compile_value(args.get(key))
    for key in ("run_eagerly", "steps_per_execution", "jit_compile"):
        config[key] = args.get(key)
    return config


def _serialize_optimizer(optimizer) -> Dict[str, Any]:
    """The optimizer as a ``.keras`` compile_config holds it. Keras 2 (legacy-family)
    optimizers are marked ``is_legacy_optimizer: True``, which tf-keras needs to pick its
    legacy class when it reads the file."""
    from .. import optimizers
    serialized = optimizers.serialize(optimizer)
    inner = serialized.get("config")
    if isinstance(optimizer, optimizers.Optimizer) and isinstance(inner, dict) and \
            "is_legacy_optimizer" not in inner:
        serialized = {**serialized, "config": {**inner, "is_legacy_optimizer": True}}
    return serialized


def _optimizer_config(optimizer) -> Dict[str, Any]:
    """``{"class_name", "config"}`` as tf-keras 2.x writes it in ``training_config``
    (the newer optimizer family is registered as ``Custom>Name`` there)."""
    name = get_registered_name(type(optimizer))
    config = optimizer.get_config()
    if ">" not in name and config.get("is_legacy_optimizer") is False:
        name = "Custom>" + name
    return {"class_name": name, "config": config}


def training_config(model) -> Optional[Dict[str, Any]]:
    """The ``training_config`` attribute of an HDF5 model file (None when not compiled)."""
    args = _compile_arguments(model)
    if args is None:
        return None
    config = {key: _serialize_compile_value(args.get(key))
              for key in ("loss", "metrics", "weighted_metrics", "loss_weights")}
    for key in ("metrics", "weighted_metrics"):  # as tf-keras writes trained models' metrics
        config[key] = _metrics_per_output_lists(model, config[key])
    config["optimizer_config"] = _optimizer_config(model.optimizer)
    return config


def _resolve_compile_value(value, module_objects: Mapping[str, Any], kind: str,
                           custom_objects: Optional[Mapping[str, Any]]):
    """Rebuilds a loss / metric argument: custom names become their objects, built-in
    names stay names (compile resolves them, e.g. 'accuracy' by the loss and shape)."""
    from .object_registration import deserialize_keras_object
    if value is None or isinstance(value, (int, float, bool)):
        return value
    if isinstance(value, str):
        custom = get_registered_object(value, custom_objects)
        return custom if custom is not None else value
    if isinstance(value, Mapping):
        if "class_name" not in value:
            return {k: _resolve_compile_value(v, module_objects, kind, custom_objects)
                    for k, v in value.items()}
        if value["class_name"] == "function":  # a function, serialized the Keras 3 way
            name = value.get("registered_name") or value["config"]
            return _resolve_compile_value(name, module_objects, kind, custom_objects)
        return deserialize_keras_object(value, module_objects=module_objects,
                                        custom_objects=custom_objects,
                                        printable_module_name=kind)
    if isinstance(value, (list, tuple)):
        return [_resolve_compile_value(v, module_objects, kind, custom_objects) for v in value]
    return value


def _per_output_metrics(model, metrics):
    """tf-keras writes compiled metrics as one list per output, ``None`` for none:
    ``[[acc]]`` becomes ``[acc]`` and ``[[acc], [None]]`` ``{"out_a": [acc]}``."""
    names = list(getattr(model, "output_names", None) or [])
    if not isinstance(metrics, list) or not metrics or len(metrics) != len(names) or \
            not all(isinstance(m, list) for m in metrics):
        return metrics
    per_output = {name: [m for m in ms if m is not None] for name, ms in zip(names, metrics)}
    if len(names) == 1:
        return per_output[names[0]]
    return {name: ms for name, ms in per_output.items() if ms}


def _metrics_per_output_lists(model, metrics):
    """The inverse of ``_per_output_metrics``: one list per output in output order, ``[None]``
    for an output without metrics (a flat list applies to every output, as in Keras 2)."""
    names = list(getattr(model, "output_names", None) or [])
    if metrics is None or not names:
        return metrics
    if isinstance(metrics, Mapping):
        lists = [metrics.get(name) for name in names]
        lists = [list(m) if isinstance(m, (list, tuple)) else ([m] if m is not None else None)
                 for m in lists]
    elif isinstance(metrics, list) and len(metrics) == len(names) and \
            all(isinstance(m, list) or m is None for m in metrics) and \
            any(isinstance(m, list) for m in metrics):
        lists = metrics
    else:
        lists = [list(metrics) if isinstance(metrics, list) else [metrics]] * len(names)
    return [ms if ms else [None] for ms in lists]


def _compile(model, config: Mapping[str, Any], custom_objects) -> None:
    from .. import losses, metrics, optimizers
    optimizer = optimizers.deserialize(config["optimizer"], custom_objects=custom_objects) \
        if isinstance(config["optimizer"], Mapping) else optimizers.get(config["optimizer"])
    # tkeras's own tables, never a module's whole namespace (which holds its imports)
    loss_objects, metric_objects = losses._OBJECTS, metrics._OBJECTS
    kwargs: Dict[str, Any] = {
        "optimizer": optimizer,
        "loss": _resolve_compile_value(config.get("loss"), loss_objects, "loss", custom_objects),
        "loss_weights": config.get("loss_weights"),
    }
    for key in ("metrics", "weighted_metrics"):
        value = _resolve_compile_value(config.get(key), metric_objects, "metric", custom_objects)
        kwargs[key] = _per_output_metrics(model, value)
    for key in ("sample_weight_mode", "run_eagerly", "steps_per_execution", "jit_compile"):
        if config.get(key) is not None:
            kwargs[key] = config[key]
    model.compile(**kwargs)


def compile_from_training_config(model, config: Mapping[str, Any], custom_objects=None) -> None:
    """Compiles a model loaded from HDF5 as its ``training_config`` says."""
    if "optimizer_config" not in config:
        raise ValueError("The training_config of this file has no optimizer_config: "
                         f"{dict(config)}")
    _compile(model, {**config, "optimizer": config["optimizer_config"]}, custom_objects)


def compile_from_compile_config(model, config: Mapping[str, Any], custom_objects=None) -> None:
    """Compiles a model loaded from a ``.keras`` file as its ``compile_config`` says."""
    _compile(model, config, custom_objects)


def restore_optimizer_state(model, values: List[np.ndarray]) -> None:
    """Builds ``model.optimizer`` for the model's trainable weights and sets its state
    (a state that does not fit is skipped with a warning, as Keras does)."""
    optimizer = model.optimizer
    try:
        optimizer.build(model.trainable_weights)
        optimizer.set_weights(values)
    except (ValueError, TypeError) as e:
        warnings.warn(f"Error in loading the saved optimizer state: {e} As a result, the model "
                      "starts with a freshly initialized optimizer.", TkerasWarning, stacklevel=3)


def log_not_compiled(filepath) -> None:
    _LOG.warning("No training configuration found in the save file %s, so the model was *not* "
                 "compiled. Compile it manually.", filepath)
