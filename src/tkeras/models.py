"""tkeras.models: Model, Sequential, and model (de)serialization."""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from .engine.functional import Functional
from .engine.sequential import Sequential
from .engine.training import Model
from .saving.layer_serialization import deserialize_layer
from .saving.object_registration import CustomObjectScope, safe_mode_scope
from .saving.saving_api import load_model, save_model

__all__ = ["Model", "Sequential", "Functional", "model_from_config", "model_from_json",
           "model_from_yaml", "load_model", "save_model"]


def model_from_config(config: Dict[str, Any], custom_objects: Optional[Dict[str, Any]] = None,
                      safe_mode: Optional[bool] = None):
    """Builds a model from ``{"class_name": ..., "config": ...}`` (``Model``, ``Functional``,
    ``Sequential`` or a registered custom model).

    Args:
        config: the model's config.
        custom_objects: classes and functions the config names, by name.
        safe_mode: False allows code stored in the config (Lambda bytecode); only for
            configs you trust. None (default) keeps the enclosing ``SafeModeScope``'s
            setting, which is True unless set otherwise.
    """
    with safe_mode_scope(safe_mode):
        return _model_from_config(config, custom_objects)


def _model_from_config(config, custom_objects):
    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Received: "
                        f"config={config!r}. Did you mean to use `Sequential.from_config(config)`?")
    class_name = config.get("class_name")
    if class_name in ("Model", "Functional"):
        with CustomObjectScope(custom_objects or {}):
            return Functional.from_config(config["config"], custom_objects=custom_objects)
    if class_name == "Sequential":
        with CustomObjectScope(custom_objects or {}):
            return Sequential.from_config(config["config"], custom_objects=custom_objects)
    return deserialize_layer(config, custom_objects=custom_objects)


def model_from_json(json_string: str, custom_objects: Optional[Dict[str, Any]] = None,
                    safe_mode: Optional[bool] = None):
    """Rebuilds a model (architecture only, fresh weights) from ``model.to_json()``.

    ``safe_mode=False`` allows code stored in the JSON (Lambda bytecode); only for text you
    trust. None (default) keeps the enclosing ``SafeModeScope``'s setting (True by default).
    """
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as e:
        raise ValueError(f"`model_from_json` expects a JSON string. Could not parse it: {e}") from None
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)


def model_from_yaml(yaml_string: str, custom_objects: Optional[Dict[str, Any]] = None,
                    safe_mode: Optional[bool] = None):
    """Rebuilds a model from ``model.to_yaml()`` (parsed with PyYAML's ``safe_load`` only).

    ``safe_mode`` as in ``model_from_json``.
    """
    import yaml
    try:
        config = yaml.safe_load(yaml_string)
    except yaml.YAMLError as e:
        raise ValueError(f"`model_from_yaml` could not parse the YAML string: {e}") from None
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
