"""Built-in activation functions (``keras.activations``), on torch tensors.

Every function takes a tensor (or anything ``torch.as_tensor`` accepts) and returns a torch
tensor, with tf-keras 2.x semantics: ``hard_sigmoid`` is ``clip(0.2 * x + 0.5, 0, 1)``,
``gelu`` is the exact erf form unless ``approximate=True``, the ``leaky_relu`` function uses
slope 0.2, ``softmax`` refuses 1-D input.

Layers resolve their ``activation`` argument with :func:`get` and write it back to their
config with :func:`serialize`, which gives the plain name (``"relu"``) as tf-keras does.

Example:
    >>> from tkeras import activations
    >>> fn = activations.get("relu")
    >>> activations.serialize(fn)
    'relu'
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

import torch
import torch.nn.functional as F

from .backend import dispatch as _symbolic
from .backend import ops as K
from .backend.ops import TensorLike, _as_tensor
from .saving.object_registration import Registry, serialize_keras_object


def linear(x: TensorLike) -> TensorLike:
    """Linear (identity) activation: returns ``x`` unchanged (the same object).

    Args:
        x: input tensor.
    """
    return x


def relu(x: TensorLike, alpha: float = 0.0, max_value: Optional[float] = None,
         threshold: float = 0.0) -> torch.Tensor:
    """Rectified linear unit: ``x`` above ``threshold`` (capped at ``max_value``),
    ``alpha * (x - threshold)`` at or below it.

    Args:
        x: input tensor.
        alpha: slope below the threshold.
        max_value: saturation value (None: no cap).
        threshold: threshold below which values are damped.
    """
    return K.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)


def relu6(x: TensorLike) -> torch.Tensor:
    """ReLU capped at 6: ``min(max(x, 0), 6)`` (TensorFlow's relu6: gradient 1 strictly
    between 0 and 6).

    Args:
        x: input tensor.
    """
    return K.relu(x, max_value=6.0)


def elu(x: TensorLike, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Args:
        x: input tensor.
        alpha: scale of the negative part.
    """
    return K.elu(x, alpha)


def selu(x: TensorLike) -> torch.Tensor:
    """Scaled ELU: ``scale * elu(x, alpha)`` with alpha = 1.6732632423543772 and
    scale = 1.0507009873554805.

    Args:
        x: input tensor.
    """
    return F.selu(_as_tensor(x))


def softmax(x: TensorLike, axis: int = -1) -> torch.Tensor:
    """Softmax along ``axis``: ``exp(x) / sum(exp(x))``.

    Args:
        x: input tensor of rank >= 2 (1-D input raises ``ValueError`` as in Keras 2).
        axis: the axis normalised over.
    """
    return K.softmax(x, axis)


def log_softmax(x: TensorLike, axis: int = -1) -> torch.Tensor:
    """Logarithm of the softmax along ``axis``.

    Args:
        x: input tensor.
        axis: the axis normalised over.
    """
    return torch.log_softmax(_as_tensor(x), dim=axis)


def softplus(x: TensorLike) -> torch.Tensor:
    """Softplus: ``log(exp(x) + 1)``.

    Args:
        x: input tensor.
    """
    return K.softplus(x)


def softsign(x: TensorLike) -> torch.Tensor:
    """Softsign: ``x / (abs(x) + 1)``.

    Args:
        x: input tensor.
    """
    return K.softsign(x)


def sigmoid(x: TensorLike) -> torch.Tensor:
    """Sigmoid: ``1 / (1 + exp(-x))`` (the result remembers its logits, as in tf-keras, so
    ``binary_crossentropy`` can use them).

    Args:
        x: input tensor.
    """
    return K.sigmoid(x)


def hard_sigmoid(x: TensorLike) -> torch.Tensor:
    """Keras 2 hard sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    Args:
        x: input tensor.
    """
    return K.hard_sigmoid(x)


def exponential(x: TensorLike) -> torch.Tensor:
    """Exponential activation: ``exp(x)``.

    Args:
        x: input tensor.
    """
    return torch.exp(_as_tensor(x))


def tanh(x: TensorLike) -> torch.Tensor:
    """Hyperbolic tangent.

    Args:
        x: input tensor.
    """
    return torch.tanh(_as_tensor(x))


def swish(x: TensorLike) -> torch.Tensor:
    """Swish (also called SiLU): ``x * sigmoid(x)``.

    Args:
        x: input tensor.
    """
    return F.silu(_as_tensor(x))


silu = swish  # tf-keras resolves "silu" to the same function and serializes it as "swish"


