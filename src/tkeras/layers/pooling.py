"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and the global poolings, with
their Keras aliases (MaxPool2D, AvgPool2D, GlobalAvgPool2D, ...).

Pooling runs torch's fused kernels on a channels_first *view* of channels_last data.
``padding="same"`` follows TensorFlow (the odd pixel at the end): max pooling pads with
-inf, average pooling divides by the number of real (non-padded) elements in each window.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from ..backend import config as backend_config
from ..engine.base_layer import Layer, register_layer_alias
from ..engine.input_spec import InputSpec
from ..utils.conv_utils import (
    conv_output_length,
    from_torch_layout,
    normalize_padding,
    normalize_tuple,
    pad_for_torch,
    spatial_shape,
    tf_padding,
    to_torch_layout,
)

__all__ = [
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
    "GlobalAvgPool2D", "GlobalAvgPool3D",
]

_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class _Pooling(Layer):
    """Shared machinery of the windowed poolings: arguments, TF padding, shapes, config.

    Subclasses set ``_rank`` and implement ``_pool(x, padding, pads)`` on a
    (batch, channels, *spatial) tensor.
    """

    _rank = 2
    _default_data_format: Optional[str] = None

    def __init__(self, pool_size=2, strides=None, padding: str = "valid",
                 data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        rank = self._rank
        if strides is None:
            strides = pool_size
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding, ("valid", "same"))
        self.data_format = backend_config.normalize_data_format(
            self._default_data_format if data_format is None else data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def call(self, inputs):
        rank, channels_last = self._rank, self._channels_last
        sizes = spatial_shape(inputs.shape, rank, channels_last)
        if self.padding == "valid" and any(n < k for n, k in zip(sizes, self.pool_size)):
            raise self._window_error(tuple(inputs.shape))
        pads = tf_padding(self.padding, sizes, self.pool_size, self.strides)
        x = to_torch_layout(inputs, rank, channels_last)
        y = self._pool(x, pads)
        return from_torch_layout(y, rank, channels_last)

    def _pool(self, x: torch.Tensor, pads) -> torch.Tensor:
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        rank, channels_last = self._rank, self._channels_last
        sizes = spatial_shape(input_shape, rank, channels_last)
        out = tuple(conv_output_length(n, k, self.padding, s)
                    for n, k, s in zip(sizes, self.pool_size, self.strides))
        if any(o is not None and o <= 0 for o in out):
            raise self._window_error(input_shape)
        if channels_last:
            return (input_shape[0],) + out + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + out

    def _window_error(self, input_shape) -> ValueError:
        return ValueError(f"Computed output size would be negative or zero in layer "
                          f"\"{self.name}\": pool_size={self.pool_size} with "
                          f"padding='{self.padding}' does not fit the input shape "
                          f"{input_shape}.")

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        if self._rank == 1:  # tf-keras writes the 1D keys in this order
            config.update({"strides": list(self.strides), "pool_size": list(self.pool_size)})
        else:
            config["pool_size"] = list(self.pool_size)
        config["padding"] = self.padding
        config["strides"] = list(self.strides)
        config["data_format"] = self.data_format
        return config


class _MaxPooling(_Pooling):
    def _pool(self, x: torch.Tensor, pads) -> torch.Tensor:
        x, padding = pad_for_torch(x, pads, channels_last=False, value=float("-inf"))
        return _MAX_POOL[self._rank](x, self.pool_size, self.strides, padding)


class _AveragePooling(_Pooling):
    """Average pooling; "same" windows are divided by their count of real elements."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._divisors: Dict[Tuple[Any, ...], torch.Tensor] = {}

    def _pool(self, x: torch.Tensor, pads) -> torch.Tensor:
        padded, padding = pad_for_torch(x, pads, channels_last=False)
        out = _AVG_POOL[self._rank](padded, self.pool_size, self.strides, padding,
                                    count_include_pad=False)
        if padded is x:  # no explicit padding: torch already divided by the real count
            return out
        return out * self._padding_correction(x, pads)

    def _padding_correction(self, x: torch.Tensor, pads) -> torch.Tensor:
        """(window size / real elements) per output position, shape (1, 1, *out).

        Found by average-pooling a padded ones tensor; cached per input size and device.
        """
        key = (tuple(x.shape[2:]), x.device, x.dtype)
        cached = self._divisors.get(key)
        if cached is not None:
            return cached
        ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
        ones, _ = pad_for_torch(ones, pads, channels_last=False)
        correction = 1.0 / _AVG_POOL[self._rank](ones, self.pool_size, self.strides)
        if x.device.type != "meta":
            self._divisors[key] = correction
        return correction


_POOL_DOC = """
    Args:
        pool_size: an int or a tuple of {rank} ints, the window size.
        strides: an int or a tuple of {rank} ints; None means pool_size.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's, case-insensitive).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: {rank_plus_2}D, ``(batch, *spatial, channels)`` for channels_last.
    Output shape: the same rank, with pooled spatial axes.
"""


class MaxPooling1D(_MaxPooling):
    """Max pooling over the time axis.

    Example:
        >>> MaxPooling1D(2)(np.zeros((2, 6, 3), "float32")).shape
        torch.Size([2, 3, 3])
    """

    _rank = 1
    _default_data_format = "channels_last"


class MaxPooling2D(_MaxPooling):
    """Max pooling over rows and columns.

    Example:
        >>> MaxPooling2D(pool_size=(2, 2))(Input(shape=(32, 32, 3))).shape
        (None, 16, 16, 3)
    """

    _rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid",
                 data_format: Optional[str] = None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_MaxPooling):
    """Max pooling over three spatial axes.

    Example:
        >>> MaxPooling3D(2)(np.zeros((1, 4, 4, 4, 2), "float32")).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    _rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding: str = "valid",
                 data_format: Optional[str] = None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_AveragePooling):
    """Average pooling over the time axis.

    Example:
        >>> AveragePooling1D(2)(np.zeros((2, 6, 3), "float32")).shape
        torch.Size([2, 3, 3])
    """

    _rank = 1
    _default_data_format = "channels_last"


