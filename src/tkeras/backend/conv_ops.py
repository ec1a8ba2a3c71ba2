"""Convolution and pooling functions of the Keras backend ``K`` (Keras 2.3.1 / tf-keras
signatures and TensorFlow's padding), on the same helpers the convolution and pooling
layers use (``tkeras.utils.conv_utils``): TensorFlow's "same" padding split between
torch's symmetric ``padding=`` and an explicit pad, channels_last inputs handed to torch
as permuted views, Keras kernel layouts handed to torch as permuted views.

Kernel layouts (Keras's): ``conv*d`` ``(*kernel_size, in_channels, filters)``;
``conv*d_transpose`` ``(*kernel_size, filters, in_channels)``; ``depthwise_conv2d``
``(kh, kw, in_channels, depth_multiplier)``; ``local_conv*d`` ``(output positions,
prod(kernel_size) * in_channels, filters)``.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from ..utils.conv_utils import (
    CONV,
    CONV_TRANSPOSE,
    depthwise_torch_kernel,
    from_torch_layout,
    normalize_padding,
    normalize_tuple,
    pad_for_torch,
    spatial_shape,
    tf_padding,
    to_torch_layout,
    torch_kernel,
)
from .config import normalize_data_format
from .conversion import TensorLike, _as_operand, _as_tensor

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose", "separable_conv1d",
    "separable_conv2d", "depthwise_conv2d", "pool2d", "pool3d", "local_conv1d",
    "local_conv2d",
]

_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _check_rank(x: torch.Tensor, rank: int, where: str) -> None:
    if x.dim() != rank + 2:
        raise ValueError(f"`{where}` expects a {rank + 2}D input (batch, spatial..., channels). "
                         f"Received an input of shape {tuple(x.shape)}.")


def _conv_nd(x: torch.Tensor, weight: torch.Tensor, rank: int, strides, padding: str,
             data_format: Optional[str], dilation_rate, groups: int, where: str) -> torch.Tensor:
    """A convolution with a torch-layout ``weight`` and TensorFlow's padding."""
    _check_rank(x, rank, where)
    channels_last = normalize_data_format(data_format) == "channels_last"
    strides = normalize_tuple(strides, rank, "strides")
    dilation = normalize_tuple(dilation_rate, rank, "dilation_rate")
    padding = normalize_padding(padding)
    if padding == "causal" and (rank != 1 or not channels_last):
        raise ValueError(f"`{where}`: causal padding is for 1D channels_last (temporal) data.")
    kernel = tuple(weight.shape[2:])
    pads = tf_padding(padding, spatial_shape(x.shape, rank, channels_last), kernel, strides, dilation)
    xt, pad = pad_for_torch(to_torch_layout(x, rank, channels_last), pads, channels_last=False)
    y = CONV[rank](xt, weight.to(xt.dtype), None, strides, pad, dilation, groups)
    return from_torch_layout(y, rank, channels_last)


def _kernel(kernel: TensorLike, x: torch.Tensor, rank: int, where: str) -> torch.Tensor:
    kernel = _as_operand(kernel, x)
    if kernel.dim() != rank + 2:
        raise ValueError(f"`{where}` expects a kernel of rank {rank + 2} (Keras layout). "
                         f"Received a kernel of shape {tuple(kernel.shape)}.")
    return kernel


def conv1d(x: TensorLike, kernel: TensorLike, strides: int = 1, padding: str = "valid",
           data_format: Optional[str] = None, dilation_rate: int = 1) -> torch.Tensor:
    """1D convolution.

    Args:
        x: input ``(batch, steps, channels)`` (or channels_first).
        kernel: ``(kernel_size, in_channels, filters)``.
        strides: the stride.
        padding: ``"valid"``, ``"same"`` or ``"causal"``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the config's).
        dilation_rate: the dilation rate.
    """
    x = _as_tensor(x)
    k = _kernel(kernel, x, 1, "conv1d")
    return _conv_nd(x, torch_kernel(k, 1), 1, strides, padding, data_format, dilation_rate, 1,
                    "conv1d")