def gelu(x: TensorLike, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit.

    Args:
        x: input tensor.
        approximate: False: the exact ``0.5 * x * (1 + erf(x / sqrt(2)))``; True: the tanh
            approximation ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))``.
    """
    return F.gelu(_as_tensor(x), approximate="tanh" if approximate else "none")


def mish(x: TensorLike) -> torch.Tensor:
    """Mish: ``x * tanh(softplus(x))``.

    Args:
        x: input tensor.
    """
    return F.mish(_as_tensor(x))


def leaky_relu(x: TensorLike, alpha: float = 0.2) -> torch.Tensor:
    """Leaky ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise (``tf.nn.leaky_relu``).

    Args:
        x: input tensor.
        alpha: slope of the negative part (0.2, unlike the ``LeakyReLU`` layer's 0.3).
    """
    return F.leaky_relu(_as_tensor(x), negative_slope=alpha)


_ACTIVATIONS = Registry("activation function", error=TypeError)
"""The activation functions by name; the advanced-activation layer classes (``LeakyReLU``)
add themselves (tkeras.layers.advanced_activations) so configs may name them too."""
for _fn in (linear, relu, relu6, elu, selu, softmax, log_softmax, softplus, softsign, sigmoid,
            hard_sigmoid, exponential, tanh, swish, gelu, mish, leaky_relu):
    _ACTIVATIONS.register(_fn)
_ACTIVATIONS.register(swish, "silu")
_ACTIVATIONS.register(softmax, "softmax_v2")  # the name TF 2 wrote for tf.nn.softmax
_FUNCTIONS = list(dict.fromkeys(_ACTIVATIONS.values()))


def serialize(activation: Callable, use_legacy_format: bool = False) -> Any:
    """The config form of an activation, as tf-keras writes it in layer configs.

    Args:
        activation: an activation function or callable object.
        use_legacy_format: accepted for compatibility; the output is the same.

    Returns:
        The name (``"relu"``) for functions, built-in or custom (a registered function
        gives its registered name, ``"package>name"``); the
        ``{"module", "class_name", "config", "registered_name"}`` dict for callable objects
        with ``get_config`` (e.g. a ``LeakyReLU`` layer).

    Raises:
        ValueError: if the activation has neither a name nor a config.
    """
    del use_legacy_format
    name = getattr(activation, "__name__", None)
    if name in _ACTIVATIONS and _ACTIVATIONS[name] is activation:
        return name
    if hasattr(activation, "get_config") or (callable(activation) and name):
        return serialize_keras_object(activation)
    raise ValueError(
        f"Unknown activation function '{activation}' cannot be serialized due to invalid "
        "function name. Make sure to use an activation name that matches the references "
        "defined in activations.py or use `@keras.saving.register_keras_serializable()` "
        "to register any custom activations.")


def _function_dict_name(config: Mapping[str, Any]) -> Optional[str]:
    """The function name stored in a Keras 3 style ``{"class_name": "function"}`` dict."""
    if config.get("class_name") != "function":
        return None
    return config.get("registered_name") or config.get("config")


def deserialize(config: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_format: bool = False) -> Callable:
    """The activation named by ``config``.

    Args:
        config: a name (``"relu"``), ``{"class_name", "config"}`` dict of an activation
            layer, or ``{"class_name": "function", "config": name}`` dict.
        custom_objects: optional ``{name: function}`` of user activations.
        use_legacy_format: accepted for compatibility.

    Raises:
        ValueError: ``Unknown activation function: 'name'...`` for unknown names.
    """
    del use_legacy_format
    if isinstance(config, Mapping):
        function_name = _function_dict_name(config)
        if function_name is not None:
            config = function_name
    return _ACTIVATIONS.deserialize(config, custom_objects)


def tensor_form(fn: Optional[Callable]) -> Optional[Callable]:
    """The callable a layer applies on its hot path for activation ``fn``: None for linear,
    the torch function itself for activations that are exactly one torch op on a tensor
    (relu, tanh), ``fn`` otherwise. Saves the argument handling of the Keras functions."""
    if fn is None or fn is linear or getattr(fn, "__name__", None) == "linear":
        return None
    if hasattr(fn, "_symbolic_name"):  # a built-in: its eager function, without the dispatch
        fn = getattr(fn, "__wrapped__")
    return _TORCH_FORMS.get(fn, fn)


_TORCH_FORMS = {relu: torch.relu, tanh: torch.tanh}


def get(identifier: Any) -> Callable:
    """Resolves an activation identifier to a callable.

    Args:
        identifier: None (linear), a name, a config dict, or a callable (returned as is).

    Raises:
        ValueError: for unknown names.
        TypeError: for identifiers that are neither names, dicts nor callables.
    """
    if identifier is None:
        return linear
    return _ACTIVATIONS.get_object(identifier, deserialize)


# Called on symbolic tensors, these functions record one graph node (tkeras.backend.dispatch),
# saved by name ("activations.relu") as the loss and metric functions are.
_symbolic.wrap_functions(globals(), _FUNCTIONS, "activations", _ACTIVATIONS)