class AveragePooling2D(_AveragePooling):
    """Average pooling over rows and columns.

    Example:
        >>> AveragePooling2D(2)(np.zeros((2, 4, 4, 3), "float32")).shape
        torch.Size([2, 2, 2, 3])
    """

    _rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid",
                 data_format: Optional[str] = None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_AveragePooling):
    """Average pooling over three spatial axes.

    Example:
        >>> AveragePooling3D(2)(np.zeros((1, 4, 4, 4, 2), "float32")).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    _rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding: str = "valid",
                 data_format: Optional[str] = None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


for _cls in (MaxPooling1D, MaxPooling2D, MaxPooling3D, AveragePooling1D, AveragePooling2D,
             AveragePooling3D):
    _cls.__doc__ += _POOL_DOC.format(rank=_cls._rank, rank_plus_2=_cls._rank + 2)


# ---------------------------------------------------------------- global pooling

class _GlobalPooling(Layer):
    """Reduces all spatial axes with max or mean; ``keepdims`` keeps them with size 1."""

    _rank = 2
    _default_data_format: Optional[str] = None

    def __init__(self, data_format: Optional[str] = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend_config.normalize_data_format(
            self._default_data_format if data_format is None else data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _spatial_axes(self) -> Tuple[int, ...]:
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self._rank))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        axes = self._spatial_axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class _GlobalMaxPooling(_GlobalPooling):
    def call(self, inputs):
        return torch.amax(inputs, dim=self._spatial_axes(), keepdim=self.keepdims)


class _GlobalAveragePooling(_GlobalPooling):
    def call(self, inputs):
        return torch.mean(inputs, dim=self._spatial_axes(), keepdim=self.keepdims)


_GLOBAL_DOC = """
    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with length 1.

    Input shape: {rank_plus_2}D. Output shape: ``(batch, channels)``, or with the spatial
    axes of length 1 when keepdims.
"""


class GlobalMaxPooling1D(_GlobalMaxPooling):
    """Global max pooling over the time axis.

    Example:
        >>> GlobalMaxPooling1D()(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 3])
    """

    _rank = 1
    _default_data_format = "channels_last"


class GlobalAveragePooling1D(_GlobalAveragePooling):
    """Global average pooling over the time axis; with a mask, the average is taken over
    the unmasked steps only (and no mask is passed on).

    Example:
        >>> GlobalAveragePooling1D()(Input(shape=(10, 4))).shape
        (None, 4)
    """

    _rank = 1
    _default_data_format = "channels_last"

    def __init__(self, data_format: str = "channels_last", keepdims: bool = False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps_axis = self._spatial_axes()[0]
        weights = mask.to(inputs.dtype).unsqueeze(2 if steps_axis == 1 else 1)
        total = torch.sum(inputs * weights, dim=steps_axis, keepdim=self.keepdims)
        return total / torch.sum(weights, dim=steps_axis, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling2D(_GlobalMaxPooling):
    """Global max pooling over rows and columns.

    Example:
        >>> GlobalMaxPooling2D()(np.zeros((2, 4, 4, 3), "float32")).shape
        torch.Size([2, 3])
    """

    _rank = 2


class GlobalAveragePooling2D(_GlobalAveragePooling):
    """Global average pooling over rows and columns.

    Example:
        >>> GlobalAveragePooling2D()(np.zeros((2, 4, 4, 3), "float32")).shape
        torch.Size([2, 3])
    """

    _rank = 2


class GlobalMaxPooling3D(_GlobalMaxPooling):
    """Global max pooling over three spatial axes.

    Example:
        >>> GlobalMaxPooling3D()(np.zeros((1, 4, 4, 4, 2), "float32")).shape
        torch.Size([1, 2])
    """

    _rank = 3


class GlobalAveragePooling3D(_GlobalAveragePooling):
    """Global average pooling over three spatial axes.

    Example:
        >>> GlobalAveragePooling3D()(np.zeros((1, 4, 4, 4, 2), "float32")).shape
        torch.Size([1, 2])
    """

    _rank = 3


for _cls in (GlobalMaxPooling1D, GlobalAveragePooling1D, GlobalMaxPooling2D,
             GlobalAveragePooling2D, GlobalMaxPooling3D, GlobalAveragePooling3D):
    _cls.__doc__ += _GLOBAL_DOC.format(rank_plus_2=_cls._rank + 2)


# ---------------------------------------------------------------- aliases

MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = \
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = \
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D

for _alias in ("MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
               "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
               "GlobalAvgPool2D", "GlobalAvgPool3D"):
    register_layer_alias(_alias, globals()[_alias])
