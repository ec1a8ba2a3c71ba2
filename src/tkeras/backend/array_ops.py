"""Padding, resizing and slicing functions of the Keras backend ``K``:
``temporal_padding``, ``spatial_2d_padding``, ``spatial_3d_padding``, ``resize_images``,
``resize_volumes``, ``slice`` and ``size`` (Keras 2.3.1 / tf-keras semantics)."""
from __future__ import annotations

import builtins
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from .config import normalize_data_format
from .conversion import TensorLike, _as_tensor

__all__ = ["temporal_padding", "spatial_2d_padding", "spatial_3d_padding", "resize_images",
           "resize_volumes", "slice", "size"]


def _pairs(padding, n: int, where: str):
    try:
        pairs = [tuple(int(v) for v in p) for p in padding]
    except TypeError:
        pairs = []
    if len(pairs) != n or any(len(p) != 2 for p in pairs):
        raise ValueError(f"`{where}` expects `padding` as {n} pairs of ints. Received: "
                         f"padding={padding!r}")
    return pairs


def _pad_spatial(x: torch.Tensor, pairs, data_format: Optional[str], where: str) -> torch.Tensor:
    rank = len(pairs)
    if x.dim() != rank + 2:
        raise ValueError(f"`{where}` expects a {rank + 2}D input. Received shape {tuple(x.shape)}.")
    channels_last = normalize_data_format(data_format) == "channels_last"
    spec = [0, 0] if channels_last else []
    for before, after in reversed(pairs):
        spec += [before, after]
    return F.pad(x, spec)


def temporal_padding(x: TensorLike, padding=(1, 1)) -> torch.Tensor:
    """Zero-pads the middle axis of a 3D tensor: ``padding[0]`` before, ``padding[1]`` after.

    Args:
        x: a 3D tensor ``(batch, steps, features)``.
        padding: 2 ints.
    """
    (pair,) = _pairs([padding], 1, "temporal_padding")
    return _pad_spatial(_as_tensor(x), [pair], "channels_last", "temporal_padding")


def spatial_2d_padding(x: TensorLike, padding=((1, 1), (1, 1)),
                       data_format: Optional[str] = None) -> torch.Tensor:
    """Zero-pads the rows and columns of a 4D tensor.

    Args:
        x: a 4D tensor.
        padding: ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the config's).
    """
    return _pad_spatial(_as_tensor(x), _pairs(padding, 2, "spatial_2d_padding"), data_format,
                        "spatial_2d_padding")


def spatial_3d_padding(x: TensorLike, padding=((1, 1), (1, 1), (1, 1)),
                       data_format: Optional[str] = None) -> torch.Tensor:
    """Zero-pads the three spatial axes of a 5D tensor.

    Args:
        x: a 5D tensor.
        padding: three ``(before, after)`` pairs.
        data_format: ``"channels_last"`` or ``"channels_first"``.
    """
    return _pad_spatial(_as_tensor(x), _pairs(padding, 3, "spatial_3d_padding"), data_format,
                        "spatial_3d_padding")


def resize_images(x: TensorLike, height_factor: int, width_factor: int,
                  data_format: Optional[str] = None, interpolation: str = "nearest") -> torch.Tensor:
    """Upsamples the rows and columns of a 4D tensor by integer factors (as tf-keras: nearest
    repeats pixels; bilinear uses half-pixel centres, as ``tf.image.resize``).

    Args:
        x: a 4D tensor.
        height_factor: positive int.
        width_factor: positive int.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        interpolation: ``"nearest"`` or ``"bilinear"``.
    """
    x = _as_tensor(x)
    if x.dim() != 4:
        raise ValueError(f"`resize_images` expects a 4D input. Received shape {tuple(x.shape)}.")
    channels_last = normalize_data_format(data_format) == "channels_last"
    xt = x.permute(0, 3, 1, 2) if channels_last else x
    size = (xt.shape[2] * int(height_factor), xt.shape[3] * int(width_factor))
    if interpolation == "nearest":
        y = xt.repeat_interleave(int(height_factor), 2).repeat_interleave(int(width_factor), 3)
    elif interpolation == "bilinear":
        y = F.interpolate(xt, size=size, mode="bilinear", align_corners=False, antialias=False)
    else:
        raise ValueError(f'interpolation should be one of "nearest" or "bilinear". Received: '
                         f"interpolation={interpolation!r}")
    return y.permute(0, 2, 3, 1) if channels_last else y


def resize_volumes(x: TensorLike, depth_factor: int, height_factor: int, width_factor: int,
                   data_format: Optional[str] = None) -> torch.Tensor:
    """Repeats the three spatial axes of a 5D tensor by integer factors.

    Args:
        x: a 5D tensor.
        depth_factor: positive int.
        height_factor: positive int.
        width_factor: positive int.
        data_format: ``"channels_last"`` or ``"channels_first"``.
    """
    x = _as_tensor(x)
    if x.dim() != 5:
        raise ValueError(f"`resize_volumes` expects a 5D input. Received shape {tuple(x.shape)}.")
    first = 1 if normalize_data_format(data_format) == "channels_last" else 2
    for axis, factor in zip(range(first, first + 3), (depth_factor, height_factor, width_factor)):
        x = x.repeat_interleave(int(factor), axis)
    return x


def slice(x: TensorLike, start: Sequence[int], size: Sequence[int]) -> torch.Tensor:  # noqa: A001
    """``x[start[0]:start[0] + size[0], ...]`` (a size of -1 takes the rest of the axis).

    Args:
        x: a tensor.
        start: one start index per axis.
        size: one length per axis.
    """
    x = _as_tensor(x)
    start = [int(s) for s in (start.tolist() if isinstance(start, torch.Tensor) else start)]
    size = [int(s) for s in (size.tolist() if isinstance(size, torch.Tensor) else size)]
    if not len(start) == len(size) == x.dim():
        raise ValueError("The dimension and the size of indices should match: "
                         f"got start={start}, size={size} for an input of rank {x.dim()}.")
    index = tuple(builtins.slice(b, None if n == -1 else b + n) for b, n in zip(start, size))
    return x[index]


def size(x: TensorLike, name: Optional[str] = None) -> torch.Tensor:
    """The number of elements of ``x`` (an int32 scalar tensor).

    Args:
        x: a tensor.
        name: unused.
    """
    x = _as_tensor(x)
    return torch.tensor(x.numel(), dtype=torch.int32, device=x.device)