def conv2d(x: TensorLike, kernel: TensorLike, strides=(1, 1), padding: str = "valid",
           data_format: Optional[str] = None, dilation_rate=(1, 1)) -> torch.Tensor:
    """2D convolution.

    Args:
        x: input ``(batch, rows, cols, channels)`` (or channels_first).
        kernel: ``(kh, kw, in_channels, filters)``.
        strides: 2 ints (or one for both).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: 2 ints (or one).

    Example:
        >>> K.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 2)), padding="same").shape
        torch.Size([1, 4, 4, 2])
    """
    x = _as_tensor(x)
    k = _kernel(kernel, x, 2, "conv2d")
    return _conv_nd(x, torch_kernel(k, 2), 2, strides, padding, data_format, dilation_rate, 1,
                    "conv2d")


def conv3d(x: TensorLike, kernel: TensorLike, strides=(1, 1, 1), padding: str = "valid",
           data_format: Optional[str] = None, dilation_rate=(1, 1, 1)) -> torch.Tensor:
    """3D convolution.

    Args:
        x: input ``(batch, d1, d2, d3, channels)`` (or channels_first).
        kernel: ``(k1, k2, k3, in_channels, filters)``.
        strides: 3 ints (or one).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: 3 ints (or one).
    """
    x = _as_tensor(x)
    k = _kernel(kernel, x, 3, "conv3d")
    return _conv_nd(x, torch_kernel(k, 3), 3, strides, padding, data_format, dilation_rate, 1,
                    "conv3d")


def depthwise_conv2d(x: TensorLike, depthwise_kernel: TensorLike, strides=(1, 1),
                     padding: str = "valid", data_format: Optional[str] = None,
                     dilation_rate=(1, 1)) -> torch.Tensor:
    """Depthwise 2D convolution: each input channel convolved with its own
    ``depth_multiplier`` filters (output channel ``c * depth_multiplier + m``).

    Args:
        x: input tensor.
        depthwise_kernel: ``(kh, kw, in_channels, depth_multiplier)``.
        strides: 2 ints.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: 2 ints.
    """
    x = _as_tensor(x)
    k = _kernel(depthwise_kernel, x, 2, "depthwise_conv2d")
    return _conv_nd(x, depthwise_torch_kernel(k, 2), 2, strides, padding, data_format,
                    dilation_rate, int(k.shape[2]), "depthwise_conv2d")


def _separable(x, depthwise_kernel, pointwise_kernel, rank, strides, padding, data_format,
               dilation_rate, where):
    x = _as_tensor(x)
    dk = _kernel(depthwise_kernel, x, rank, where)
    pk = _kernel(pointwise_kernel, x, rank, where)
    depth = _conv_nd(x, depthwise_torch_kernel(dk, rank), rank, strides, padding, data_format,
                     dilation_rate, int(dk.shape[rank]), where)
    return _conv_nd(depth, torch_kernel(pk, rank), rank, 1, "valid", data_format, 1, 1, where)


def separable_conv1d(x: TensorLike, depthwise_kernel: TensorLike, pointwise_kernel: TensorLike,
                     strides: int = 1, padding: str = "valid", data_format: Optional[str] = None,
                     dilation_rate: int = 1) -> torch.Tensor:
    """1D separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    Args:
        x: input tensor.
        depthwise_kernel: ``(kernel_size, in_channels, depth_multiplier)``.
        pointwise_kernel: ``(1, in_channels * depth_multiplier, filters)``.
        strides: the stride (of the depthwise step).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: the dilation rate.
    """
    return _separable(x, depthwise_kernel, pointwise_kernel, 1, strides, padding, data_format,
                      dilation_rate, "separable_conv1d")


def separable_conv2d(x: TensorLike, depthwise_kernel: TensorLike, pointwise_kernel: TensorLike,
                     strides=(1, 1), padding: str = "valid", data_format: Optional[str] = None,
                     dilation_rate=(1, 1)) -> torch.Tensor:
    """2D separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    Args:
        x: input tensor.
        depthwise_kernel: ``(kh, kw, in_channels, depth_multiplier)``.
        pointwise_kernel: ``(1, 1, in_channels * depth_multiplier, filters)``.
        strides: 2 ints (of the depthwise step).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: 2 ints.
    """
    return _separable(x, depthwise_kernel, pointwise_kernel, 2, strides, padding, data_format,
                      dilation_rate, "separable_conv2d")


# ------------------------------------------------------------------ transposed


