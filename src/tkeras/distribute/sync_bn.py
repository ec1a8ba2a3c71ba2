"""Synchronised batch normalization for ``DataParallel(sync_batch_norm=True)``.

During a distributed ``fit``, each ``BatchNormalization`` layer computes its training
statistics over the GLOBAL batch: the per-feature sums and sums of squares of every rank
are added with ``torch.distributed.nn.functional.all_reduce`` (differentiable: the
backward pass all-reduces their gradients), as ``torch.nn.SyncBatchNorm`` does, so the
normalisation, the gradients and the moving statistics are those of one process reading
the whole batch. The layers' own ``forward`` is put back at the end of the call.
"""
from __future__ import annotations

from typing import List

import torch
import torch.distributed as dist


def _synced_moments(inputs: torch.Tensor, axes, keepdim: bool):
    from torch.distributed.nn.functional import all_reduce
    count = torch.tensor([float(inputs.numel() // max(1, _kept(inputs, axes)))],
                         dtype=torch.float64, device=inputs.device)
    sums = torch.stack([inputs.sum(axes, keepdim=keepdim),
                        torch.square(inputs).sum(axes, keepdim=keepdim)])
    sums = all_reduce(sums, op=dist.ReduceOp.SUM)
    dist.all_reduce(count, op=dist.ReduceOp.SUM)
    n = float(count.item())
    mean = sums[0] / n
    variance = torch.clamp(sums[1] / n - torch.square(mean), min=0.0)
    return mean, variance, n


def _kept(inputs: torch.Tensor, axes) -> int:
    kept = 1
    reduced = {a % inputs.dim() for a in axes}
    for i, d in enumerate(inputs.shape):
        if i not in reduced:
            kept *= d
    return kept


def _synced_forward(layer):
    cls_call = type(layer).call

    def forward(inputs, training=None, mask=None):
        upcast = layer._upcast(inputs)  # float16 inputs: statistics in float32, as the layer
        if upcast is not inputs:
            return forward(upcast, training=training, mask=mask).to(inputs.dtype)
        if not (training and layer.trainable):
            return cls_call(layer, inputs, training=training, mask=mask)
        if mask is not None:
            raise ValueError(f"Layer {layer.name!r}: synchronised batch normalization does not "
                             "support masks. Use `DataParallel(sync_batch_norm=False)`.")
        mean, variance, n = _synced_moments(inputs, layer._reduction_axes, len(layer.axis) > 1)
        update = variance * (n / max(n - 1.0, 1.0)) if layer._fused else variance
        layer._update_moving_averages(mean, update)
        return layer._normalize(inputs, layer._broadcast(mean), layer._broadcast(variance),
                            layer._epsilon)

    return forward


def enable(model) -> List:
    """Synchronises the model's BatchNormalization layers; returns them (for ``disable``)."""
    from ..layers.normalization import BatchNormalization
    layers = [layer for layer in model._flatten_layers(include_self=False)
              if isinstance(layer, BatchNormalization)]
    for layer in layers:
        layer.__dict__["forward"] = _synced_forward(layer)
    return layers


def disable(layers: List) -> None:
    for layer in layers:
        layer.__dict__.pop("forward", None)
