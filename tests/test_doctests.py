"""Every docstring example (``>>>``) in the tkeras package runs as a doctest, and every public
layer class has one.

The examples may use Keras's usual names without importing them (see ``_namespace``); each runs
in a fresh temporary folder with seeded random numbers, under ELLIPSIS and NORMALIZE_WHITESPACE.
"""
import doctest
import importlib
import io
import pkgutil

import numpy as np
import pytest
import torch

import tkeras
from tkeras import backend as K
from tkeras import layers

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules():
    return sorted(m.name for m in pkgutil.walk_packages(tkeras.__path__, "tkeras.")
                  if not m.name.endswith("__main__"))


def _doctests():
    finder = doctest.DocTestFinder()
    found = []
    for name in _modules():
        module = importlib.import_module(name)
        found.extend(t for t in finder.find(module, name) if t.examples)
    return sorted(found, key=lambda t: t.name)


def _layer_classes():
    return {name: obj for name, obj in vars(layers).items()
            if not name.startswith("_") and isinstance(obj, type) and issubclass(obj, layers.Layer)}


def _namespace():
    names = dict(_layer_classes())
    model = tkeras.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    x = np.linspace(0, 1, 32, dtype="float32").reshape(8, 4)
    names.update(np=np, torch=torch, tkeras=tkeras, keras=tkeras, K=K, layers=layers,
                 Sequential=tkeras.Sequential, Model=tkeras.Model, Input=tkeras.Input,
                 model=model, x=x, y=x.sum(axis=1, keepdims=True))
    return names


DOCTESTS = _doctests()


def test_doctests_are_found():
    assert len(DOCTESTS) > 100


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    test.globs.update(_namespace())
    # A class an example defines is the user's, not tkeras's: with the module's own __name__
    # it would register itself in the kind's registry (Registry.add_class).
    test.globs["__name__"] = "__doctest__"
    K.clear_session()  # layer names count from the start again (the namespace's model took some)
    tkeras.utils.set_random_seed(0)
    report = io.StringIO()
    try:
        result = doctest.DocTestRunner(optionflags=FLAGS).run(test, out=report.write)
    finally:
        tkeras.mixed_precision.set_global_policy("float32")  # an example may set another
        K.clear_session()
    if result.failed:
        pytest.fail(report.getvalue(), pytrace=False)


def test_every_public_layer_has_an_example():
    classes = {}
    for name, cls in sorted(_layer_classes().items()):
        classes.setdefault(cls, name)  # aliases (Conv1D / Convolution1D) share one docstring
    missing = sorted(name for cls, name in classes.items() if ">>>" not in (vars(cls).get("__doc__") or ""))
    assert len(classes) > 80
    assert missing == []
