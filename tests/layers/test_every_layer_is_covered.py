"""Every layer class tkeras.layers exports, or its modules register, is exported and goes
through the shared layer test (``layer_test_utils.check_layer``): found in the case lists of
the family test modules, directly or as a sublayer (cells inside RNN, layers inside
wrappers); and every case there states what Keras gives (``layer_test_utils.expect``: output
shape, weight and loss counts)."""
import importlib

import tkeras
from tkeras.engine.base_layer import LAYER_REGISTRY, Layer

FAMILY_MODULES = ["test_advanced_activations", "test_convolutional", "test_core_merge_contract",
                  "test_embeddings", "test_local", "test_noise", "test_normalization",
                  "test_pooling", "test_recurrent", "test_wrappers", "test_preprocessing_layers"]

# Exported classes that are not layers to test on data: abstract bases, and the two
# engine classes tested with the engine (tests/engine).
NOT_CONTRACT_CASES = {"Layer", "Wrapper", "AbstractRNNCell", "ConvRNN2D", "InputLayer",
                      "TorchModuleWrapper",
                      # Keras 2.3.1's legacy layers: abstract bases, and two layers that warn
                      # on construction (tested in tests/utils/test_keras2_utils.py).
                      "Recurrent", "ConvRecurrent2D", "MaxoutDense", "Highway"}


# The lists the family modules hand to check_layer (other lists hold numeric references).
CONTRACT_LISTS = ("CASES", "BN_CASES", "MERGE", "PREPROCESSING_CASES")


def _layer_cases(module, list_names=None):
    """(case, layer) for each case of the module's lists that holds a layer factory."""
    for list_name, value in vars(module).items():
        if not isinstance(value, list) or (list_names and list_name not in list_names):
            continue
        for case in value:
            for item in case if isinstance(case, (tuple, list)) else (case,):
                if not callable(item) or isinstance(item, type):
                    continue
                try:
                    obj = item()
                except TypeError:  # not a zero-argument factory
                    continue
                if isinstance(obj, Layer):
                    yield case, obj


def _layers_in_case_lists(module):
    return {type(layer) for _, obj in _layer_cases(module) for layer in obj._flatten_layers()}


def _registered_layer_family_classes():
    """The classes tkeras.layers' modules define, as the layer registry holds them: a class
    left out of its module's ``__all__`` is registered all the same."""
    return {cls for cls in LAYER_REGISTRY.values()
            if isinstance(cls, type) and cls.__module__.startswith("tkeras.layers.")}


def test_every_registered_layer_class_is_exported_from_tkeras_layers():
    missing = sorted(f"{cls.__module__}.{cls.__name__}"
                     for cls in _registered_layer_family_classes()
                     if getattr(tkeras.layers, cls.__name__, None) is not cls)
    assert not missing, f"layer classes registered but not exported by tkeras.layers: {missing}"


def test_every_exported_layer_class_is_in_a_shared_test_case():
    covered = set()
    for name in FAMILY_MODULES:
        covered |= _layers_in_case_lists(importlib.import_module(name))
    exported = {getattr(tkeras.layers, n) for n in dir(tkeras.layers)
                if isinstance(getattr(tkeras.layers, n), type)
                and issubclass(getattr(tkeras.layers, n), Layer)}
    missing = sorted(c.__name__ for c in (exported | _registered_layer_family_classes()) - covered
                     if c.__name__ not in NOT_CONTRACT_CASES)
    assert not missing, f"layer classes without a shared-test case: {missing}"


def test_every_shared_case_states_keras_expectations():
    """A layer whose output shape or weights are consistently wrong passes every round trip;
    only the values Keras gives catch it, so each case states them."""
    without = []
    for name in FAMILY_MODULES:
        for case, _ in _layer_cases(importlib.import_module(name), CONTRACT_LISTS):
            expected = [item for item in case if isinstance(item, dict)]
            keys = ("expected_output_shape", "expected_num_trainable_weights",
                    "expected_num_non_trainable_weights", "expected_num_losses")
            if not expected or any(expected[0].get(k) is None for k in keys):
                without.append(f"{name}:{case[0]}")
    assert not without, f"shared layer cases without Keras expectations: {without}"
