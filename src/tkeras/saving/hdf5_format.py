"""The Keras 2 HDF5 layout: weights files (``save_weights``) and full model files
(``model.save("m.h5")``), read and written exactly as tf-keras 2.x does.

Weights layout: the group (file root for weight files, ``model_weights`` in model files)
has attributes ``layer_names``, ``backend``, ``keras_version``; each layer has a subgroup
with attribute ``weight_names`` (full Keras variable names, in ``layer.weights`` order) and
one dataset per weight at ``<layer>/<weight name>`` (names contain ``/``: nested groups).

Model files add the root attributes ``keras_version``, ``backend``, ``model_config`` (the
architecture as JSON) and ``training_config`` (loss, metrics, loss weights and the
optimizer's config, as JSON), and a group ``optimizer_weights`` whose attribute
``weight_names`` lists the optimizer's variables (``iteration:0``, ``Adam/m/dense/kernel:0``
...; ``Adam/iter:0``, ``Adam/dense/kernel/m:0`` ... for Keras 2 optimizers), one dataset each.
Files written by Keras 2.0 - 2.2 (fixed-length byte-string attributes, ``Model`` as the
class name, older optimizer variable lists) load too.
"""
from __future__ import annotations

import contextlib
import json
import os
import warnings
from typing import Any, Dict, Iterator, List, Optional

import h5py
import numpy as np
import torch

from .._warn import TkerasWarning
from . import legacy_h5
from .atomic import atomic_write

HDF5_OBJECT_HEADER_LIMIT = 64512
KERAS_VERSION = "2.21.0"
BACKEND = "torch"


# ------------------------------------------------------------------ attributes

def save_attributes_to_hdf5_group(group, name: str, data: List[str]) -> None:
    """Writes a list of strings as an attribute, split in chunks over HDF5's 64 KB header limit."""
    too_long = [x for x in data if len(x.encode("utf8")) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise RuntimeError("The following attributes cannot be saved to HDF5 file because they "
                           f"are larger than {HDF5_OBJECT_HEADER_LIMIT} bytes: {too_long}")
    if not data:
        group.attrs[name] = np.array([])  # what tf-keras writes for an empty list
        return
    sizes = np.array([len(x.encode("utf8")) + 16 for x in data])
    chunks = 1
    while True:
        parts = np.array_split(np.arange(len(data)), chunks)
        if all(sizes[p].sum() <= HDF5_OBJECT_HEADER_LIMIT for p in parts):
            break
        chunks += 1
    dtype = h5py.string_dtype("utf-8")
    if chunks == 1:
        group.attrs[name] = np.array(data, dtype=dtype)
        return
    for i, part in enumerate(parts):
        group.attrs[f"{name}{i}"] = np.array([data[j] for j in part], dtype=dtype)


def load_attributes_from_hdf5_group(group, name: str) -> List[str]:
    """Reads a string-list attribute (chunked or not; bytes from old h5py are decoded)."""
    def decode(values):
        return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in np.atleast_1d(values)
                if not (isinstance(v, float))]

    if name in group.attrs:
        return decode(group.attrs[name])
    out: List[str] = []
    i = 0
    while f"{name}{i}" in group.attrs:
        out.extend(decode(group.attrs[f"{name}{i}"]))
        i += 1
    return out


