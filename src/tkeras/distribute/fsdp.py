"""FSDP2 (``torch.distributed.fsdp.fully_shard``) behind ``fit`` / ``evaluate`` / ``predict``.

The model is sharded on its first distributed call: every layer the strategy selects
(bottom-up), then the model. FSDP2 replaces each weight registered on a module by a
sharded ``DTensor`` parameter; the model's own ``nn.Parameter`` objects (what Keras's
``weights`` / ``get_weights`` / saving read) are kept as the full copy:

* at the start of each call, the full copies are scattered into the shards (so
  ``set_weights`` / ``load_weights`` between calls take effect);
* at the end of each call, and around each save (``ModelCheckpoint`` included), the shards
  are gathered into the full copies (``DTensor.full_tensor``, a collective every rank
  joins); the save also sees the layers under their own class names, so files hold the
  Keras class names and load in one process.

Between calls the model's modules stay sharded: calling the model runs through FSDP2.
"""
from __future__ import annotations

import contextlib
from typing import List, Optional, Tuple

import torch

from ..engine.base_layer import call_context
from ..engine.step_runner import _flat_outputs
from .engine import DistributedSteps, _gradients


class FSDPSteps(DistributedSteps):
    """The training step of a model sharded by FSDP2 (see the module docstring)."""

    def __init__(self, model, runner, strategy, mode: str, caller: Optional[str] = None):
        super().__init__(model, runner, strategy, mode, caller)
        if runner.regularizers or runner.constraints:
            raise ValueError(
                f"Model {model.name!r} has weight regularizers or constraints, which "
                "`FullyShardedDataParallel` does not support (they read the full weights, "
                "which are sharded across the processes). Use `DataParallel()`, or remove "
                "them.")
        updated = [w._keras_name for w in model.non_trainable_weights
                   if not getattr(w, "_keras_trainable", True) and w.is_floating_point()]
        if updated:
            raise ValueError(
                f"Model {model.name!r} has non-trainable weights updated by its layers "
                f"({', '.join(updated[:3])}...: moving statistics), which "
                "`FullyShardedDataParallel` does not support (an update of a gathered weight "
                "is not written back to its shard). Use `DataParallel()`.")
        self.state = model.__dict__.get("_fsdp_state")
        if self.state is not None:
            self._push()
        elif list(model.parameters()):
            self._shard()

    # -------------------------------------------------------------- sharding

    def _shard(self) -> None:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard
        model, base = self.model, self.base
        mesh = init_device_mesh(base.device.type, (self.comm.world,))
        where = {}
        for module in model.modules():
            for key, p in module._parameters.items():
                if p is not None:
                    where.setdefault(id(p), (module, key))
        originals = list(model.weights)
        with torch.no_grad():
            for w in originals:  # FSDP2 shards contiguous parameters only (Dense keeps its
                if not w.is_contiguous():  # kernel as a transposed view: same values)
                    w.data = w.data.contiguous()
        layers = [layer for layer in model._flatten_layers(include_self=False)
                  if self.strategy.selects(layer)]
        classes = {}
        reshard = self.strategy.reshard_after_forward
        for layer in reversed(layers):  # bottom-up, as FSDP2 wants
            classes[layer] = type(layer)
            fully_shard(layer, mesh=mesh, reshard_after_forward=reshard)
        classes[model] = type(model)
        fully_shard(model, mesh=mesh, reshard_after_forward=reshard)
        pairs: List[Tuple[torch.nn.Parameter, torch.nn.Module, str]] = \
            [(w, *where[id(w)]) for w in originals]
        self.state = {"mesh": mesh, "pairs": pairs, "classes": classes}
        model.__dict__["_fsdp_state"] = self.state
        model.__dict__["_fsdp_saving"] = self.saving
        base.params = [self._sharded(w) for w in base.params]

    def _sharded(self, weight: torch.nn.Parameter) -> torch.nn.Parameter:
        """The sharded parameter standing for one of the model's own (full) weights."""
        for original, module, key in self.state["pairs"]:
            if original is weight:
                return module._parameters[key]
        return weight  # already the sharded one

    def _push(self) -> None:
        """Full copies -> shards."""
        from torch.distributed.tensor import distribute_tensor
        mesh = self.state["mesh"]
        with torch.no_grad():
            for original, module, key in self.state["pairs"]:
                sharded = module._parameters[key]
                full = distribute_tensor(original.detach().to(sharded.device), mesh,
                                         sharded.placements)
                sharded.to_local().copy_(full.to_local())
        self.base.params = [self._sharded(w) for w in self.base.params]

    def _pull(self) -> None:
        """Shards -> full copies (every rank takes part)."""
        with torch.no_grad():
            for original, module, key in self.state["pairs"]:
                original.copy_(module._parameters[key].full_tensor().to(original.device))

    @contextlib.contextmanager
    def saving(self):
        """Full weights in the model's own parameters and the layers' own classes."""
        self._pull()
        fsdp_classes = {m: type(m) for m in self.state["classes"]}
        for module, cls in self.state["classes"].items():
            module.__class__ = cls
        optimizer = getattr(self.model, "optimizer", None)
        slots = getattr(optimizer, "_slots", None)
        if slots:  # the optimizer's state, gathered too
            optimizer._slots = {name: [_full(t) for t in values]
                                for name, values in slots.items()}
        try:
            yield
        finally:
            if slots:
                optimizer._slots = slots
            for module, cls in fsdp_classes.items():
                module.__class__ = cls

    def _non_trainable(self) -> List[torch.Tensor]:
        return []  # sharded: nothing to average (moving statistics are not supported)

    def finish(self) -> None:
        if self.state is not None:
            self._pull()

    # -------------------------------------------------------------- steps

    def _first_batch(self, batch) -> None:
        base = self.base
        with torch.no_grad():
            outputs, _ = base._forward(batch.model_input(), False)
        if base.compiled_loss is not None and not base.n_outputs and batch.y is not None:
            base._build(outputs, base._targets(batch, len(outputs))[0])
        self._broadcast_built_weights()
        self._shard()

    def _broadcast_built_weights(self) -> None:
        with torch.no_grad():
            for w in self.model.weights:
                w.copy_(self.comm.broadcast(w.detach()))

    def train_step(self, batch) -> None:
        base = self.base
        if self.state is None:
            self._first_batch(batch)
        elif not base.n_outputs:
            with torch.no_grad():
                outputs, _ = base._forward(batch.model_input(), False)
            base._build(outputs, base._targets(batch, len(outputs))[0])
            base.params = [self._sharded(w) for w in base.params]
        ys, sws = base._targets(batch, base.n_outputs)
        outputs = _flat_outputs(self.model(batch.model_input(), training=True))
        regularization = base._regularization(list(call_context().losses))
        total = base.compiled_loss.total(ys, outputs, sws, regularization)
        params = base.params
        grads = _gradients(base, total, batch.loss_scale, params)
        from torch.distributed.tensor.experimental import implicit_replication
        with implicit_replication():  # the optimizer's scalar tensors meet sharded weights
            base.optimizer.apply(params, grads)
        base.compiled_metrics.update(ys, outputs, sws)
        if self.sync_batch_logs["train"]:
            self._batch_cache = self.logs()

    def test_step(self, batch) -> None:
        if self.state is None:
            self._first_batch(batch)
        super().test_step(batch)

    def predict_step(self, batch) -> List[torch.Tensor]:
        if self.state is None:
            self._first_batch(batch)
        return super().predict_step(batch)


def _full(tensor: torch.Tensor) -> torch.Tensor:
    from torch.distributed.tensor import DTensor
    return tensor.full_tensor() if isinstance(tensor, DTensor) else tensor
