"""tkeras's own functions that a config may name where it stores a plain function (a Lambda
layer's ``function``, ``output_shape`` and ``mask``; later, K-function nodes).

The table holds only functions of tensors: ``K``'s math, shape, neural-network, control-flow
and random functions, its pure variable helpers, and the activations. Functions that write
state or files (``K.set_value``, ``K.update``, ``K.set_floatx``, ``K.print_tensor``, the
utilities) are left out, so a file can never make loading call them.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Dict

# pure helpers of backend.variables (the rest of that module reads or writes state)
_PURE_VARIABLE_FUNCTIONS = (
    "is_tensor", "is_keras_tensor", "is_sparse", "to_dense", "int_shape", "shape", "ndim",
    "dtype", "cast", "cast_to_floatx", "constant", "zeros", "ones", "eye", "zeros_like",
    "ones_like", "identity", "count_params")
_RANDOM_FUNCTIONS = (
    "random_normal", "random_uniform", "random_bernoulli", "random_binomial", "truncated_normal")
_CONTROL_FLOW_FUNCTIONS = (
    "switch", "in_train_phase", "in_test_phase", "stop_gradient", "map_fn", "foldl", "foldr")


@functools.lru_cache(maxsize=None)
def _table() -> Dict[str, Callable]:
    from .. import activations
    from ..backend import control_flow_ops, math_ops, nn_ops, random_ops, shape_ops, variables
    table: Dict[str, Callable] = {}
    for module, names in ((variables, _PURE_VARIABLE_FUNCTIONS), (math_ops, math_ops.__all__),
                          (shape_ops, shape_ops.__all__), (nn_ops, nn_ops.__all__),
                          (control_flow_ops, _CONTROL_FLOW_FUNCTIONS),
                          (random_ops, _RANDOM_FUNCTIONS)):
        for name in names:
            table[name] = getattr(module, name)
    from .. import backend
    for name, fn in list(table.items()):  # K's own objects (they also accept symbolic tensors)
        public = getattr(backend, name, None)
        if getattr(public, "__wrapped__", None) is fn:
            table[name] = public
    for name, fn in activations._ACTIVATIONS.items():
        if not inspect.isclass(fn):  # not the activation layers
            table.setdefault(name, fn)  # K.relu / K.softmax keep K's signature
    return table


def public_functions() -> Dict[str, Any]:
    """``{name: function}`` of the tkeras functions a config may name (a copy)."""
    return dict(_table())
