"""The ``.keras`` format: a zip with ``config.json``, ``metadata.json`` and ``model.weights.h5``,
in the layout tf-keras 2.13+ (and Keras 3) write.

In ``model.weights.h5`` every object's own variables live at ``<path>/vars/<i>``. The path
is not made of layer names: Keras walks the model's attributes in sorted order and names a
child by its attribute (``cell``, ``forward_layer``, ``optimizer``); members of a list
(``layers``, ``metrics``, ``cells``) are named after their class in snake case, numbered
from the second one on (``dense``, ``dense_1``, ...). An object reached twice (a shared
layer) is stored once, at the first path. Examples::

    vars                                    the model's own variables (usually none)
    layers/dense/vars/0                     the first Dense's kernel
    layers/sequential/layers/dense/vars/1   a nested Sequential's first Dense's bias
    layers/bidirectional/forward_layer/cell/vars/0
    optimizer/vars/0                        the iteration counter, then the slots
    metrics/mean/vars/0                     the loss tracker's total
"""
from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import h5py
import numpy as np
import torch
from torch import nn

from ..engine.base_layer import Layer, to_snake_case
from . import saving_api
from .hdf5_format import KERAS_VERSION, assign_values, atomic_write, json_default, reading_errors

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"

# tf-keras writes the Functional class with its implementation module so that its own
# deserializer can import it; tkeras writes the same so that tf-keras loads tkeras files.
_FUNCTIONAL_MODULE = "tf_keras.src.engine.functional"


# ------------------------------------------------------------------ the attribute walk

def _list_children(items) -> List[Any]:
    return [m for m in items if isinstance(m, Layer)]


def _layer_children(layer: Layer) -> List[Tuple[str, Any]]:
    """(attribute name, child layer or list of layers) in the order Keras walks them."""
    from ..engine.training import Model
    children: Dict[str, Any] = {}
    if isinstance(layer, Model):
        children["layers"] = list(layer.layers)
    for key, module in layer._modules.items():
        if key.isdigit():  # the positional registration of a model's layers
            continue
        if key.startswith("_tracked_"):  # a list of layers assigned as an attribute
            children[key[len("_tracked_"):]] = _list_children(module)
        elif key.startswith("_"):
            continue
        elif isinstance(module, Layer):
            children[key] = module
        elif isinstance(module, (nn.ModuleList, nn.Sequential)):
            children[key] = _list_children(module)
        elif isinstance(module, nn.ModuleDict):
            children[key] = _list_children(module.values())
    for key, value in vars(layer).items():  # untracked references, e.g. Bidirectional.layer
        if not key.startswith("_") and isinstance(value, Layer) and key not in children:
            children[key] = value
    return sorted(children.items())


def _model_metrics(model) -> List[Any]:
    return [m for m in list(getattr(model, "metrics", None) or [])
            if _metric_variables(m) is not None]


def _model_children(model, metrics: List[Any]) -> List[Tuple[str, Any]]:
    """The top-level model's children: its layers, then its metrics and optimizer."""
    children = dict(_layer_children(model))
    children["metrics"] = metrics
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        children["optimizer"] = optimizer
    return sorted(children.items())


# tkeras classes that stand for another Keras class in the saved layout: the training
# loop's loss means (engine.compile_utils.RunningMeanView) are Keras's ``Mean`` metrics.
def _keras_class_name(obj) -> str:
    """The Keras class an object stands for: its ``_keras_class_name`` (a string, or a method
    as on models) when it has one, else its class name."""
    name = getattr(obj, "_keras_class_name", None)
    if callable(name):
        name = name()
    if isinstance(name, str):
        return name
    return type(obj).__name__


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _walk(obj, path: str, visit: Callable[[str, Any], None], visited: set,
          children: Optional[List[Tuple[str, Any]]] = None) -> None:
    """Calls ``visit(path, obj)`` for ``obj`` and every object below it, Keras's way."""
    if id(obj) in visited:
        return
    visited.add(id(obj))
    visit(path, obj)
    if children is None:
        children = _layer_children(obj) if isinstance(obj, Layer) else []
    for attr, child in children:
        child_path = _join(path, attr)
        if isinstance(child, list):
            used: Dict[str, int] = {}
            for item in child:
                name = to_snake_case(_keras_class_name(item))
                if name in used:
                    used[name] += 1
                    name = f"{name}_{used[name]}"
                else:
                    used[name] = 0
                _walk(item, _join(child_path, name), visit, visited)
        else:
            _walk(child, child_path, visit, visited)


