"""Custom objects: the global registry, scopes, and Keras-style (de)serialization of objects.

Every public module that names objects by string (activations, initializers, regularizers,
constraints, losses, metrics, optimizers, layers) resolves names through
``deserialize_keras_object`` so that ``custom_objects``, ``CustomObjectScope`` and
``register_keras_serializable`` work the same everywhere.
"""
from __future__ import annotations

import inspect
import threading
from typing import Any, Callable, Dict, Mapping, Optional

_GLOBAL_CUSTOM_OBJECTS: Dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: Dict[Any, str] = {}
_SCOPE = threading.local()


def _scope_stack():
    stack = getattr(_SCOPE, "stack", None)
    if stack is None:
        stack = _SCOPE.stack = []
    return stack


def in_safe_mode() -> bool:
    """True unless inside ``SafeModeScope(False)``: code stored in files is never run then."""
    return getattr(_SCOPE, "safe_mode", True)


class SafeModeScope:
    """``with SafeModeScope(False):`` allows loading Python code (Lambda bytecode) from configs."""

    def __init__(self, safe_mode: bool = True):
        self.safe_mode = bool(safe_mode)

    def __enter__(self):
        self._previous = in_safe_mode()
        _SCOPE.safe_mode = self.safe_mode
        return self

    def __exit__(self, *exc):
        _SCOPE.safe_mode = self._previous


def get_custom_objects() -> Dict[str, Any]:
    """The global dict of custom objects; assign into it to register an object by name."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """Makes custom objects visible to deserialization within a ``with`` block.

    Example:
        >>> with CustomObjectScope({"my_reg": my_reg}):
        ...     layer = Dense.from_config(config)
    """

    def __init__(self, *args: Mapping[str, Any]):
        self.custom_objects: Dict[str, Any] = {}
        for objects in args:
            if objects:
                self.custom_objects.update(objects)

    def __enter__(self):
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def register_keras_serializable(package: str = "Custom", name: Optional[str] = None):
    """Class / function decorator that registers the object as ``'package>name'``."""

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """'package>Name' for a registered object, else its class or function name."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return obj.__name__


def _lookup(name: str, custom_objects: Optional[Mapping[str, Any]],
            module_objects: Optional[Mapping[str, Any]]):
    candidates = [name]
    if ">" in name:  # 'Custom>Adam', 'package>Name'
        candidates.append(name.split(">", 1)[1])
    for key in candidates:
        if custom_objects and key in custom_objects:
            return custom_objects[key]
        for scope in reversed(_scope_stack()):
            if key in scope:
                return scope[key]
        if key in _GLOBAL_CUSTOM_OBJECTS:
            return _GLOBAL_CUSTOM_OBJECTS[key]
        if module_objects and key in module_objects:
            return module_objects[key]
    return None


def get_registered_object(name: str, custom_objects=None, module_objects=None):
    return _lookup(name, custom_objects, module_objects)


def _unknown(kind: str, name: str) -> ValueError:
    return ValueError(
        f"Unknown {kind}: '{name}'. Please ensure you are using a "
        "`tkeras.utils.custom_object_scope` and that this object is included in the scope, "
        "or pass it in the `custom_objects` argument. See "
        "https://www.tensorflow.org/guide/keras/save_and_serialize#registering_the_custom_object "
        "for details.")


def serialize_keras_object(obj, module: Optional[str] = None):
    """Keras 2 (tf-keras 2.x) serialization.

    Objects with ``get_config`` become ``{"module", "class_name", "config", "registered_name"}``;
    functions become their (registered) name; None stays None.
    """
    if obj is None:
        return None
    if isinstance(obj, (str, int, float, bool)):
        return obj
    if hasattr(obj, "get_config"):
        cls = obj.__class__
        registered = _GLOBAL_CUSTOM_NAMES.get(cls)
        return {
            "module": module or getattr(cls, "_keras_module", cls.__module__),
            "class_name": cls.__name__,
            "config": obj.get_config(),
            "registered_name": registered,
        }
    if callable(obj) and hasattr(obj, "__name__"):
        return get_registered_name(obj)
    raise ValueError(f"Cannot serialize {obj!r}: it has no `get_config()` method.")


def class_and_config(config: Mapping[str, Any], kind: str = "object"):
    if "class_name" not in config or "config" not in config:
        raise ValueError(f"Improper config format for {kind}: {config}. "
                         "Expected a dict with keys 'class_name' and 'config'.")
    name = config.get("registered_name") or config["class_name"]
    return name, config["class_name"], config["config"]


def deserialize_keras_object(identifier, module_objects: Optional[Mapping[str, Any]] = None,
                             custom_objects: Optional[Mapping[str, Any]] = None,
                             printable_module_name: str = "object"):
    """Rebuilds an object from a name or a ``{"class_name", "config"}`` dict."""
    if identifier is None:
        return None
    if isinstance(identifier, Mapping):
        name, class_name, cfg = class_and_config(identifier, printable_module_name)
        cls = _lookup(name, custom_objects, module_objects)
        if cls is None and name != class_name:
            cls = _lookup(class_name, custom_objects, module_objects)
        if cls is None:
            raise _unknown(printable_module_name, class_name)
        if not inspect.isclass(cls):  # a function stored with a config (Keras 3 style)
            return cls
        cfg = dict(cfg or {})
        if hasattr(cls, "from_config"):
            params = inspect.signature(cls.from_config).parameters
            if "custom_objects" in params:
                merged = dict(custom_objects or {})
                return cls.from_config(cfg, custom_objects=merged)
            with CustomObjectScope(custom_objects or {}):
                return cls.from_config(cfg)
        return cls(**cfg)
    if isinstance(identifier, str):
        obj = _lookup(identifier, custom_objects, module_objects)
        if obj is None:
            raise _unknown(printable_module_name, identifier)
        if inspect.isclass(obj):
            return obj()
        return obj
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {printable_module_name} identifier: {identifier!r}")


def get_callable(identifier: Any, module_objects: Mapping[str, Any], kind: str) -> Optional[Callable]:
    """The shared ``get`` of activations, initializers, ...: None, names, dicts or callables."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, Mapping)):
        return deserialize_keras_object(identifier, module_objects=module_objects,
                                        printable_module_name=kind)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
