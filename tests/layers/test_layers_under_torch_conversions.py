"""Every exported layer class survives torch's module conversions (``.to(torch.float64)``
and back) with the same outputs, and no tkeras class overrides a torch.nn.Module method
by accident (a layer helper named ``_apply`` once broke ``.to()`` on every model with a
normalization layer)."""
import inspect

import numpy as np
import pytest
import torch
from torch import nn

import tkeras
from tkeras.engine.base_layer import Layer
from tkeras.engine.functional import Functional
from layer_test_utils import _sample
from shared_cases import all_cases

CASES = all_cases()

# nn.Module attributes tkeras overrides on purpose, and why.
INTENDED_OVERRIDES = {
    "forward": "Layer.forward is the Keras call",
    "extra_repr": "the repr names the Keras layer",
    "compile": "Model.compile is Keras's; with no argument it is nn.Module.compile",
    "_apply": "extends nn.Module._apply (buffer weights, dtype policy) with its signature",
}


def _exported_layer_classes():
    values = [getattr(tkeras.layers, n) for n in dir(tkeras.layers)]
    classes = {c for c in values if isinstance(c, type) and issubclass(c, Layer)}
    return classes | {tkeras.Model, tkeras.Sequential, Functional}


def _torch_methods():
    return {name for name in dir(nn.Module)
            if not name.startswith("__") and callable(getattr(nn.Module, name, None))}


def test_no_tkeras_class_overrides_a_torch_module_method_by_accident():
    torch_methods = _torch_methods()
    accidental = set()
    for cls in _exported_layer_classes():
        for klass in cls.__mro__:
            if not klass.__module__.startswith("tkeras"):
                continue
            for name in klass.__dict__:
                if name in torch_methods and name not in INTENDED_OVERRIDES:
                    accidental.add(f"{klass.__name__}.{name}")
    assert not accidental, f"methods that shadow torch.nn.Module's: {sorted(accidental)}"


def test_intended_overrides_keep_torch_signatures():
    ours = inspect.signature(Layer._apply).parameters
    theirs = inspect.signature(nn.Module._apply).parameters
    assert list(ours) == list(theirs)


def _outputs(layer, data):
    out = layer(data)
    return [o.detach() for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("name,factory,shape,dtype", CASES, ids=[c[0] for c in CASES])
def test_to_float64_and_back_keeps_the_outputs(name, factory, shape, dtype):
    shapes = shape if isinstance(shape, list) else [shape]
    arrays = [_sample(s, dtype, seed=i) for i, s in enumerate(shapes)]

    def data(float_dtype):
        ts = [torch.as_tensor(a).to(float_dtype) if a.dtype.kind == "f" else torch.as_tensor(a)
              for a in arrays]
        return ts if isinstance(shape, list) else ts[0]

    layer = factory()
    expected = _outputs(layer, data(torch.float32))
    weights = layer.get_weights()
    clashes = set(vars(layer)) & _torch_methods()
    assert not clashes, f"{type(layer).__name__} instance attributes shadow {sorted(clashes)}"

    assert layer.to(torch.float64) is layer
    assert all(w.dtype == torch.float64 for w in layer.weights if w.is_floating_point())
    assert layer.dtype == "float64" and layer.compute_dtype == "float64"
    in_float64 = _outputs(layer, data(torch.float64))
    for got, want in zip(in_float64, expected):
        if want.is_floating_point():
            assert got.dtype == torch.float64
        np.testing.assert_allclose(got.double().numpy(), want.double().numpy(),
                                   rtol=2e-4, atol=2e-4)

    layer.to(torch.float32)
    assert layer.dtype == "float32"
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(_outputs(layer, data(torch.float32)), expected):
        assert got.dtype == want.dtype
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