def _conv_transpose(x, kernel, output_shape, rank, strides, padding, data_format,
                    dilation_rate, where) -> torch.Tensor:
    """TF's ``conv*d_transpose``: the gradient of a convolution whose input has
    ``output_shape``; computed as torch's full transposed convolution, then cropped (or
    zero-extended) to the requested size as TensorFlow's padding places it."""
    x = _as_tensor(x)
    _check_rank(x, rank, where)
    k = _kernel(kernel, x, rank, where)
    channels_last = normalize_data_format(data_format) == "channels_last"
    strides = normalize_tuple(strides, rank, "strides")
    dilation = normalize_tuple(dilation_rate, rank, "dilation_rate")
    padding = normalize_padding(padding, ("valid", "same"))
    out_shape = tuple(output_shape)
    if len(out_shape) != rank + 2:
        raise ValueError(f"`{where}`: `output_shape` must have {rank + 2} entries (batch "
                         f"included). Received: output_shape={output_shape!r}")
    out_sizes = spatial_shape(out_shape, rank, channels_last)
    weight = torch_kernel(k, rank)  # (in, out, *k)
    full = CONV_TRANSPOSE[rank](to_torch_layout(x, rank, channels_last), weight.to(x.dtype), None,
                         strides, 0, 0, 1, dilation)
    index = [slice(None), slice(None)]
    extend = []
    for axis in range(rank):
        length = int(out_sizes[axis])
        kernel_size = int(k.shape[axis])
        before = 0
        if padding == "same":
            before = tf_padding("same", [length], [kernel_size], [strides[axis]],
                                [dilation[axis]])[0][0]
        available = full.shape[2 + axis] - before
        index.append(slice(before, before + min(length, available)))
        extend.append(max(length - available, 0))
    y = full[tuple(index)]
    if any(extend):
        spec = []
        for extra in reversed(extend):
            spec += [0, extra]
        y = F.pad(y, spec)
    return from_torch_layout(y, rank, channels_last)


def conv2d_transpose(x: TensorLike, kernel: TensorLike, output_shape: Sequence[int],
                     strides=(1, 1), padding: str = "valid", data_format: Optional[str] = None,
                     dilation_rate=(1, 1)) -> torch.Tensor:
    """2D transposed convolution (TF's ``conv2d_transpose``).

    Args:
        x: input tensor.
        kernel: ``(kh, kw, filters, in_channels)``.
        output_shape: the full output shape (batch included), in ``data_format``'s layout.
        strides: 2 ints.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: 2 ints.
    """
    return _conv_transpose(x, kernel, output_shape, 2, strides, padding, data_format,
                           dilation_rate, "conv2d_transpose")


def conv3d_transpose(x: TensorLike, kernel: TensorLike, output_shape: Sequence[int],
                     strides=(1, 1, 1), padding: str = "valid",
                     data_format: Optional[str] = None) -> torch.Tensor:
    """3D transposed convolution (TF's ``conv3d_transpose``).

    Args:
        x: input tensor.
        kernel: ``(k1, k2, k3, filters, in_channels)``.
        output_shape: the full output shape (batch included).
        strides: 3 ints.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
    """
    return _conv_transpose(x, kernel, output_shape, 3, strides, padding, data_format, 1,
                           "conv3d_transpose")


# ------------------------------------------------------------------ pooling


def _pool(x, pool_size, strides, padding, data_format, pool_mode, rank, where) -> torch.Tensor:
    x = _as_tensor(x)
    _check_rank(x, rank, where)
    channels_last = normalize_data_format(data_format) == "channels_last"
    pool_size = normalize_tuple(pool_size, rank, "pool_size")
    strides = normalize_tuple(strides, rank, "strides")
    padding = normalize_padding(padding, ("valid", "same"))
    if pool_mode not in ("max", "avg"):
        raise ValueError(f"Invalid pool_mode: {pool_mode!r}. Expected 'max' or 'avg'.")
    pads = tf_padding(padding, spatial_shape(x.shape, rank, channels_last), pool_size, strides)
    xt = to_torch_layout(x, rank, channels_last)
    if pool_mode == "max":
        xp, pad = pad_for_torch(xt, pads, channels_last=False, value=float("-inf"))
        y = _MAX_POOL[rank](xp, pool_size, strides, pad)
    else:  # TF averages over the real elements of each window
        xp, pad = pad_for_torch(xt, pads, channels_last=False)
        y = _AVG_POOL[rank](xp, pool_size, strides, pad, count_include_pad=False)
        if xp is not xt:
            ones = torch.ones((1, 1) + tuple(xt.shape[2:]), dtype=xt.dtype, device=xt.device)
            ones, _ = pad_for_torch(ones, pads, channels_last=False)
            y = y / _AVG_POOL[rank](ones, pool_size, strides)
    return from_torch_layout(y, rank, channels_last)


