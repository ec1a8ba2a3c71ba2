"""Helpers shared by the saving tests: the reference models, skips naming what is missing,
predictions as numpy, and a structural summary of HDF5 files."""
from __future__ import annotations

import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest
import torch

import tkeras.layers  # noqa: F401  (fills the layer registry)
from conftest import ref_path
from tkeras.engine.base_layer import LAYER_REGISTRY

with open(ref_path("files", "index.json")) as _index:
    REFERENCE_MODELS = [m["model"] for m in json.load(_index)["models"]]


def model_dir(name: str) -> str:
    return ref_path("files", name)


def model_file(name: str, filename: str) -> str:
    return os.path.join(model_dir(name), filename)


def model_meta(name: str) -> dict:
    with open(model_file(name, "meta.json")) as f:
        return json.load(f)


def model_io(name: str) -> dict:
    with np.load(model_file(name, "io.npz"), allow_pickle=False) as d:
        return {k: d[k] for k in d.files if k != "meta"}


def model_json(name: str) -> str:
    with open(model_file(name, "model.json")) as f:
        return f.read()


def _class_names(config, out: set) -> set:
    """Every "class_name" of a (nested) config whose value is a layer config."""
    if isinstance(config, dict):
        if "class_name" in config and isinstance(config.get("config"), dict) and \
                config.get("module") in (None, "keras", "keras.layers"):
            out.add(config["class_name"])
        for value in config.values():
            _class_names(value, out)
    elif isinstance(config, list):
        for value in config:
            _class_names(value, out)
    return out


_NOT_LAYERS = {"Functional", "Model", "Sequential", "GlorotUniform", "Zeros", "Ones",
               "Orthogonal", "RandomUniform", "RandomNormal", "HeNormal", "HeUniform",
               "LecunNormal", "LecunUniform", "GlorotNormal", "VarianceScaling", "Constant",
               "TruncatedNormal", "Identity", "L1", "L2", "L1L2", "MaxNorm", "NonNeg",
               "UnitNorm", "MinMaxNorm", "RadialConstraint"}


def skip_unless_layers_exist(config) -> None:
    """Skips the test, naming the classes, when a layer class of ``config`` is missing."""
    names = _class_names(config, set()) - _NOT_LAYERS
    missing = sorted(n for n in names if n not in LAYER_REGISTRY)
    if missing:
        pytest.skip(f"layer classes not implemented yet: {missing}")


def skip_unless_reference_layers_exist(name: str) -> None:
    skip_unless_layers_exist(json.loads(model_json(name)))


def predict(model, inputs):
    """The model's inference outputs as a list of numpy arrays."""
    inputs = [torch.as_tensor(x) for x in inputs]
    with torch.no_grad():
        out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [o.detach().cpu().numpy() for o in outs]


def reference_inputs(name: str, prefix: str = "input_"):
    arrays = model_io(name)
    count = len(model_meta(name)["input_names"])
    return [arrays[f"{prefix}{i}"] for i in range(count)]


def _tree(f: h5py.Group):
    out = []

    def visit(name, obj):
        shape = tuple(obj.shape) if isinstance(obj, h5py.Dataset) else None
        out.append((name, shape, tuple(sorted(obj.attrs.keys()))))

    f.visititems(visit)
    return sorted(out)


def decoded_attr(group, name):
    """A string or string-list attribute as str / list of str (bytes decoded)."""
    value = group.attrs[name]
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf8")
    if isinstance(value, np.ndarray):
        return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in value.tolist()]
    return value


def h5_structure(path: str):
    """(root attribute names, every group / dataset with its shape and attribute names)."""
    with h5py.File(path, "r") as f:
        return tuple(sorted(f.attrs.keys())), _tree(f)


def keras_zip_structure(path: str):
    """(member names, structure of model.weights.h5) of a .keras file."""
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
            return names, _tree(f)
