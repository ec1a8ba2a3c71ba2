"""Loading ``.h5`` files written by Keras 1.x (and Theano-trained files), as Keras 2 loaded them.

Keras 2.3.1's ``keras/engine/saving.py`` converted old weights in
``preprocess_weights_for_loading``; this module does the same for tkeras's loader:

* a weights group without ``keras_version`` (or with a 1.x version) holds Keras 1 weights:
  Conv1D kernels ``(filter_length, 1, input_dim, filters)`` (or the Theano order), Conv2D /
  Conv3D kernels of ``channels_first`` layers in Theano's order, Conv2DTranspose kernels
  with the channel axes swapped, and GRU / LSTM / ConvLSTM2D weights as one matrix per gate
  (9 / 12 arrays) instead of one kernel, recurrent kernel and bias;
* kernels saved by the Theano backend (convolution, not correlation) are flipped;
* Keras 1 layer configs (``input_dtype``, ``Convolution2D(nb_filter, nb_row, ...)``) are
  read through the legacy argument conversions of ``tkeras.legacy.interfaces``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from ..utils.conv_utils import convert_kernel


def _attr(group, name: str) -> Optional[str]:
    """The attribute on ``group``, else on its file's root (Keras 1 wrote them at the root)."""
    if group is None:
        return None
    value = group.attrs.get(name)
    if value is None and getattr(group, "file", None) is not None:
        value = group.file.attrs.get(name)
    if value is None:
        return None
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def original_keras_version(group) -> str:
    """``'1'`` for a Keras 1 file (no ``keras_version``, or 1.x), else the stored version."""
    version = _attr(group, "keras_version")
    if version is None or version == "1" or version.startswith("1."):
        return "1"
    return version


def _need_convert_kernel(original_backend: Optional[str]) -> bool:
    """Theano computed true convolutions; torch (like TensorFlow and CNTK) correlations."""
    return original_backend == "theano"


def _merge_gates(weights: List[np.ndarray], order: List[int], n_gates: int) -> List[np.ndarray]:
    """Keras 1's per-gate (W, U, b) triples -> Keras 2's kernel, recurrent kernel, bias."""
    triples = [weights[3 * g:3 * g + 3] for g in order]
    assert len(triples) == n_gates
    return [np.concatenate([t[i] for t in triples], axis=-1) for i in range(3)]


