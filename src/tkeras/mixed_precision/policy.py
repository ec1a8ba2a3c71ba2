"""Dtype policies (``tkeras.mixed_precision.Policy``), as tf-keras 2.x has them.

A policy names a layer's *variable* dtype (the weights) and *compute* dtype (inputs,
computations, outputs). ``"mixed_float16"`` / ``"mixed_bfloat16"`` keep float32 weights and
compute in the 16-bit type; a dtype name (``"float32"``, ``"bfloat16"``, ...) uses that
dtype for both. Layers take the global policy unless given ``dtype=...``.
"""
from __future__ import annotations

import contextlib
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import torch

from ..backend import config

__all__ = ["Policy", "global_policy", "set_global_policy", "policy_scope", "get_policy",
           "serialize", "deserialize"]

_MIXED = {"mixed_float16": ("float16", "float32"), "mixed_bfloat16": ("bfloat16", "float32")}


class Policy:
    """A dtype policy for a layer: its variable dtype and its compute dtype.

    Args:
        name: ``"mixed_float16"``, ``"mixed_bfloat16"`` or a dtype name such as
            ``"float32"``, ``"bfloat16"``, ``"float16"``, ``"float64"``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is neither a mixed policy nor a dtype.

    Example:
        >>> policy = Policy("mixed_bfloat16")
        >>> policy.compute_dtype, policy.variable_dtype
        ('bfloat16', 'float32')
        >>> layer = tkeras.layers.Dense(4, dtype=policy)   # float32 kernel, bfloat16 outputs
    """

    _keras_module = "keras.mixed_precision"

    def __init__(self, name: str):
        if isinstance(name, torch.dtype):
            raise TypeError("'name' must be a string, not a dtype. Instead, pass the dtype's "
                            f"name. Received: name={name}")
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, but got: {name}")
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)

    @staticmethod
    def _parse_name(name: str) -> Tuple[str, str]:
        if name.endswith("_float32_vars"):
            raise ValueError("Policies ending in '_float32_vars' have been removed from "
                             f"TensorFlow. Got policy name: '{name}'")
        if name in _MIXED:
            return _MIXED[name]
        try:
            dtype = config.dtype_name(config.torch_dtype(name))
        except (ValueError, TypeError, KeyError):
            raise ValueError(f"Cannot convert value {name} to a mixed precision Policy. Valid "
                             "policies include 'mixed_float16', 'mixed_bfloat16', and the name "
                             "of any dtype such as 'float32'.") from None
        return dtype, dtype

    @property
    def name(self) -> str:
        """The policy's name."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's inputs, computations and outputs."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights."""
        return self._variable_dtype

    def __repr__(self) -> str:
        return f'<Policy "{self._name}">'

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other.name == self.name

    def __hash__(self) -> int:
        return hash((type(self), self._name))

    def get_config(self) -> Dict[str, Any]:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config_: Dict[str, Any], custom_objects=None) -> "Policy":
        config_ = {k: v for k, v in config_.items() if k != "loss_scale"}  # TF <= 2.3 had one
        return cls(**config_)


_GLOBAL_POLICY: Optional[Policy] = None


def global_policy() -> Policy:
    """The policy layers take when given no ``dtype``: the one set with
    ``set_global_policy``, else ``Policy(floatx())``.

    Example:
        >>> tkeras.mixed_precision.global_policy()
        <Policy "float32">
    """
    if _GLOBAL_POLICY is None:
        return Policy(config.floatx())
    return _GLOBAL_POLICY


def set_global_policy(policy: Union[Policy, str, None]) -> None:
    """Sets the policy of the layers created from now on (None: back to floatx).

    Args:
        policy: a ``Policy``, a policy name, or None.

    Raises:
        ValueError: for a policy whose compute dtype is not a float.

    Example:
        >>> tkeras.mixed_precision.set_global_policy("mixed_bfloat16")
        >>> tkeras.layers.Dense(10).dtype_policy
        <Policy "mixed_bfloat16">
        >>> tkeras.mixed_precision.set_global_policy("float32")
    """
    global _GLOBAL_POLICY
    if policy is not None and not isinstance(policy, Policy):
        policy = Policy(policy)
    if policy is not None and not config.torch_dtype(policy.compute_dtype).is_floating_point:
        raise ValueError("set_global_policy can only be used to set the global policy to "
                         'floating-point policies, such as "float32" and "mixed_float16", but '
                         f"got policy: {policy.name}")
    _GLOBAL_POLICY = policy


@contextlib.contextmanager
def policy_scope(policy: Union[Policy, str]):
    """Sets the global policy inside a ``with`` block.

    Args:
        policy: a ``Policy`` or a policy name.
    """
    old = _GLOBAL_POLICY
    try:
        set_global_policy(policy)
        yield
    finally:
        set_global_policy(old)


def get_policy(identifier: Any) -> Policy:
    """A layer's policy from its ``dtype`` argument: a Policy, a serialized policy, a policy
    or dtype name, a numpy / torch dtype; None means the global policy."""
    if isinstance(identifier, Policy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier in _MIXED:
        return Policy(identifier)
    if identifier is None:
        return global_policy()
    if isinstance(identifier, (torch.dtype, np.dtype, type)):
        return Policy(config.dtype_name(config.torch_dtype(identifier)))
    return Policy(str(identifier))


def serialize(policy: Policy):
    """A layer config's ``dtype`` entry, as tf-keras writes it: the dtype name for a plain
    dtype policy, ``{"module", "class_name": "Policy", "config": {"name"}, ...}`` otherwise."""
    if type(policy) is Policy and policy.name not in _MIXED:
        return policy.name
    from ..saving.object_registration import serialize_keras_object
    return serialize_keras_object(policy)


def deserialize(config_: Any, custom_objects=None) -> Policy:
    """The policy of a serialized ``dtype`` entry (a name, or a ``Policy`` config dict)."""
    if isinstance(config_, str):
        return Policy(config_)
    if config_ is None:
        return global_policy()
    from ..saving.object_registration import deserialize_keras_object
    return deserialize_keras_object(config_, module_objects={"Policy": Policy, "PolicyV1": Policy},
                                    custom_objects=custom_objects,
                                    printable_module_name="dtype policy")


def is_mixed(policy: Policy) -> bool:
    return policy.compute_dtype != policy.variable_dtype
