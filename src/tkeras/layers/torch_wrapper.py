"""TorchModuleWrapper: any ``torch.nn.Module`` as a Keras layer."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ..engine.base_layer import Layer


class TorchModuleWrapper(Layer):
    """Wraps a ``torch.nn.Module`` so it can be used as a Keras layer.

    Its parameters become the layer's trainable weights (in ``module.parameters()`` order)
    and its buffers the non-trainable ones, so ``get_weights`` / ``set_weights``, saving,
    ``trainable`` and the optimizer all see them. Shapes of symbolic calls are found by
    running the module on shape-only (meta) tensors. ``Sequential.add`` wraps modules
    automatically.

    Args:
        module: the torch module.
        name: the layer's name.

    Example:
        >>> x = Input(shape=(8,))
        >>> y = TorchModuleWrapper(torch.nn.Linear(8, 4))(x)
    """

    def __init__(self, module: nn.Module, name: Optional[str] = None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(module, nn.Module):
            raise TypeError(f"TorchModuleWrapper expects a torch.nn.Module. Received: {module!r}")
        self.module = module
        self._track_module_state()
        self.built = True

    def _track_module_state(self) -> None:
        own = []
        for pname, p in self.module.named_parameters():
            p._keras_name = f"{self.name}/{pname.replace('.', '/')}:0"
            p._keras_trainable = p.requires_grad
            p._keras_constraint = None
            own.append(p)
        for bname, b in self.module.named_buffers():
            if not torch.is_floating_point(b):
                continue
            b._keras_name = f"{self.name}/{bname.replace('.', '/')}:0"
            b._keras_trainable = False
            b._keras_constraint = None
            own.append(b)
        self._own_weights = own

    def _apply(self, fn, recurse: bool = True):
        """``nn.Module._apply`` (``.to()``, ``.double()``, ``.cuda()``, ...) gives the module
        new buffers (and, where torch swaps tensors on conversion, new parameters): the
        weights are collected from the module again, so ``weights`` / ``get_weights`` /
        ``set_weights`` / saving see the module's tensors, not the ones it had before."""
        super()._apply(fn, recurse)
        self._track_module_state()
        return self

    def _direct_sublayers(self):
        return []

    def call(self, inputs, training=None):
        self.module.train(bool(training))
        return self.module(inputs)

    def get_config(self):
        raise NotImplementedError(
            f"TorchModuleWrapper {self.name!r} wraps arbitrary torch code, which has no Keras "
            "config: save the model's weights (save_weights / state_dict) instead.")
