"""tkeras.layers.serialize / deserialize: layers to and from Keras configs."""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..engine.base_layer import LAYER_REGISTRY, Layer


def serialize_layer(layer: Layer, build_config: bool = False) -> Dict[str, Any]:
    """The layer's ``{"module", "class_name", "config", "registered_name"}``
    (``tkeras.layers.serialize``).

    Args:
        layer: the layer.
        build_config: also store ``layer.get_build_config()`` (the input shape it was built
            for), as a model's config does for each of its layers.
    """
    config = LAYER_REGISTRY.serialize(layer)
    build = layer.get_build_config() if build_config else None
    if build is not None:
        config["build_config"] = build
    return config


def deserialize_layer(config: Dict[str, Any], custom_objects: Optional[Dict[str, Any]] = None,
                      safe_mode: Optional[bool] = None) -> Layer:
    """Builds a layer from ``{"class_name": ..., "config": ...}`` (Keras 2 or tf-keras 2.x).

    Args:
        config: the layer's config.
        custom_objects: classes and functions the config names, by name.
        safe_mode: False allows code stored in the config (Lambda bytecode); None (default)
            keeps the enclosing ``SafeModeScope``'s setting (True by default).
    """
    return LAYER_REGISTRY.deserialize(config, custom_objects, safe_mode)