def walk_model(model, visit: Callable[[str, Any, str], None]) -> None:
    """Calls ``visit(path, obj, kind)`` for the model (path ``""``), every layer below it,
    its metrics and its optimizer; ``kind`` is "layer", "metric" or "optimizer"."""
    metrics = _model_metrics(model)  # read once: the list may hold fresh views each time
    metric_ids = {id(m) for m in metrics}
    optimizer = getattr(model, "optimizer", None)

    def kind_of(obj) -> str:
        if obj is optimizer and optimizer is not None:
            return "optimizer"
        return "metric" if id(obj) in metric_ids else "layer"

    _walk(model, "", lambda path, obj: visit(path, obj, kind_of(obj)), set(),
          children=_model_children(model, metrics))


# ------------------------------------------------------------------ own variables

def _metric_variables(metric) -> Optional[List[torch.Tensor]]:
    variables = getattr(metric, "variables", None)
    if callable(variables):
        variables = variables()
    if variables is None:
        return None
    return list(variables)


def _own_variables(obj, kind: str) -> List[torch.Tensor]:
    """The variables an object stores itself, in Keras's order."""
    if kind == "layer":
        own = obj._own_weights
        return [w for w in own if w._keras_trainable] + [w for w in own if not w._keras_trainable]
    if kind == "optimizer":
        return list(obj.variables())
    return _metric_variables(obj) or []


def _describe(layer: Layer, path: str) -> str:
    return f'Layer "{layer.name}" (stored at "{path or "/"}")'


# ------------------------------------------------------------------ save

def _model_config_entry(model) -> Dict[str, Any]:
    """config.json: the serialized model with its build and compile configs."""
    from ..engine.functional import Functional, _as_list_shape
    from ..engine.sequential import Sequential
    from .object_registration import serialize_keras_object
    entry = serialize_keras_object(model)
    if type(model) is Functional:
        entry["module"] = _FUNCTIONAL_MODULE
        entry["registered_name"] = "Functional"
    elif type(model) is Sequential:
        entry["module"] = "keras"
    build_shape = getattr(model, "_build_input_shape", None)
    entry["build_config"] = {"input_shape": _as_list_shape(build_shape)} if model.built else None
    entry["compile_config"] = saving_api.compile_config(model)
    return entry


