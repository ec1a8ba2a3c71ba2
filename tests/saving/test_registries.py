"""Every serializable kind has one registry (``saving.object_registration.Registry``) that its
classes fill themselves. Guards: every class a registry holds is exported from the kind's
public module, and goes through the kind's shared config round trip (the public
``serialize`` -> JSON -> ``deserialize``), which is parametrized over the registry itself, so a
new class is covered as soon as it is defined. Layers have their own guard and harness
(tests/layers/test_every_layer_is_covered.py, ``check_layer``)."""
import importlib
import json

import pytest

import tkeras
from tkeras.saving.object_registration import REGISTRIES

# kind -> the public module that exports its classes (and whose serialize / deserialize
# the round trip uses)
PUBLIC_MODULES = {
    "layer": "tkeras.layers",
    "activation function": "tkeras.activations",
    "initializer": "tkeras.initializers",
    "regularizer": "tkeras.regularizers",
    "constraint": "tkeras.constraints",
    "optimizer": "tkeras.optimizers",
    "learning rate schedule": "tkeras.optimizers.schedules",
    "loss function": "tkeras.losses",
    "metric function": "tkeras.metrics",
}
# The newer optimizer family has a registry of its own (same kind, other public module).
FAMILY_REGISTRIES = [(tkeras.optimizers.experimental._OBJECTS, "tkeras.optimizers.experimental")]

# Registered classes exported elsewhere than the kind's public module: the engine's models
# and symbolic-op layers, and layers that belong to one application.
EXPORTED_ELSEWHERE = {
    "Model": "tkeras.models", "Sequential": "tkeras.models",
    "Functional": "tkeras.engine.functional",
    "OpLayer": "tkeras.engine.op_layer", "AddLoss": "tkeras.engine.op_layer",
    "AddMetric": "tkeras.engine.op_layer",
    "LayerScale": "tkeras.applications.convnext",
    "StochasticDepth": "tkeras.applications.convnext",
    "CustomScaleLayer": "tkeras.applications.inception_resnet_v2",
    "AdamW": "tkeras.optimizers.experimental",  # Keras 2 configs may name it too
    "TorchOptimizer": "tkeras.optimizers",  # both families' configs may name it
}

# Constructor arguments of the classes that have required ones.
ARGUMENTS = {
    "ExponentialDecay": (0.1, 10, 0.9), "InverseTimeDecay": (0.1, 10, 0.5),
    "PolynomialDecay": (0.1, 10), "PiecewiseConstantDecay": ([5], [1.0, 0.5]),
    "CosineDecay": (0.1, 10), "CosineDecayRestarts": (0.1, 10),
    "LossFunctionWrapper": (tkeras.losses.mean_squared_error,),
    "MeanMetricWrapper": (tkeras.metrics.binary_accuracy,),
    "IoU": (3, [0, 2]), "MeanIoU": (3,),
    "SensitivityAtSpecificity": (0.5,), "SpecificityAtSensitivity": (0.5,),
}
# Classes without a config: abstract bases (Reduce's config, as tf-keras's, leaves out the
# reduction that Sum and Mean fix), and a wrapper of live torch state.
NOT_CONFIG_SERIALIZABLE = {"Regularizer", "Reduce", "SensitivitySpecificityBase",
                           "TorchOptimizer"}


def _registries():
    pairs = [(REGISTRIES[kind], module) for kind, module in PUBLIC_MODULES.items()]
    return pairs + FAMILY_REGISTRIES


def _classes(registry):
    """The distinct classes a registry holds (each once, under its class name)."""
    return sorted({obj for obj in registry.values() if isinstance(obj, type)},
                  key=lambda cls: cls.__name__)


def test_every_registry_has_a_public_module():
    assert set(REGISTRIES) == set(PUBLIC_MODULES)


@pytest.mark.parametrize("registry,module", _registries(), ids=lambda p: getattr(p, "kind", p))
def test_every_registered_class_is_exported_from_its_public_module(registry, module):
    missing = []
    for cls in _classes(registry):
        if issubclass(cls, tkeras.layers.Layer) and registry.kind != "layer":
            home_name = "tkeras.layers"  # the activation layers, which activations may name
        else:
            home_name = EXPORTED_ELSEWHERE.get(cls.__name__, module)
        home = importlib.import_module(home_name)
        if getattr(home, cls.__name__, None) is not cls:
            missing.append(f"{cls.__module__}.{cls.__name__} (expected in {home.__name__})")
    assert not missing, f"registered {registry.kind} classes not exported: {missing}"


def _round_trip_cases():
    cases = []
    for registry, module in _registries():
        if registry.kind == "layer":
            continue
        for cls in _classes(registry):
            if cls.__name__ not in NOT_CONFIG_SERIALIZABLE and not issubclass(
                    cls, tkeras.layers.Layer):  # activation layers: the layer harness
                cases.append(pytest.param(module, cls, id=f"{module}.{cls.__name__}"))
    return cases


@pytest.mark.parametrize("module,cls", _round_trip_cases())
def test_every_registered_class_round_trips_through_its_kind(module, cls):
    public = importlib.import_module(module)
    if module.startswith("tkeras.optimizers") and module != "tkeras.optimizers.schedules":
        public = tkeras.optimizers  # both families share tkeras.optimizers.(de)serialize
    obj = cls(*ARGUMENTS.get(cls.__name__, ()))
    config = json.loads(json.dumps(public.serialize(obj)))
    assert config["class_name"] == cls.__name__
    restored = public.deserialize(config)
    assert type(restored) is cls
    assert restored.get_config() == obj.get_config()