def preprocess_weights_for_loading(layer, weights: List[np.ndarray],
                                   original_keras_version: Optional[str] = None,
                                   original_backend: Optional[str] = None) -> List[np.ndarray]:
    """Converts a layer's saved weights from Keras 1 / Theano layouts to Keras 2's.

    Args:
        layer: the layer the weights are for.
        weights: the saved arrays, in the file's order.
        original_keras_version: the file's ``keras_version`` (``'1'`` for Keras 1).
        original_backend: the file's ``backend`` (``'theano'`` flips convolution kernels).

    Returns:
        The arrays in Keras 2's order and layouts.
    """
    name = type(layer).__name__
    weights = list(weights)
    if name == "Bidirectional":
        half = len(weights) // 2
        return (preprocess_weights_for_loading(layer.forward_layer, weights[:half],
                                               original_keras_version, original_backend)
                + preprocess_weights_for_loading(layer.backward_layer, weights[half:],
                                                 original_keras_version, original_backend))
    if name == "TimeDistributed":
        return preprocess_weights_for_loading(layer.layer, weights, original_keras_version,
                                              original_backend)
    if hasattr(layer, "layers") and name in ("Model", "Functional", "Sequential"):
        return _nested_model_weights(layer, weights, original_keras_version, original_backend)

    if original_keras_version == "1" and weights:
        if name == "Conv1D":
            shape = weights[0].shape
            if shape[:2] != (layer.kernel_size[0], 1) or shape[3] != layer.filters:
                weights[0] = np.transpose(weights[0], (2, 3, 1, 0))
            weights[0] = weights[0][:, 0, :, :]
        elif name == "Conv2D" and layer.data_format == "channels_first":
            weights[0] = np.transpose(weights[0], (2, 3, 1, 0))
        elif name == "Conv2DTranspose":
            axes = (0, 1, 3, 2) if layer.data_format == "channels_last" else (2, 3, 0, 1)
            weights[0] = np.transpose(weights[0], axes)
        elif name == "Conv3D" and layer.data_format == "channels_first":
            weights[0] = np.transpose(weights[0], (2, 3, 4, 1, 0))
        elif name == "GRU" and len(weights) == 9:
            weights = _merge_gates(weights, [0, 1, 2], 3)  # z, r, h
        elif name in ("LSTM", "ConvLSTM2D") and len(weights) == 12:
            weights = _merge_gates(weights, [0, 2, 1, 3], 4)  # Keras 1: i, c, f, o -> i, f, c, o
            if name == "ConvLSTM2D" and layer.data_format == "channels_first":
                weights[0] = np.transpose(weights[0], (2, 3, 1, 0))
                weights[1] = np.transpose(weights[1], (2, 3, 1, 0))

    if name in ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "ConvLSTM2D") and weights:
        if _need_convert_kernel(original_backend):
            weights[0] = convert_kernel(weights[0])
            if name == "ConvLSTM2D":
                weights[1] = convert_kernel(weights[1])
        expected = tuple(layer.get_weights()[0].shape) if layer.weights else None
        if expected is not None and weights[0].ndim == 4 and weights[0].shape != expected:
            weights[0] = np.transpose(weights[0], (3, 2, 0, 1))
            if name == "ConvLSTM2D":
                weights[1] = np.transpose(weights[1], (3, 2, 0, 1))
    return weights


def _nested_model_weights(model, weights, version, backend) -> List[np.ndarray]:
    """Keras 1 saved a nested model's trainable weights first, then its other weights."""
    out: List[np.ndarray] = []
    for trainable in (True, False):
        for sublayer in model.layers:
            count = len(sublayer.trainable_weights) if trainable else \
                len(sublayer.weights) - len(sublayer.trainable_weights)
            if count:
                out.extend(preprocess_weights_for_loading(sublayer, weights[:count], version,
                                                          backend))
                weights = weights[count:]
    return out


def convert_legacy_weights(layer, values: List[np.ndarray], group) -> List[np.ndarray]:
    """The hook of the HDF5 loader: converts ``values`` when ``group`` is a Keras 1 /
    Theano weights group, and leaves Keras 2 files untouched."""
    version = original_keras_version(group)
    backend = _attr(group, "backend")
    if version != "1" and not _need_convert_kernel(backend):
        return values
    return preprocess_weights_for_loading(layer, values, version, backend)


# ---------------------------------------------------------------------------------------
# Keras 1 model configs


def _convert_layer_entry(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    if entry.get("class_name") == "Merge":
        raise ValueError("This file uses Keras 1's `Merge` layer, which Keras 2 removed: rebuild "
                         "the model with the functional merge layers (Add, Concatenate, ...) "
                         "and load the weights with `load_weights(..., by_name=True)`.")
    config = entry.get("config")
    if isinstance(config, dict):
        config = dict(config)
        if "input_dtype" in config:
            dtype = config.pop("input_dtype")
            config.setdefault("dtype", dtype)
        if isinstance(config.get("layers"), list):
            config["layers"] = [_convert_layer_entry(layer) for layer in config["layers"]]
        if isinstance(config.get("layer"), dict):
            config["layer"] = _convert_layer_entry(config["layer"])
        entry["config"] = config
    elif isinstance(config, list):  # a Keras 1 Sequential: a list of layer entries
        entry["config"] = [_convert_layer_entry(layer) for layer in config]
    return entry


def convert_legacy_model_config(model_config: Dict[str, Any], root) -> Dict[str, Any]:
    """A Keras 1 ``model_config`` made loadable (configs of other versions as they are)."""
    if original_keras_version(root) != "1":
        return model_config
    return _convert_layer_entry(model_config)
