"""Optimizers: ``tkeras.optimizers``.

``tkeras.optimizers.<Name>`` are the Keras 2 optimizers (tf-keras's ``legacy`` update
rules, Keras 2 signatures: ``lr``, ``decay``, ``epsilon=None``, ``clipnorm``, ``clipvalue``),
also reachable as ``tkeras.optimizers.legacy.<Name>``. The newer rules (weight decay,
AdamW, the newer Nadam, ...) are in ``tkeras.optimizers.experimental``. ``TorchOptimizer``
(alias ``TFOptimizer``) wraps any ``torch.optim`` optimizer.

    >>> opt = tkeras.optimizers.SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    >>> model.compile(optimizer=opt, loss="mse")       # or optimizer="sgd"
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

import torch

# deserialize_keras_object / serialize_keras_object: public names of Keras 2.3.1's module
from ..saving.object_registration import deserialize_keras_object, serialize_keras_object  # noqa: F401
from . import experimental, legacy, schedules
from .base import Optimizer
from .experimental import AdamW
from .legacy import SGD, Adadelta, Adagrad, Adam, Adamax, Ftrl, Nadam, RMSprop
from .torch_wrapper import TFOptimizer, TorchOptimizer

RMSProp = RMSprop
# Keras 2's lower-case aliases of the classes.
sgd = SGD
rmsprop = RMSprop
adagrad = Adagrad
adadelta = Adadelta
adam = Adam
adamax = Adamax
nadam = Nadam


def clip_norm(g: torch.Tensor, c: float, n) -> torch.Tensor:
    """Keras 2's ``clip_norm``: ``g * c / n`` when the norm ``n`` is at least ``c``, else ``g``.

    Args:
        g: the gradient tensor.
        c: the clipping norm; ``c <= 0`` returns ``g`` unchanged.
        n: the norm of ``g`` (a tensor or number).

    Example:
        >>> clip_norm(torch.tensor([3.0, 4.0]), 1.0, torch.tensor(5.0))
        tensor([0.6000, 0.8000])
    """
    if c <= 0:
        return g
    n = torch.as_tensor(n, dtype=g.dtype, device=g.device)
    return torch.where(n >= c, g * c / n, g)


def _register_keras_names() -> None:
    """Each family's classes also under their lower-case names (``"adam"``); a Keras 2
    config may name AdamW (the newer family's); both may name the torch wrapper."""
    legacy._OBJECTS.register(AdamW)
    for registry in (legacy._OBJECTS, experimental._OBJECTS):
        for name, cls in list(registry.items()):
            registry.register(cls, name.lower())
        registry.register(TorchOptimizer, "TorchOptimizer", "TFOptimizer")


_register_keras_names()


def serialize(optimizer) -> Dict[str, Any]:
    """``{"module", "class_name", "config", "registered_name"}`` as tf-keras 2.x writes it."""
    return legacy._OBJECTS.serialize(optimizer)


def _is_new_family(config: Mapping[str, Any]) -> bool:
    """New-family configs carry ``is_legacy_optimizer: False``; anything else is Keras 2."""
    inner = config.get("config") or {}
    return isinstance(inner, Mapping) and inner.get("is_legacy_optimizer") is False


_NEW_ONLY_KEYS = ("weight_decay", "use_ema", "ema_momentum", "ema_overwrite_frequency",
                  "jit_compile", "is_legacy_optimizer")


def _convert_family(config: Mapping[str, Any], to_legacy: bool) -> Dict[str, Any]:
    """A config of one family for the other: drops the keys the target family lacks (a
    non-zero legacy ``decay`` is kept, so the newer family rejects it explicitly)."""
    inner = dict(config.get("config") or {})
    if to_legacy:
        for key in _NEW_ONLY_KEYS:
            inner.pop(key, None)
        for key in ("clipnorm", "clipvalue", "global_clipnorm"):
            if inner.get(key) is None:
                inner.pop(key, None)
    elif not inner.get("decay"):
        inner.pop("decay", None)
    return {**config, "config": inner}


def deserialize(config: Mapping[str, Any], custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_optimizer: Optional[bool] = None):
    """Rebuilds an optimizer from ``serialize``'s output or an older ``{"class_name",
    "config"}`` dict (class names are case-insensitive for the built-in optimizers).

    Args:
        config: the serialized optimizer.
        custom_objects: custom classes (and learning-rate schedules) by name.
        use_legacy_optimizer: force the Keras 2 (True) or newer (False) family; by
            default the config decides (``is_legacy_optimizer: False`` means newer).
    """
    is_new = isinstance(config, Mapping) and _is_new_family(config)
    if use_legacy_optimizer is None:
        use_legacy_optimizer = not is_new
    elif isinstance(config, Mapping) and use_legacy_optimizer == is_new:
        config = _convert_family(config, to_legacy=use_legacy_optimizer)
    objects = legacy._OBJECTS if use_legacy_optimizer else experimental._OBJECTS
    return objects.deserialize(config, custom_objects)


def get(identifier):
    """Resolves ``compile(optimizer=...)``: an optimizer, a name (``'sgd'``, ``'Adam'``, ...),
    a serialized dict, or a ``torch.optim`` optimizer (wrapped in ``TorchOptimizer``).

    Args:
        identifier: the optimizer, its name or its config.
    """
    if isinstance(identifier, (Optimizer, TorchOptimizer)):
        return identifier
    if isinstance(identifier, torch.optim.Optimizer):
        return TorchOptimizer(identifier)
    if isinstance(identifier, (str, Mapping)):
        if isinstance(identifier, str):
            identifier = {"class_name": identifier, "config": {}}
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax",
           "Nadam", "Ftrl", "TorchOptimizer", "TFOptimizer", "get", "serialize",
           "deserialize", "schedules", "legacy", "experimental", "sgd", "rmsprop", "adagrad",
           "adadelta", "adam", "adamax", "nadam", "clip_norm"]
