"""The layers that crop, pad or repeat the spatial axes: Cropping1D/2D/3D, ZeroPadding1D/2D/3D
and UpSampling1D/2D/3D."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ...backend import config as backend_config
from ...engine.base_layer import Layer
from ...engine.input_spec import InputSpec
from ...utils.conv_utils import from_torch_layout, normalize_tuple, pad_spec, to_torch_layout


def _normalize_pairs(value, rank: int, name: str, layer: str) -> Tuple[Tuple[int, int], ...]:
    """Cropping / padding amounts as ``rank`` (before, after) pairs.

    1D: an int or 2 ints (before, after). 2D/3D: an int, ``rank`` ints (symmetric per axis)
    or ``rank`` pairs.
    """
    if rank == 1:
        return (normalize_tuple(value, 2, name, allow_zero=True),)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ((int(value), int(value)),) * rank
    expected = (f"`{name}` of {layer} should be either an int, a tuple of {rank} ints or a tuple "
                f"of {rank} tuples of 2 ints. Received: {name}={value}")
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(expected)
    # an int entry is symmetric: normalize_tuple(3, 2, ...) == (3, 3)
    return tuple(normalize_tuple(entry, 2, f"entry {i} of {name}", allow_zero=True)
                 for i, entry in enumerate(value))


def _pairs_config(pairs: Tuple[Tuple[int, int], ...], rank: int):
    return list(pairs[0]) if rank == 1 else [list(p) for p in pairs]


class _SpatialLayer(Layer):
    """Shared data_format handling of the Cropping / ZeroPadding / UpSampling layers."""

    _rank = 2

    def _init_data_format(self, data_format: Optional[str]) -> None:
        self.data_format = "channels_last" if self._rank == 1 else \
            backend_config.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _spatial_axes(self) -> List[int]:
        start = 1 if self._channels_last else 2
        return list(range(start, start + self._rank))

    def _map_spatial(self, input_shape, fn) -> tuple:
        shape = list(input_shape)
        for i, axis in enumerate(self._spatial_axes()):
            shape[axis] = None if shape[axis] is None else fn(shape[axis], i)
        return tuple(shape)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        if self._rank > 1:
            config["data_format"] = self.data_format
        return config


class _Cropping(_SpatialLayer):
    """Crops (before, after) elements along each spatial axis; a view of the input."""

    def __init__(self, cropping, data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _normalize_pairs(cropping, self._rank, "cropping", type(self).__name__)
        self._init_data_format(data_format)

    def _cropped_length(self, length: int, axis: int) -> int:
        before, after = self.cropping[axis]
        out = length - before - after
        if out <= 0:
            raise ValueError(f"Cropping of layer \"{self.name}\" removes all of spatial axis "
                             f"{axis}: expected cropping smaller than the input size {length}. "
                             f"Received: cropping={self.cropping[axis]}")
        return out

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, self._cropped_length)

    def call(self, inputs):
        index = [slice(None)] * inputs.dim()
        for i, axis in enumerate(self._spatial_axes()):
            length = inputs.shape[axis]
            index[axis] = slice(self.cropping[i][0],
                                self.cropping[i][0] + self._cropped_length(length, i))
        return inputs[tuple(index)]

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["cropping"] = _pairs_config(self.cropping, self._rank)
        return config


class Cropping1D(_Cropping):
    """Crops along the time axis: ``(batch, steps, features)`` ->
    ``(batch, steps - before - after, features)``.

    Args:
        cropping: an int or a tuple of 2 ints (before, after).

    Example:
        >>> Cropping1D((1, 2))(np.zeros((2, 10, 3), "float32")).shape
        torch.Size([2, 7, 3])
    """

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Crops rows and columns of 4D image batches.

    Args:
        cropping: an int, 2 ints (symmetric rows, cols) or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> model = Sequential([Cropping2D(((2, 2), (4, 4)), input_shape=(28, 28, 3))])
        >>> model.output_shape
        (None, 24, 20, 3)
    """

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format: Optional[str] = None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes of 5D volumes.

    Args:
        cropping: an int, 3 ints or 3 pairs ``((d1_before, d1_after), ...)``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> Cropping3D(1)(np.zeros((1, 6, 6, 6, 2), "float32")).shape
        torch.Size([1, 4, 4, 4, 2])
    """

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format: Optional[str] = None,
                 **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class _ZeroPadding(_SpatialLayer):
    """Pads (before, after) zeros along each spatial axis."""

    def __init__(self, padding, data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _normalize_pairs(padding, self._rank, "padding", type(self).__name__)
        self._init_data_format(data_format)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, i: n + sum(self.padding[i]))

    def call(self, inputs):
        return F.pad(inputs, pad_spec(list(self.padding), self._channels_last))

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["padding"] = _pairs_config(self.padding, self._rank)
        return config


class ZeroPadding1D(_ZeroPadding):
    """Zero-pads the time axis: ``(batch, steps, features)`` ->
    ``(batch, before + steps + after, features)``.

    Args:
        padding: an int or a tuple of 2 ints (before, after).

    Example:
        >>> ZeroPadding1D(2)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 9, 3])
    """

    _rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Zero-pads rows and columns of 4D image batches.

    Args:
        padding: an int, 2 ints (symmetric rows, cols) or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> ZeroPadding2D((1, 2))(np.zeros((2, 4, 4, 3), "float32")).shape
        torch.Size([2, 6, 8, 3])
    """

    _rank = 2

    def __init__(self, padding=(1, 1), data_format: Optional[str] = None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zero-pads the three spatial axes of 5D volumes.

    Args:
        padding: an int, 3 ints or 3 pairs.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> ZeroPadding3D(1)(np.zeros((1, 2, 3, 4, 2), "float32")).shape
        torch.Size([1, 4, 5, 6, 2])
    """

    _rank = 3

    def __init__(self, padding=(1, 1, 1), data_format: Optional[str] = None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


def repeat_spatial(x: torch.Tensor, sizes: Sequence[int], axes: Sequence[int]) -> torch.Tensor:
    """Repeats every element ``sizes[i]`` times along ``axes[i]`` (nearest-neighbour
    upsampling by integer factors), with one expand + reshape."""
    view, expanded, final = [], [], []
    for axis, length in enumerate(x.shape):
        view.append(length)
        expanded.append(length)
        final.append(length)
        if axis in axes:
            factor = sizes[list(axes).index(axis)]
            view.append(1)
            expanded.append(factor)
            final[-1] = length * factor
    return x.reshape(view).expand(expanded).reshape(final)


class _UpSampling(_SpatialLayer):
    """Repeats rows / columns / steps ``size`` times (nearest neighbour)."""

    def __init__(self, size, data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, self._rank, "size")
        self._init_data_format(data_format)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, i: n * self.size[i])

    def call(self, inputs):
        return repeat_spatial(inputs, self.size, self._spatial_axes())

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["size"] = list(self.size)
        return config


class UpSampling1D(_UpSampling):
    """Repeats each time step ``size`` times: ``(batch, steps, features)`` ->
    ``(batch, steps * size, features)``.

    Args:
        size: the upsampling factor (int).

    Example:
        >>> UpSampling1D(2)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 10, 3])
    """

    _rank = 1

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(size, **kwargs)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Upsamples rows and columns by integer factors.

    Args:
        size: an int or 2 ints (row, col factors).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        interpolation: ``"nearest"`` (repeat) or ``"bilinear"`` (half-pixel centres, no
            antialiasing, as ``tf.image.resize``).

    Example:
        >>> UpSampling2D(size=(2, 2))(Input(shape=(2, 2, 1))).shape
        (None, 4, 4, 1)
    """

    _rank = 2
    _INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format: Optional[str] = None,
                 interpolation: str = "nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        if interpolation not in self._INTERPOLATIONS:
            raise ValueError("`interpolation` argument of UpSampling2D should be one of "
                             f"{self._INTERPOLATIONS} (other tf.image methods are not supported "
                             f"by tkeras). Received: interpolation={interpolation!r}")
        self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "nearest":
            return super().call(inputs)
        channels_last = self._channels_last
        x = to_torch_layout(inputs, 2, channels_last)
        size = (x.shape[2] * self.size[0], x.shape[3] * self.size[1])
        y = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)
        return from_torch_layout(y, 2, channels_last)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    """Repeats the three spatial axes of 5D volumes by integer factors.

    Args:
        size: an int or 3 ints.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> UpSampling3D(2)(np.zeros((1, 2, 3, 4, 2), "float32")).shape
        torch.Size([1, 4, 6, 8, 2])
    """

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format: Optional[str] = None, **kwargs):
        super().__init__(size, data_format, **kwargs)