def _decode_attr(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


# ------------------------------------------------------------------ files

def open_hdf5_for_reading(path) -> h5py.File:
    """Opens an HDF5 file with Keras-style errors for missing, non-HDF5 or broken files."""
    if isinstance(path, h5py.File):
        return path
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No file or directory found at {path}")
    if not h5py.is_hdf5(path):
        raise ValueError(f"The file {path} is not an HDF5 file (or it is truncated or corrupted): "
                         "tkeras reads Keras weights and models saved as .h5 / .hdf5 files, and "
                         ".keras zip files.")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise ValueError(
            f"Unable to read the HDF5 file {path}: it is truncated or corrupted ({e}).") from None


def _weight_values(layer) -> List[np.ndarray]:
    return [w.detach().cpu().numpy() for w in layer.weights]


# ------------------------------------------------------------------ save

def save_weights_to_hdf5_group(group, model) -> None:
    """Writes ``model.layers``' weights in the Keras 2 layout into an open group."""
    layers = model.layers
    save_attributes_to_hdf5_group(group, "layer_names", [layer.name for layer in layers])
    group.attrs["backend"] = BACKEND
    group.attrs["keras_version"] = KERAS_VERSION
    for layer in layers:
        g = group.create_group(layer.name)
        weights = layer.weights
        names = [w._keras_name for w in weights]
        save_attributes_to_hdf5_group(g, "weight_names", names)
        _write_datasets(g, names, _weight_values(layer))
    top = group.create_group("top_level_model_weights")
    save_attributes_to_hdf5_group(top, "weight_names", [])


def save_weights(model, filepath: str, overwrite: bool = True) -> None:
    """``model.save_weights(path)``: an HDF5 weights file real Keras 2 loads."""
    from . import saving_api
    filepath = os.fspath(filepath)
    saving_api.check_overwrite(filepath, overwrite)
    with atomic_write(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            save_weights_to_hdf5_group(f, model)


# ------------------------------------------------------------------ load

def _layers_with_weights(model) -> List[Any]:
    return [layer for layer in model.layers if layer.weights]


def read_named_datasets(group, names: List[str]) -> List[np.ndarray]:
    """The datasets ``names`` of ``group``, in that order (a missing one is a ValueError)."""
    missing = [n for n in names if n not in group]
    if missing:
        raise ValueError(f"The HDF5 group {group.name} lists weights {missing} that are not in the "
                         "file: it is truncated or corrupted.")
    return [np.asarray(group[n]) for n in names]


def _read_layer_values(group, name: str):
    if name not in group:
        raise ValueError(f"The HDF5 file lists layer {name!r} in `layer_names` but has no group "
                         "for it: it is truncated or corrupted.")
    g = group[name]
    weight_names = load_attributes_from_hdf5_group(g, "weight_names")
    return weight_names, read_named_datasets(g, weight_names)


def _prepare_values(layer, values: List[np.ndarray], group=None) -> List[np.ndarray]:
    """A layer that stores a weight differently in old Keras versions converts it here."""
    if group is not None:  # Keras 1 / Theano layouts (saving/legacy_h5.py)
        values = legacy_h5.convert_legacy_weights(layer, values, group)
    convert = getattr(layer, "convert_loaded_weights", None)
    return convert(values) if convert is not None else values


def assign_values(pairs) -> None:
    """Copies (tensor, array) pairs into the tensors, in place, without autograd."""
    with torch.no_grad():
        for param, value in pairs:
            param.copy_(torch.as_tensor(np.asarray(value), dtype=param.dtype).to(param.device))


def load_weights_from_hdf5_group(group, model) -> None:
    """Loads weights by topological order (layers with weights, in order)."""
    layers = _layers_with_weights(model)
    saved_names = [name for name in load_attributes_from_hdf5_group(group, "layer_names")
                   if load_attributes_from_hdf5_group(group[name], "weight_names")]
    if len(saved_names) != len(layers):
        raise ValueError(f"Layer count mismatch when loading weights from file. Model expected "
                         f"{len(layers)} layers, found {len(saved_names)} saved layers.")
    pairs = []
    for k, (name, layer) in enumerate(zip(saved_names, layers)):
        _, values = _read_layer_values(group, name)
        values = _prepare_values(layer, values, group)
        params = layer.weights
        if len(values) != len(params):
            raise ValueError(f"Weight count mismatch for layer #{k} (named {layer.name} in the "
                             f"current model, {name} in the save file). Layer expects "
                             f"{len(params)} weight(s). Received {len(values)} saved weight(s)")
        for param, value in zip(params, values):
            if tuple(param.shape) != tuple(value.shape):
                raise ValueError(f"Shape mismatch in layer #{k} (named {layer.name} in the current "
                                 f"model, {name} in the save file) for weight {param._keras_name}. "
                                 f"Weight expects shape {tuple(param.shape)}. Received saved weight "
                                 f"with shape {tuple(value.shape)}")
            pairs.append((param, value))
    assign_values(pairs)


def load_weights_from_hdf5_group_by_name(group, model, skip_mismatch: bool = False) -> None:
    """Loads weights into the layers with the same names (others are left as they are)."""
    by_name: Dict[str, List[Any]] = {}
    for layer in model.layers:
        by_name.setdefault(layer.name, []).append(layer)
    pairs = []
    for k, name in enumerate(load_attributes_from_hdf5_group(group, "layer_names")):
        _, values = _read_layer_values(group, name)
        for layer in by_name.get(name, []):
            layer_values = _prepare_values(layer, values, group)
            params = layer.weights
            if len(layer_values) != len(params):
                detail = (f"layer #{k} (named {layer.name}): the layer expects {len(params)} "
                          f"weight(s). Received {len(layer_values)} saved weight(s)")
                if skip_mismatch:
                    warnings.warn(f"Skipping loading of weights for {detail}", TkerasWarning,
                                  stacklevel=3)
                    continue
                raise ValueError(f"Weight count mismatch for {detail}")
            mismatches = [f"weight {param._keras_name} expects shape {tuple(param.shape)}, "
                          f"received saved weight with shape {tuple(value.shape)}"
                          for param, value in zip(params, layer_values)
                          if tuple(param.shape) != tuple(value.shape)]
            if mismatches:
                message = f"Shape mismatch in layer #{k} (named {layer.name}): " + \
                    "; ".join(mismatches)
                if skip_mismatch:  # one warning per layer, which keeps all its weights
                    warnings.warn(f"Skipping loading weights of layer {layer.name} ({message})",
                                  TkerasWarning, stacklevel=3)
                    continue
                raise ValueError(message)
            pairs.extend(zip(params, layer_values))
    assign_values(pairs)


def load_weights(model, filepath, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """``model.load_weights(path)``: HDF5 weights files and full model files (Keras 2 layout)."""
    if skip_mismatch and not by_name:
        raise ValueError("When calling model.load_weights, skip_mismatch can only be set to True "
                         "when by_name is True.")
    if not isinstance(filepath, h5py.File) and os.path.isfile(filepath):
        from . import keras_v3
        if keras_v3.is_keras_zip(filepath):
            if by_name:
                raise ValueError("Loading weights by name (by_name=True) is only supported for "
                                 f"HDF5 weight files; {filepath} is a .keras file.")
            keras_v3.load_weights(model, filepath)
            return
    with _opened(filepath) as f, reading_errors(filepath, "weights"):
        group = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in group.attrs and "layer_names0" not in group.attrs:
            raise ValueError(f"The file {filepath} is an HDF5 file but not a Keras weights file "
                             "(no `layer_names` attribute).")
        if by_name:
            load_weights_from_hdf5_group_by_name(group, model, skip_mismatch=skip_mismatch)
        else:
            load_weights_from_hdf5_group(group, model)


@contextlib.contextmanager
def _opened(filepath) -> Iterator[h5py.File]:
    """An open file for reading; closed afterwards unless the caller passed it open."""
    f = open_hdf5_for_reading(filepath)
    try:
        yield f
    finally:
        if not isinstance(filepath, h5py.File):
            f.close()


@contextlib.contextmanager
def reading_errors(filepath, what: str) -> Iterator[None]:
    """Turns h5py's errors on a damaged file (OSError, KeyError, RuntimeError from the
    HDF5 library) into one ValueError that names the file. Wrap only HDF5 reads."""
    try:
        yield
    except (OSError, KeyError, RuntimeError) as e:
        raise ValueError(f"Unable to load {what} from {filepath}: the file is truncated or "
                         f"corrupted ({type(e).__name__}: {e}).") from None


def read_root_attr(f, name: str) -> Optional[str]:
    value = f.attrs.get(name)
    return None if value is None else _decode_attr(value)


# ------------------------------------------------------------------ full model files

def json_default(obj):
    """``json.dumps`` fallback for numpy scalars / arrays and config objects in configs."""
    from ..engine.training import _json_default
    return _json_default(obj)


def _write_datasets(group, names: List[str], values: List[np.ndarray]) -> None:
    for name, value in zip(names, values):
        dset = group.create_dataset(name, value.shape, dtype=value.dtype)
        if not value.shape:
            dset[()] = value
        else:
            dset[:] = value


def save_optimizer_weights_to_hdf5_group(f, optimizer) -> None:
    """Writes the ``optimizer_weights`` group: Keras names in ``weight_names``, one dataset each."""
    names = list(optimizer.variable_names())
    values = [np.asarray(v) for v in optimizer.get_weights()]
    group = f.create_group("optimizer_weights")
    save_attributes_to_hdf5_group(group, "weight_names", names)
    _write_datasets(group, names, values)


def legacy_form(value):
    """A training config in the form Keras's HDF5 files hold: serialized objects (dicts with
    ``class_name`` and ``config``) without the Keras 3 keys (``module``, ``registered_name``,
    ``build_config``), a registered class named by its registered name."""
    if isinstance(value, list):
        return [legacy_form(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "class_name" in value and "config" in value:
        return _without_keras3_keys({k: legacy_form(v) for k, v in value.items()})
    return {k: legacy_form(v) for k, v in value.items()}


def legacy_layer_entry(entry: dict) -> dict:
    """A model config in the form of Keras's HDF5 ``model_config``: the model and each entry
    of its ``layers`` (nested models included) without the Keras 3 keys; what a layer's own
    config holds (initializers, a wrapped layer) keeps them, as in Keras's files."""
    out = _without_keras3_keys(entry)
    config = out.get("config")
    if isinstance(config, dict) and isinstance(config.get("layers"), list):
        out["config"] = dict(config, layers=[legacy_layer_entry(layer) if isinstance(layer, dict)
                                             else layer for layer in config["layers"]])
    return out


def _without_keras3_keys(serialized: dict) -> dict:
    out = {k: v for k, v in serialized.items()
           if k not in ("module", "registered_name", "build_config")}
    registered = serialized.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        out["class_name"] = registered  # Keras 2 names registered classes "package>Name"
    return out


def _model_config_json(model) -> str:
    config = {"class_name": model._keras_class_name(), "config": model.get_config()}
    return json.dumps(legacy_layer_entry(config), default=json_default)


def save_model_to_hdf5(model, filepath, overwrite: bool = True,
                       include_optimizer: bool = True) -> None:
    """``model.save("model.h5")``: architecture, weights, training config and optimizer
    state in Keras 2's HDF5 layout, written atomically.

    Args:
        model: a Sequential or functional model.
        filepath: destination path, or an open writable ``h5py.File``.
        overwrite: replace an existing file.
        include_optimizer: also store the training config and the optimizer's state.
    """
    from . import saving_api
    model_config = _model_config_json(model)  # before anything is written
    training_config = saving_api.training_config(model) if include_optimizer else None
    optimizer = getattr(model, "optimizer", None)
    save_optimizer = bool(include_optimizer and training_config and optimizer.built)

    def write(f) -> None:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = BACKEND
        f.attrs["model_config"] = model_config
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(legacy_form(training_config),
                                                    default=json_default)
        save_weights_to_hdf5_group(f.create_group("model_weights"), model)
        if save_optimizer:
            save_optimizer_weights_to_hdf5_group(f, optimizer)

    if isinstance(filepath, h5py.File):
        write(filepath)
        return
    filepath = os.fspath(filepath)
    saving_api.check_overwrite(filepath, overwrite)
    with atomic_write(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            write(f)


def _read_json_attr(f, name: str, filepath) -> Optional[Dict[str, Any]]:
    text = read_root_attr(f, name)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise ValueError(f"The `{name}` attribute of {filepath} is not valid JSON: {e}") from None


def _read_optimizer_values(f) -> List[np.ndarray]:
    group = f["optimizer_weights"]
    return read_named_datasets(group, load_attributes_from_hdf5_group(group, "weight_names"))


def load_model_from_hdf5(filepath, custom_objects=None, compile: bool = True):
    """Rebuilds a model saved by ``model.save("model.h5")`` (tkeras or Keras 2.x).

    Args:
        filepath: path of the HDF5 file, or an open ``h5py.File``.
        custom_objects: classes and functions the file's configs name, by name.
        compile: compile the model with the saved training config and restore the
            optimizer's state.
    """
    from ..models import model_from_config
    from . import saving_api
    with _opened(filepath) as f:
        with reading_errors(filepath, "the model"):
            model_config = _read_json_attr(f, "model_config", filepath)
            training_config = _read_json_attr(f, "training_config", filepath) if compile else None
            is_weights_file = "layer_names" in f.attrs or "layer_names0" in f.attrs
        if model_config is None:
            _raise_no_model_config(filepath, is_weights_file)
        model_config = legacy_h5.convert_legacy_model_config(model_config, f)
        model = model_from_config(model_config, custom_objects=custom_objects)
        with reading_errors(filepath, "the model's weights"):
            load_weights_from_hdf5_group(f["model_weights"], model)
        if training_config is None:
            if compile:
                saving_api.log_not_compiled(filepath)
            return model
        saving_api.compile_from_training_config(model, training_config, custom_objects)
        if "optimizer_weights" in f:
            with reading_errors(filepath, "the optimizer state"):
                values = _read_optimizer_values(f)
            saving_api.restore_optimizer_state(model, values)
        return model


def _raise_no_model_config(filepath, is_weights_file: bool) -> None:
    if is_weights_file:
        raise ValueError(f"No model config found in the file at {filepath}: it holds weights "
                         "only. Rebuild the model in code and call `model.load_weights()`.")
    raise ValueError(f"The file {filepath} is an HDF5 file but not a Keras model file (it has no "
                     "`model_config` attribute): it was not written by Keras, or it is corrupted.")
