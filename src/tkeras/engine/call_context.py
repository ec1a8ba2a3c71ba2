"""Per-thread state of layer calls and builds.

The outermost layer call sets the ``training`` flag that the layers inside follow and
collects the losses they add (``call_context()``); weights created while a layer builds
are named under the scopes of the layers being built (``dense/kernel:0``, ``name_scope``).
"""
from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

import torch

from ..backend import ops as backend_ops

if TYPE_CHECKING:
    from .base_layer import Layer

class _CallContext(threading.local):
    """Per-thread state of the outermost layer call: training flag, collected losses."""

    def __init__(self):
        self.training: Optional[bool] = None
        self.depth = 0
        self.losses: List[torch.Tensor] = []
        self.meta_swaps: Optional[List[Tuple[Any, str, str, Any]]] = None
        self.cast_layers: set = set()  # ids of layers whose weights are read cast now


_CTX = _CallContext()


def call_context() -> _CallContext:
    return _CTX


# K.in_train_phase(training=None) inside a layer call follows that call's training flag.
backend_ops.register_training_flag_provider(lambda: _CTX.training)


# ------------------------------------------------------------------ weight name scopes

_SCOPE = threading.local()


def _scope_stack() -> List[Tuple[Any, Optional[str]]]:
    stack = getattr(_SCOPE, "stack", None)
    if stack is None:
        stack = _SCOPE.stack = []
    return stack


@contextlib.contextmanager
def name_scope(name: Optional[str], owner: Any = None):
    """Prefixes the Keras names of weights created inside (``dense/kernel:0``).

    ``owner`` is the layer whose weights this scope names; a layer that creates weights
    outside a scope of its own gets its own name as a prefix. ``name=None`` adds no
    segment: ``owner``'s weights are named under the enclosing scope.
    """
    stack = _scope_stack()
    stack.append((owner, name))
    try:
        yield
    finally:
        stack.pop()


def build_in_parent_scope(child: "Layer", input_shape) -> None:
    """Builds ``child`` (inside its parent's ``build``) so that its weights are named like
    the parent's own: ``time_distributed/kernel:0``, ``conv_lstm2d/kernel:0``."""
    child._maybe_build(input_shape, own_scope=False)


def weight_path(layer, name: str) -> str:
    """The Keras name (``dense/kernel:0``) of ``layer``'s weight ``name`` under the open scopes."""
    stack = _scope_stack()
    parts = [n for _, n in stack if n]
    if not stack or stack[-1][0] is not layer:
        parts.append(layer.name)
    return "/".join(parts + [name]) + ":0"
