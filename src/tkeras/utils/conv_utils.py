"""Keras's conv_utils: argument normalisation, output lengths and TensorFlow padding for
convolutions and pooling, and the channels_last <-> torch layout views."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

Pads = List[Tuple[int, int]]

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
"""torch's convolution by spatial rank (the layers and ``K.conv*`` call it)."""
CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
"""torch's transposed convolution by spatial rank."""



def normalize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> Tuple[int, ...]:
    """An int or an iterable of ``n`` ints as a tuple of ``n`` ints (Keras's conv_utils).

    Args:
        value: an int, or an iterable of ``n`` ints.
        n: the length of the tuple.
        name: the argument's name, for the error message.
        allow_zero: accept zeros (otherwise every entry must be > 0).

    Raises:
        ValueError: for anything else, or for entries < 0 (<= 0 unless ``allow_zero``).
    """
    error = f"The `{name}` argument must be a tuple of {n} integers. Received: {value}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(error) from None
        if len(values) != n:
            raise ValueError(error)
        for v in values:
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise ValueError(error + f" including element {v} of type {type(v)}")
        values = tuple(int(v) for v in values)
    bad = {v for v in values if (v < 0 if allow_zero else v <= 0)}
    if bad:
        requirement = ">= 0" if allow_zero else "> 0"
        raise ValueError(error + f" including {bad} that does not satisfy the requirement "
                                 f"`{requirement}`.")
    return values


def normalize_padding(value: Any, allowed: Sequence[str] = ("valid", "same", "causal")) -> str:
    """``padding`` in lower case, checked against ``allowed``."""
    padding = str(value).lower()
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be one of {', '.join(map(repr, allowed))}. "
                         f"Received: padding={value!r}")
    return padding


def conv_output_length(length: Optional[int], kernel: int, padding: str, stride: int,
                       dilation: int = 1) -> Optional[int]:
    """Output length of a convolution or pooling along one axis (None stays None).

    Args:
        length: the input length.
        kernel: the window size.
        padding: ``"valid"``, ``"same"``, ``"causal"`` or ``"full"``.
        stride: the stride.
        dilation: the dilation rate.
    """
    if length is None:
        return None
    dilated = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        out = length
    elif padding == "valid":
        out = length - dilated + 1
    else:  # full
        out = length + dilated - 1
    return (out + stride - 1) // stride


def deconv_output_length(length: Optional[int], kernel: int, padding: str,
                         output_padding: Optional[int] = None, stride: int = 1,
                         dilation: int = 1) -> Optional[int]:
    """Output length of a transposed convolution along one axis (Keras's formula).

    Args:
        length: the input length.
        kernel: the kernel size.
        padding: ``"valid"`` or ``"same"``.
        output_padding: extra length at the end, or None for Keras's default.
        stride: the stride.
        dilation: the dilation rate.
    """
    if length is None:
        return None
    dilated = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(dilated - stride, 0)
        return length * stride
    pad = dilated // 2 if padding == "same" else 0
    return (length - 1) * stride + dilated - 2 * pad + output_padding