def _weights_file_bytes(model, include_optimizer: bool) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        def visit(path: str, obj, kind: str) -> None:
            group = f.create_group(_join(path, "vars"))
            if kind == "optimizer" and not (include_optimizer and obj.built):
                return  # no state yet (or not wanted): an empty group, as Keras reads it
            for i, value in enumerate(_own_variables(obj, kind)):
                group.create_dataset(str(i), data=value.detach().cpu().numpy())

        walk_model(model, visit)
    return buffer.getvalue()


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Writes ``model`` as a ``.keras`` zip (atomically: a crash leaves the old file intact).

    Args:
        model: a Sequential, functional, or subclassed model with ``get_config``.
        filepath: destination path (normally ending in ``.keras``).
        overwrite: replace an existing file.
        include_optimizer: store the optimizer's state as well.
    """
    filepath = os.fspath(filepath)
    saving_api.check_overwrite(filepath, overwrite)
    config = json.dumps(_model_config_entry(model), default=json_default)
    metadata = json.dumps({"keras_version": KERAS_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    with atomic_write(filepath) as tmp:
        weights = _weights_file_bytes(model, include_optimizer)
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(METADATA_FILENAME, metadata)
            zf.writestr(CONFIG_FILENAME, config)
            zf.writestr(WEIGHTS_FILENAME, weights)


# ------------------------------------------------------------------ load

def _open_zip(filepath) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(filepath, "r")
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"The file {filepath} is not a valid .keras file (it is truncated or "
                         f"corrupted): {e}") from None
    missing = [n for n in (CONFIG_FILENAME, WEIGHTS_FILENAME) if n not in names]
    if missing:
        zf.close()
        raise ValueError(f"The file {filepath} is a zip file but not a .keras model: it lacks "
                         f"{missing}. Expected {CONFIG_FILENAME}, {METADATA_FILENAME} and "
                         f"{WEIGHTS_FILENAME}.")
    return zf


def _read_member(zf: zipfile.ZipFile, name: str, filepath) -> bytes:
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, OSError, EOFError) as e:  # CRC errors, truncated members
        raise ValueError(f"Unable to read {name} from {filepath}: the file is corrupted ({e}).") \
            from None


def _stored_values(f: h5py.File, path: str) -> Optional[List[np.ndarray]]:
    key = _join(path, "vars")
    if key not in f:
        return None
    group = f[key]
    count = len(group.keys())
    missing = [str(i) for i in range(count) if str(i) not in group]
    if missing:
        raise ValueError(f'The weights file has an unexpected layout at "{key}": expected '
                         f"datasets 0..{count - 1}, missing {missing}.")
    return [np.asarray(group[str(i)]) for i in range(count)]


def _layer_pairs(f: h5py.File, path: str, layer: Layer) -> List[Tuple[torch.Tensor, Any]]:
    expected = _own_variables(layer, "layer")
    values = _stored_values(f, path)
    if values is None:
        values = []
    if len(values) != len(expected):
        raise ValueError(
            f"{_describe(layer, path)} expected {len(expected)} variables, but received "
            f"{len(values)} variables during loading. Expected: "
            f"{[w._keras_name for w in expected]}")
    for param, value in zip(expected, values):
        if tuple(param.shape) != tuple(value.shape):
            raise ValueError(
                f"{_describe(layer, path)}: weight {param._keras_name} expects shape "
                f"{tuple(param.shape)}; the file holds shape {tuple(value.shape)}.")
    return list(zip(expected, values))


def load_weights_from_store(f: h5py.File, model, load_optimizer: bool = True) -> None:
    """Loads a ``model.weights.h5`` store into ``model`` (layers first, all or nothing),
    then the optimizer and metric states where they match."""
    layer_pairs: List[Tuple[torch.Tensor, Any]] = []
    others: List[Tuple[str, Any, str]] = []

    def visit(path: str, obj, kind: str) -> None:
        if kind == "layer":
            layer_pairs.extend(_layer_pairs(f, path, obj))
        else:
            others.append((path, obj, kind))

    walk_model(model, visit)
    assign_values(layer_pairs)
    for path, obj, kind in others:
        values = _stored_values(f, path)
        if not values:
            continue
        if kind == "optimizer":
            if load_optimizer:
                saving_api.restore_optimizer_state(model, values)
        else:
            _load_metric(obj, values)


def _load_metric(metric, values: Sequence[np.ndarray]) -> None:
    """Restores a metric's state when it matches (``set_weights`` where the metric has it;
    its ``variables`` may be copies), as Keras does; a mismatch leaves the metric fresh."""
    variables = _metric_variables(metric) or []
    if len(variables) != len(values) or any(
            tuple(v.shape) != tuple(np.shape(a)) for v, a in zip(variables, values)):
        return
    if hasattr(metric, "set_weights"):
        metric.set_weights(list(values))
    else:
        assign_values(list(zip(variables, values)))


def _model_from_config_entry(entry: Dict[str, Any], custom_objects) -> Any:
    from ..models import model_from_config
    model = model_from_config(entry, custom_objects=custom_objects)
    build_config = entry.get("build_config")
    if build_config and not model.built:
        model.build_from_config(build_config)
    return model


def load_model(filepath, custom_objects=None, compile: bool = True) -> Any:
    """Reads a ``.keras`` file: rebuilds the model, compiles it as saved, loads all state.

    Args:
        filepath: the ``.keras`` file.
        custom_objects: classes and functions the config names, by name.
        compile: compile the model with the saved compile config (and restore the
            optimizer's state).
    """
    with _open_zip(filepath) as zf:
        try:
            entry = json.loads(_read_member(zf, CONFIG_FILENAME, filepath))
        except ValueError as e:
            raise ValueError(f"The config.json of {filepath} is not valid JSON: {e}") from None
        model = _model_from_config_entry(entry, custom_objects)
        compile_config = entry.get("compile_config")
        if compile and compile_config:
            saving_api.compile_from_compile_config(model, compile_config, custom_objects)
        with _open_weights(zf, filepath) as f, reading_errors(filepath, "the model's weights"):
            load_weights_from_store(f, model, load_optimizer=compile)
    return model


def _open_weights(zf: zipfile.ZipFile, filepath) -> h5py.File:
    data = _read_member(zf, WEIGHTS_FILENAME, filepath)
    try:
        return h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise ValueError(f"The {WEIGHTS_FILENAME} inside {filepath} is not a readable HDF5 file "
                         f"({e}).") from None


def load_weights(model, filepath) -> None:
    """``model.load_weights("model.keras")``: the layer weights of a ``.keras`` file."""
    with _open_zip(filepath) as zf, _open_weights(zf, filepath) as f, \
            reading_errors(filepath, "weights"):
        load_weights_from_store(f, model, load_optimizer=False)


def is_keras_zip(filepath) -> bool:
    """Whether ``filepath`` is a zip file (the ``.keras`` container)."""
    try:
        return zipfile.is_zipfile(filepath)
    except OSError:
        return False
