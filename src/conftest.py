"""The namespace every docstring example (``>>>``) under src/tkeras runs in (pytest --doctest-modules).

Examples may use these names without importing them, as Keras's own docstrings do: np, torch,
tkeras (also as keras), K, layers, every class tkeras.layers exports (Dense, ...), Sequential,
Model, Input, and a small compiled ``model`` with data ``x``, ``y`` for examples of fit's
arguments. Each example runs in a fresh temporary folder, with seeded random numbers.
"""
import numpy as np
import pytest
import torch

import tkeras
from tkeras import backend as K
from tkeras import layers


def _namespace():
    names = {name: obj for name, obj in vars(layers).items()
             if isinstance(obj, type) and issubclass(obj, tkeras.layers.Layer)}
    model = tkeras.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    x = np.linspace(0, 1, 32, dtype="float32").reshape(8, 4)
    names.update(np=np, torch=torch, tkeras=tkeras, keras=tkeras, K=K, layers=layers,
                 Sequential=tkeras.Sequential, Model=tkeras.Model, Input=tkeras.Input,
                 model=model, x=x, y=x.sum(axis=1, keepdims=True))
    return names


@pytest.fixture(autouse=True)
def _doctest_namespace(request, tmp_path, monkeypatch):
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    monkeypatch.chdir(tmp_path)
    request.getfixturevalue("doctest_namespace").update(_namespace())
    tkeras.utils.set_random_seed(0)
    yield
    K.clear_session()
