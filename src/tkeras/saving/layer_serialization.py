"""tkeras.layers.serialize / deserialize: layers to and from Keras configs."""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..engine.base_layer import LAYER_REGISTRY, Layer
from .object_registration import deserialize_keras_object, serialize_keras_object


def serialize_layer(layer: Layer) -> Dict[str, Any]:
    return serialize_keras_object(layer)


def deserialize_layer(config: Dict[str, Any], custom_objects: Optional[Dict[str, Any]] = None,
                      safe_mode: Optional[bool] = None) -> Layer:
    """Builds a layer from ``{"class_name": ..., "config": ...}`` (Keras 2 or tf-keras 2.x).

    Args:
        config: the layer's config.
        custom_objects: classes and functions the config names, by name.
        safe_mode: False allows code stored in the config (Lambda bytecode); None (default)
            keeps the enclosing ``SafeModeScope``'s setting (True by default).
    """
    return deserialize_keras_object(config, module_objects=LAYER_REGISTRY,
                                    custom_objects=custom_objects, printable_module_name="layer",
                                    safe_mode=safe_mode)
