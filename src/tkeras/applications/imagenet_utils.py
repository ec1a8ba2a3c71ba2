"""ImageNet helpers shared by the applications (``keras.applications.imagenet_utils``).

``preprocess_input`` scales a batch of images the way a model's ImageNet weights expect
("caffe", "tf" or "torch" mode); ``decode_predictions`` turns a (samples, 1000) batch of
predictions into ``(class_name, description, score)`` tuples, reading the ImageNet class
index once through ``get_file`` (cached in ``~/.keras/models``). ``obtain_input_shape``,
``correct_pad`` and ``validate_activation`` are the checks the model constructors share.

Example:
    >>> import numpy as np
    >>> from tkeras.applications import imagenet_utils
    >>> x = np.full((1, 2, 2, 3), 127.5, dtype="float32")
    >>> float(imagenet_utils.preprocess_input(x, mode="tf")[0, 0, 0, 0])
    0.0
"""
from __future__ import annotations

import json
import warnings
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .. import activations
from ..backend import config
from ..engine.keras_tensor import KerasTensor

CLASS_INDEX: Optional[dict] = None
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # B, G, R
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def _check_mode_and_format(mode: str, data_format: Optional[str]) -> str:
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    if data_format is None:
        return config.image_data_format()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    return data_format


def preprocess_input(x, data_format: Optional[str] = None, mode: str = "caffe"):
    """Preprocesses a batch of images (values in [0, 255]) for an ImageNet model.

    Args:
        x: a numpy array or torch tensor, 3D or 4D, with 3 colour channels. A float numpy
            array is modified in place (as in Keras; pass ``np.copy(x)`` to avoid it);
            other inputs are converted to floatx. A Keras tensor gives a Keras tensor.
        data_format: "channels_last" or "channels_first" (default: the backend's setting).
        mode: "caffe": RGB -> BGR, then subtract the ImageNet channel means (no scaling);
            "tf": scale to [-1, 1]; "torch": scale to [0, 1], then normalise each channel
            with the ImageNet mean and standard deviation.

    Returns:
        The preprocessed array or tensor.

    Raises:
        ValueError: for an unknown ``mode`` or ``data_format``.

    Example:
        >>> x = np.zeros((1, 224, 224, 3), dtype="float32")
        >>> preprocess_input(x)[0, 0, 0].round(3).tolist()
        [-103.939, -116.779, -123.68]
    """
    data_format = _check_mode_and_format(mode, data_format)
    if isinstance(x, np.ndarray):
        return _preprocess_numpy_input(x, data_format, mode)
    if isinstance(x, KerasTensor):
        from ..layers.core import Lambda
        return Lambda(lambda t: _preprocess_tensor(t, data_format, mode),
                      name=config.unique_object_name("preprocess_input"))(x)
    if not isinstance(x, torch.Tensor):
        x = np.asarray(x)
        return _preprocess_numpy_input(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_axis(ndim: int, data_format: str) -> int:
    if data_format == "channels_last":
        return ndim - 1
    return 0 if ndim == 3 else 1


def _preprocess_numpy_input(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    axis = _channel_axis(x.ndim, data_format)
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = np.flip(x, axis=axis)  # RGB -> BGR (a view, as Keras's x[..., ::-1])
        mean, std = _CAFFE_MEAN, None
    index: List[Any] = [slice(None)] * x.ndim
    for c in range(3):
        index[axis] = c
        x[tuple(index)] -= mean[c]
        if std is not None:
            x[tuple(index)] /= std[c]
    return x


def _preprocess_tensor(x: torch.Tensor, data_format: str, mode: str) -> torch.Tensor:
    if not x.is_floating_point():
        x = x.to(config.torch_dtype())
    if mode == "tf":
        return x / 127.5 - 1.0
    axis = _channel_axis(x.dim(), data_format)
    shape = [1] * x.dim()
    shape[axis] = 3
    if mode == "torch":
        mean = torch.tensor(_TORCH_MEAN, dtype=x.dtype, device=x.device).reshape(shape)
        std = torch.tensor(_TORCH_STD, dtype=x.dtype, device=x.device).reshape(shape)
        return (x / 255.0 - mean) / std
    mean = torch.tensor(_CAFFE_MEAN, dtype=x.dtype, device=x.device).reshape(shape)
    return torch.flip(x, dims=(axis,)) - mean


def decode_predictions(preds, top: int = 5) -> List[List[Tuple[str, str, Any]]]:
    """Decodes the predictions of an ImageNet model.

    The class index (``imagenet_class_index.json``) is fetched once with ``get_file`` into
    ``~/.keras/models`` and kept for the rest of the session.

    Args:
        preds: a (samples, 1000) numpy array (or torch tensor) of predictions.
        top: how many of the best guesses to return per sample.

    Returns:
        One list per sample of ``(class_name, class_description, score)`` tuples, best first.

    Raises:
        ValueError: if ``preds`` is not a 2D batch of 1000 scores.

    Example:
        >>> preds = model.predict(x)                      # doctest: +SKIP
        >>> decode_predictions(preds, top=3)[0]           # doctest: +SKIP
        [('n02504458', 'African_elephant', 0.82), ...]
    """
    global CLASS_INDEX
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array "
                         f"of shape (samples, 1000)). Found array with shape: {preds.shape}")
    if CLASS_INDEX is None:
        from ..utils.data_utils import get_file
        fpath = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                         file_hash=CLASS_INDEX_HASH)
        with open(fpath) as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape: Optional[Sequence[Optional[int]]], default_size: int,
                       min_size: int, data_format: str, require_flatten: bool,
                       weights: Optional[str] = None) -> tuple:
    """Checks a model's ``input_shape`` argument and fills in the default shape.

    Args:
        input_shape: None (the default shape) or the user's shape, without the batch axis.
        default_size: the model's default height and width.
        min_size: the smallest height / width the model accepts.
        data_format: "channels_last" or "channels_first".
        require_flatten: whether a classifier top needs a fixed shape (``include_top``).
        weights: None, "imagenet" (then 3 channels) or a file path.

    Returns:
        The input shape as a tuple (None for unknown sizes).

    Example:
        >>> obtain_input_shape(None, 224, 32, "channels_last", require_flatten=False)
        (None, None, 3)
    """
    if input_shape is not None:
        input_shape = tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if data_format == "channels_first" else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was "
                          f"passed an input_shape with {channels} input channels.",
                          stacklevel=2)
        if data_format == "channels_first":
            default_shape = (input_shape[0], default_size, default_size)
        else:
            default_shape = (default_size, default_size, input_shape[-1])
    elif data_format == "channels_first":
        default_shape = (3, default_size, default_size)
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, "
                             f"`input_shape` should be {default_shape}.  "
                             f"Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        if data_format == "channels_first":
            channels, spatial = input_shape[0], input_shape[1:]
        else:
            channels, spatial = input_shape[-1], input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError("The input must have 3 channels; Received "
                             f"`input_shape={input_shape}`")
        if any(d is not None and d < min_size for d in spatial):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if data_format == "channels_first" else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """The ZeroPadding2D padding that makes a strided "valid" conv match TF's "same".

    Args:
        inputs: a 4D Keras tensor (or tensor).
        kernel_size: an int or a pair of ints.

    Returns:
        ``((top, bottom), (left, right))``.

    Example:
        >>> correct_pad(Input((224, 224, 3)), 3)          # doctest: +SKIP
        ((0, 1), (0, 1))
    """
    img_dim = 2 if config.image_data_format() == "channels_first" else 1
    input_size = tuple(inputs.shape)[img_dim:img_dim + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    if input_size[0] is None:
        adjust = (1, 1)
    else:
        adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights) -> None:
    """Only None and "softmax" classifier activations go with pretrained weights.

    Raises:
        ValueError: for another activation when ``weights`` is not None.
    """
    if weights is None:
        return
    fn = activations.get(classifier_activation)
    if fn not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the "
                         "`classifier_activation` argument when using pretrained weights, with "
                         "`include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")


_obtain_input_shape = obtain_input_shape  # the name keras_applications 1.0 (Keras 2.2) used