def pool2d(x: TensorLike, pool_size, strides=(1, 1), padding: str = "valid",
           data_format: Optional[str] = None, pool_mode: str = "max") -> torch.Tensor:
    """2D max or average pooling (TF's padding; "same" averages count real elements only).

    Args:
        x: input tensor.
        pool_size: 2 ints.
        strides: 2 ints.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        pool_mode: ``"max"`` or ``"avg"``.
    """
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 2, "pool2d")


def pool3d(x: TensorLike, pool_size, strides=(1, 1, 1), padding: str = "valid",
           data_format: Optional[str] = None, pool_mode: str = "max") -> torch.Tensor:
    """3D max or average pooling.

    Args:
        x: input tensor.
        pool_size: 3 ints.
        strides: 3 ints.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        pool_mode: ``"max"`` or ``"avg"``.
    """
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 3, "pool3d")


# ------------------------------------------------------------------ unshared weights


def _local_conv(inputs, kernel, kernel_size, strides, out_sizes, data_format, rank, where):
    x = _as_tensor(inputs)
    _check_rank(x, rank, where)
    kernel = _as_operand(kernel, x)
    channels_last = normalize_data_format(data_format) == "channels_last"
    kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
    strides = normalize_tuple(strides, rank, "strides")
    xt = to_torch_layout(x, rank, channels_last)  # (batch, channels, *spatial)
    for axis in range(rank):
        xt = xt.unfold(2 + axis, kernel_size[axis], strides[axis])
    # (batch, channels, *out, *k)
    xt = xt[(slice(None), slice(None)) + tuple(slice(0, n) for n in out_sizes)]
    batch, channels = xt.shape[0], xt.shape[1]
    positions = math.prod(out_sizes)
    out_axes = list(range(2, 2 + rank))
    k_axes = list(range(2 + rank, 2 + 2 * rank))
    if channels_last:  # features flattened as (*k, channels)
        patches = xt.permute(0, *out_axes, *k_axes, 1)
    else:  # features flattened as (channels, *k)
        patches = xt.permute(0, *out_axes, 1, *k_axes)
    patches = patches.reshape(batch, positions, channels * math.prod(kernel_size))
    if tuple(kernel.shape[:2]) != (positions, patches.shape[-1]):
        raise ValueError(f"`{where}`: a kernel of shape (positions={positions}, features="
                         f"{patches.shape[-1]}, filters) is expected for this input. Received: "
                         f"{tuple(kernel.shape)}")
    out = torch.einsum("bpf,pfo->bpo", patches, kernel)
    out = out.reshape((batch,) + tuple(out_sizes) + (kernel.shape[-1],))
    if not channels_last:
        out = out.permute(0, rank + 1, *range(1, rank + 1))
    return out


def local_conv1d(inputs: TensorLike, kernel: TensorLike, kernel_size, strides,
                 data_format: Optional[str] = None) -> torch.Tensor:
    """1D convolution with unshared weights (``LocallyConnected1D``'s op, "valid").

    Args:
        inputs: ``(batch, steps, channels)`` (or channels_first).
        kernel: ``(output_length, kernel_size * channels, filters)``.
        kernel_size: a tuple of 1 int.
        strides: a tuple of 1 int.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        ``(batch, output_length, filters)`` (or channels_first).
    """
    kernel_t = _as_tensor(kernel) if not isinstance(kernel, torch.Tensor) else kernel
    return _local_conv(inputs, kernel_t, kernel_size, strides, (int(kernel_t.shape[0]),),
                       data_format, 1, "local_conv1d")


def local_conv2d(inputs: TensorLike, kernel: TensorLike, kernel_size, strides,
                 output_shape: Sequence[int], data_format: Optional[str] = None) -> torch.Tensor:
    """2D convolution with unshared weights (``LocallyConnected2D``'s op, "valid").

    Args:
        inputs: ``(batch, rows, cols, channels)`` (or channels_first).
        kernel: ``(output_rows * output_cols, kh * kw * channels, filters)``.
        kernel_size: 2 ints.
        strides: 2 ints.
        output_shape: ``(output_rows, output_cols)``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
    """
    return _local_conv(inputs, kernel, kernel_size, strides, tuple(int(n) for n in output_shape),
                       data_format, 2, "local_conv2d")