def tf_same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> Tuple[int, int]:
    """TensorFlow's "same" padding along one axis: (before, after), the odd pixel after."""
    dilated = (kernel - 1) * dilation + 1
    total = max((-(-length // stride) - 1) * stride + dilated - length, 0)
    return total // 2, total - total // 2


def tf_padding(padding: str, sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
               dilation: Optional[Sequence[int]] = None) -> Pads:
    """(before, after) per spatial axis for ``"valid"``, ``"same"`` or ``"causal"``."""
    dilation = dilation or (1,) * len(sizes)
    if padding == "same":
        return [tf_same_padding(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation)]
    if padding == "causal":
        return [((k - 1) * d, 0) for k, d in zip(kernel, dilation)]
    return [(0, 0)] * len(sizes)


def pad_spec(pads: Pads, channels_last: bool) -> List[int]:
    """``F.pad``'s flat argument (last axis first) for spatial pads of a batch tensor."""
    spec = [0, 0] if channels_last else []
    for before, after in reversed(pads):
        spec += [before, after]
    return spec


def pad_for_torch(x: torch.Tensor, pads: Pads, channels_last: bool,
                  value: float = 0.0) -> Tuple[torch.Tensor, Tuple[int, ...]]:
    """Splits TF padding between torch's symmetric ``padding=`` argument and ``F.pad``.

    Returns:
        (input, padding): the input unchanged with the symmetric padding to pass to torch,
        or, when some axis is padded asymmetrically, the explicitly padded input and zeros.
    """
    if all(before == after for before, after in pads):
        return x, tuple(before for before, _ in pads)
    return F.pad(x, pad_spec(pads, channels_last), value=value), (0,) * len(pads)


def _orders(rank: int) -> Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]:
    return ((0, rank + 1, *range(1, rank + 1)), (0, *range(2, rank + 2), 1),
            (rank + 1, rank, *range(rank)))


_LAYOUT_ORDERS = {rank: _orders(rank) for rank in range(4)}


def layout_orders(rank: int) -> Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]:
    """The permutations between Keras's and torch's layouts for ``rank`` spatial axes:
    channels_last data to torch's ``(batch, channels, *spatial)``, back, and a Keras kernel
    ``(*k, a, b)`` to torch's ``(b, a, *k)`` (made once for ranks 0-3: convolutions use
    them at every call)."""
    orders = _LAYOUT_ORDERS.get(rank)
    return orders if orders is not None else _orders(rank)


def to_torch_layout(x: torch.Tensor, rank: int, channels_last: bool) -> torch.Tensor:
    """(batch, *spatial, channels) -> a (batch, channels, *spatial) view; no copy."""
    return x.permute(layout_orders(rank)[0]) if channels_last else x


def from_torch_layout(y: torch.Tensor, rank: int, channels_last: bool) -> torch.Tensor:
    """(batch, channels, *spatial) -> a (batch, *spatial, channels) view; no copy."""
    return y.permute(layout_orders(rank)[1]) if channels_last else y


def torch_kernel(kernel: torch.Tensor, rank: int) -> torch.Tensor:
    """Keras kernel ``(*k, a, b)`` as torch's ``(b, a, *k)`` weight: a permuted view.

    This serves both Conv (``(*k, in/groups, out)`` -> ``(out, in/groups, *k)``) and
    ConvTranspose (``(*k, out, in)`` -> ``(in, out, *k)``).
    """
    return kernel.permute(layout_orders(rank)[2])


def depthwise_torch_kernel(kernel: torch.Tensor, rank: int) -> torch.Tensor:
    """Depthwise kernel ``(*k, in, dm)`` as torch's ``(in*dm, 1, *k)`` grouped weight
    (output channel ``c*dm + m``, as Keras orders them)."""
    in_ch, multiplier = kernel.shape[rank], kernel.shape[rank + 1]
    k = kernel.permute(rank, rank + 1, *range(rank))
    return k.reshape(in_ch * multiplier, 1, *kernel.shape[:rank])


def use_torch_layout_(kernel: torch.Tensor, rank: int, channels_last: bool,
                      depthwise: bool = False) -> None:
    """Stores a Keras convolution kernel in the memory layout torch's convolutions want
    their weight in, so that ``torch_kernel`` (``depthwise_torch_kernel``) is a view of it
    that oneDNN takes as is: torch's channels_last (``channels_last_3d``) weight for
    channels_last data in 2D / 3D, a contiguous one otherwise. Handed a weight in another
    layout (the permuted view of a Keras-ordered kernel), torch copies it into one at every
    call, forward and backward: a strided copy of every kernel (ResNet50 inference spent
    about as long in those copies as in its BatchNormalizations).

    The shape, ``get_weights`` / ``set_weights``, constraints and regularizers stay
    Keras's; gradients and optimizer slots follow the layout (as Dense's kernel, stored in
    torch.nn.Linear's layout).

    Args:
        kernel: the layer's kernel parameter (``(*k, a, b)``), rewritten in place.
        rank: the number of spatial axes.
        channels_last: the layer's data format.
        depthwise: a depthwise kernel ``(*k, in, depth_multiplier)``.
    """
    spatial = tuple(range(2, rank + 2))
    with torch.no_grad():
        if depthwise:  # (in*dm, 1, *k) contiguous is (in, dm, *k) contiguous
            weight = depthwise_torch_kernel(kernel.data, rank).contiguous()
            kernel.data = weight.view(*kernel.shape[rank:], *kernel.shape[:rank]) \
                .permute(*spatial, 0, 1)
            return
        memory_format = torch.contiguous_format
        if channels_last and rank in (2, 3):
            memory_format = torch.channels_last if rank == 2 else torch.channels_last_3d
        weight = torch_kernel(kernel.data, rank).contiguous(memory_format=memory_format)
        kernel.data = weight.permute(*spatial, 1, 0)


def spatial_shape(shape: Sequence[Optional[int]], rank: int, channels_last: bool) -> tuple:
    """The spatial part of a (batch..., spatial..., channels) or (batch..., channels, spatial...)
    shape."""
    shape = tuple(shape)
    return shape[-rank - 1:-1] if channels_last else shape[-rank:]


def with_spatial(shape: Sequence[Optional[int]], rank: int, channels_last: bool, spatial: tuple,
                 channels: Optional[int]) -> tuple:
    """``shape`` with its spatial part replaced by ``spatial`` and its channels by ``channels``
    (the layout of ``spatial_shape``)."""
    batch = tuple(shape)[:-rank - 1]
    return batch + spatial + (channels,) if channels_last else batch + (channels,) + spatial


def convert_kernel(kernel) -> "np.ndarray":
    """A copy of a 1D / 2D / 3D convolution kernel with its spatial axes reversed.

    Converts a kernel between Theano's convolution and the cross-correlation TensorFlow
    and torch compute (the last two axes, input and output channels, stay as they are).

    Args:
        kernel: an array of rank 3, 4 or 5 (Keras's kernel layout).

    Raises:
        ValueError: for another rank.
    """
    import numpy as np
    kernel = np.asarray(kernel)
    if not 3 <= kernel.ndim <= 5:
        raise ValueError(f"Invalid kernel shape: {kernel.shape} (expected a rank 3, 4 or 5 "
                         "convolution kernel).")
    slices = [slice(None, None, -1)] * (kernel.ndim - 2) + [slice(None), slice(None)]
    return np.copy(kernel[tuple(slices)])
