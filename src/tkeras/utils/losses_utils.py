"""Keras 2.3.1's ``keras.utils.losses_utils``: loss reduction helpers, on torch tensors."""
from __future__ import annotations

from typing import Optional

import torch

from ..losses import Reduction, squeeze_or_expand_dimensions

__all__ = ["Reduction", "squeeze_or_expand_dimensions", "reduce_weighted_loss",
           "broadcast_weights", "compute_weighted_loss"]


def reduce_weighted_loss(weighted_losses: torch.Tensor,
                         reduction: str = Reduction.SUM_OVER_BATCH_SIZE) -> torch.Tensor:
    """``NONE``: as is; ``SUM``: the sum; ``SUM_OVER_BATCH_SIZE`` / ``AUTO``: the mean."""
    if reduction == Reduction.NONE:
        return weighted_losses
    loss = weighted_losses.sum()
    if reduction in (Reduction.SUM_OVER_BATCH_SIZE, Reduction.AUTO):
        loss = loss / max(weighted_losses.numel(), 1)
    return loss


def broadcast_weights(values: torch.Tensor, sample_weight: torch.Tensor) -> torch.Tensor:
    """``sample_weight`` expanded (trailing axes) and repeated to the shape of ``values``.

    Raises:
        ValueError: ``Incompatible shapes`` when that is impossible.
    """
    if sample_weight.dim() > values.dim():
        raise ValueError(f"Incompatible shapes: `values` {tuple(values.shape)} vs "
                         f"`sample_weight` {tuple(sample_weight.shape)}")
    while sample_weight.dim() < values.dim():
        sample_weight = sample_weight.unsqueeze(-1)
    try:
        return sample_weight.expand_as(values)
    except RuntimeError:
        raise ValueError(f"Incompatible shapes: `values` {tuple(values.shape)} vs "
                         f"`sample_weight` {tuple(sample_weight.shape)}") from None


def compute_weighted_loss(losses: torch.Tensor, sample_weight=None,
                          reduction: str = Reduction.SUM_OVER_BATCH_SIZE,
                          name: Optional[str] = None) -> torch.Tensor:
    """``losses * sample_weight`` (broadcast), reduced as ``reduction`` says.

    Example:
        >>> compute_weighted_loss(torch.tensor([1., 2.]), torch.tensor([1., 0.]))
        tensor(0.5000)
    """
    del name
    Reduction.validate(reduction)
    losses = torch.as_tensor(losses)
    if not losses.is_floating_point():
        losses = losses.float()
    weights = torch.as_tensor(1.0 if sample_weight is None else sample_weight,
                              dtype=losses.dtype, device=losses.device)
    weighted = losses * broadcast_weights(losses, weights)
    return reduce_weighted_loss(weighted, reduction)
