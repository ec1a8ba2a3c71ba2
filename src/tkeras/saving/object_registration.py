"""Custom objects: the global registry, scopes, and Keras-style (de)serialization of objects.

Every public module that names objects by string (activations, initializers, regularizers,
constraints, losses, metrics, optimizers, layers) resolves names through
``deserialize_keras_object`` so that ``custom_objects``, ``CustomObjectScope`` and
``register_keras_serializable`` work the same everywhere.

Untrusted files: every name a config holds becomes an object through one function,
``resolve_object``, which looks only at ``custom_objects``, the ``custom_object_scope``
scopes, registered objects and the table of tkeras's own objects its caller passes. A
``module`` that a file names is never imported, and searched (when already imported) only
outside safe mode. Safe mode is one thread-local flag: ``SafeModeScope``, set by the loading
entry points (``load_model``, ``model_from_json`` / ``_yaml`` / ``_config``,
``deserialize_keras_object``, ``layers.deserialize``, ``Lambda.from_config``) and read by
the resolver and by ``generic_utils.deserialize_function`` (Lambda bytecode).
"""
from __future__ import annotations

import contextlib
import inspect
import sys
import threading
from typing import Any, Callable, Dict, Mapping, Optional, Type

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
    """Sets safe mode for the loading code run inside the ``with`` block.

    In safe mode (the default) nothing a file holds can choose code: Lambda bytecode is
    refused and names resolve only through ``custom_objects``, registered objects and
    tkeras's own objects. ``SafeModeScope(False)`` allows Lambda bytecode and lets a
    Lambda's function name be looked up in the (already imported) module the file names,
    as Keras does: only for files you trust.

    Args:
        safe_mode: True, False, or None to keep the enclosing setting.

    Example:
        >>> trusted_json = Sequential([layers.Lambda(lambda t: t * 2, input_shape=(3,))]).to_json()
        >>> with SafeModeScope(False):
        ...     model = tkeras.models.model_from_json(trusted_json)
    """

    def __init__(self, safe_mode: Optional[bool] = True):
        self.safe_mode = None if safe_mode is None else bool(safe_mode)

    def __enter__(self):
        self._previous = in_safe_mode()
        if self.safe_mode is not None:
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
        >>> def my_reg(w):
        ...     return 0.01 * K.sum(K.abs(w))
        >>> config = Dense(2, kernel_regularizer=my_reg).get_config()
        >>> with CustomObjectScope({"my_reg": my_reg}):
        ...     layer = Dense.from_config(config)
        >>> layer.kernel_regularizer is my_reg
        True
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


_KERAS_PACKAGES = ("tkeras", "keras", "tf_keras", "keras_core")
_KERAS_MODULE_PREFIXES = ("tensorflow.python.keras", "tensorflow.keras")


def is_keras_module(module: Optional[str]) -> bool:
    """Whether a module name stored in a file is one of Keras's (tkeras, keras, tf.keras):
    only then may a name stored with it mean one of tkeras's own objects. A plain string
    test: nothing is imported."""
    if not isinstance(module, str):
        return False
    return module.split(".", 1)[0] in _KERAS_PACKAGES or module.startswith(_KERAS_MODULE_PREFIXES)


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


_HOW_TO_PROVIDE = (
    "Please ensure you are using a `tkeras.utils.custom_object_scope` and that this object is "
    "included in the scope, or pass it in the `custom_objects` argument. See "
    "https://www.tensorflow.org/guide/keras/save_and_serialize#registering_the_custom_object "
    "for details.")


def resolve_object(name: str, *, kind: str = "object",
                   custom_objects: Optional[Mapping[str, Any]] = None,
                   public_objects: Optional[Mapping[str, Any]] = None,
                   module: Optional[str] = None) -> Any:
    """The object that a name stored in a config means: the one resolver of tkeras.

    Looks, in order, in ``custom_objects``, the ``custom_object_scope`` scopes, the
    registered objects (``register_keras_serializable`` / ``get_custom_objects()``), then
    ``public_objects``: the caller's table of tkeras's own objects for this kind of name.
    ``module`` is the module name the file stores beside the name (a Lambda's function):
    tkeras's table is used for it only when it is a Keras module (or None), so a name from
    another module never silently becomes a tkeras object of the same name. That module is
    never imported; outside safe mode (``safe_mode=False``) only, the name is then looked up
    in it when it is already imported, as Keras does for Lambda layers.

    Args:
        name: the stored name (``"relu"``, ``"Custom>MyLayer"``).
        kind: what the name is, for errors (``"activation function"``, ...).
        custom_objects: the caller's ``custom_objects``.
        public_objects: tkeras's own objects for this kind, by name.
        module: the module stored with the name, if any.

    Returns:
        The object (a class is returned as is, not instantiated).

    Raises:
        ValueError: ``Unknown <kind>: '<name>'`` with how to provide the object.
    """
    if not isinstance(name, str):
        raise ValueError(f"Could not interpret {kind} identifier: {name!r} (expected a name).")
    table = public_objects if module is None or is_keras_module(module) else None
    obj = _lookup(name, custom_objects, table)
    if obj is not None:
        return obj
    if module is None or is_keras_module(module):
        raise ValueError(f"Unknown {kind}: '{name}'. {_HOW_TO_PROVIDE}")
    if in_safe_mode():
        raise ValueError(
            f"Unknown {kind}: '{name}' from module '{module}'. In safe mode tkeras resolves the "
            "names in a file only through `custom_objects`, registered objects "
            "(`register_keras_serializable`, `custom_object_scope`) and tkeras's own objects; it "
            "never imports or searches a module that a file names, since that would let the "
            "file choose the code that runs. Pass the object in `custom_objects`, or, if you "
            "trust the source of this file, load it with `safe_mode=False`.")
    loaded = sys.modules.get(module)
    obj = getattr(loaded, name, None) if loaded is not None else None
    if obj is None:
        raise ValueError(
            f"Unknown {kind}: '{name}' from module '{module}', which "
            f"{'has no such name' if loaded is not None else 'is not imported'}. tkeras never "
            f"imports a module that a file names: import it first, or pass the object in "
            "`custom_objects`.")
    return obj


def get_registered_object(name: str, custom_objects=None, module_objects=None):
    return _lookup(name, custom_objects, module_objects)


def _unknown(kind: str, name: str) -> ValueError:
    return ValueError(f"Unknown {kind}: '{name}'. {_HOW_TO_PROVIDE}")


def safe_mode_scope(safe_mode: Optional[bool]):
    """``SafeModeScope(safe_mode)`` for an entry point's ``safe_mode`` argument; None keeps
    the enclosing setting (True unless inside ``SafeModeScope(False)``)."""
    return SafeModeScope(safe_mode) if safe_mode is not None else contextlib.nullcontext()


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
    class_name, registered = config["class_name"], config.get("registered_name")
    if not isinstance(class_name, str):
        raise ValueError(f"Improper config format for {kind}: 'class_name' must be a string. "
                         f"Received: class_name={class_name!r}")
    name = registered if isinstance(registered, str) and registered else class_name
    return name, class_name, config["config"]


def deserialize_keras_object(identifier, module_objects: Optional[Mapping[str, Any]] = None,
                             custom_objects: Optional[Mapping[str, Any]] = None,
                             printable_module_name: str = "object",
                             safe_mode: Optional[bool] = None):
    """Rebuilds an object from a name or a ``{"class_name", "config"}`` dict.

    Names resolve through ``resolve_object``: ``custom_objects``, scopes, registered
    objects, then ``module_objects`` (the caller's table of tkeras objects). The ``module``
    and ``registered_name`` keys of a config never make anything else reachable.

    Args:
        identifier: None, a name, a config dict, or a callable (returned as is).
        module_objects: tkeras's own objects for this kind, by name.
        custom_objects: user objects by name.
        printable_module_name: what the object is, for errors.
        safe_mode: False allows code stored in the config (Lambda bytecode) to load;
            None (default) keeps the enclosing ``SafeModeScope``'s setting (True by default).
    """
    with safe_mode_scope(safe_mode):
        return _deserialize(identifier, module_objects, custom_objects, printable_module_name)


def _deserialize(identifier, module_objects, custom_objects, printable_module_name: str):
    if identifier is None:
        return None
    if isinstance(identifier, Mapping):
        name, class_name, cfg = class_and_config(identifier, printable_module_name)
        cls = _lookup(name, custom_objects, module_objects) if name != class_name else None
        if cls is None:  # the registered name first, then the class name
            cls = resolve_object(class_name, kind=printable_module_name,
                                 custom_objects=custom_objects, public_objects=module_objects)
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
        obj = resolve_object(identifier, kind=printable_module_name,
                             custom_objects=custom_objects, public_objects=module_objects)
        if inspect.isclass(obj):
            return obj()
        return obj
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {printable_module_name} identifier: {identifier!r}")


REGISTRIES: Dict[str, "Registry"] = {}
"""Each kind's registry by its kind (``"layer"``, ``"initializer"``, ...), for the guard tests:
the first one made of a kind (the newer optimizer family's registry, also of kind
``"optimizer"``, is ``tkeras.optimizers.experimental._OBJECTS``)."""


class Registry(Dict[str, Any]):
    """tkeras's own objects of one serializable kind, by the names a config may use: the
    ``public_objects`` table that ``resolve_object`` searches after the user's objects.

    Classes fill it themselves: the kind's base class derives from ``Registered`` and names
    this registry, and every public class defined in tkeras below it is added under its class
    name as its module is imported. Keras's other names (``"glorot_uniform"``, ``"mse"``,
    ``"acc"``) are added explicitly with ``register``. ``serialize``, ``deserialize`` and
    ``get_object`` are the one implementation of the public modules' ``serialize`` /
    ``deserialize`` / ``get``.

    Args:
        kind: what the objects are, for errors (``"initializer"``, ``"loss function"``).
        instantiate_classes: whether ``get_object`` turns a class into an instance (as the
            ``get`` of initializers, regularizers, constraints and activations does), or
            passes it through as any callable (losses, metrics).
        error: the exception ``get_object`` raises for an identifier of another kind.
        identifier_name: what that error calls the identifier (default: ``kind``).
    """

    def __init__(self, kind: str, *, instantiate_classes: bool = True,
                 error: Type[Exception] = ValueError, identifier_name: Optional[str] = None):
        super().__init__()
        self.kind = kind
        self.instantiate_classes = instantiate_classes
        self.error = error
        self.identifier_name = identifier_name or kind
        REGISTRIES.setdefault(kind, self)

    def register(self, obj: Any, *names: str) -> Any:
        """Adds ``obj`` under ``names`` (its ``__name__`` when none are given); returns it."""
        for name in names or (obj.__name__,):
            self[name] = obj
        return obj

    def add_class(self, cls: type) -> None:
        """Adds a class under its name if it is one of tkeras's public classes (a subclass a
        user defines is reachable only through ``custom_objects`` or registration). The first
        class of a name keeps it, so an alias registered earlier is never overwritten."""
        if cls.__module__.startswith("tkeras.") and not cls.__name__.startswith("_"):
            self.setdefault(cls.__name__, cls)

    def serialize(self, obj: Any) -> Any:
        """The public ``serialize``: ``serialize_keras_object``."""
        return serialize_keras_object(obj)

    def deserialize(self, identifier: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                    safe_mode: Optional[bool] = None) -> Any:
        """The public ``deserialize``: a name or config dict resolved through
        ``resolve_object`` with this registry as tkeras's own objects."""
        return deserialize_keras_object(identifier, module_objects=self,
                                        custom_objects=custom_objects,
                                        printable_module_name=self.kind, safe_mode=safe_mode)

    def get_object(self, identifier: Any,
                   deserialize: Optional[Callable[[Any], Any]] = None) -> Any:
        """The public ``get``: None stays None; a name or config dict goes through
        ``deserialize`` (the module's, where it adds a Keras quirk; else this registry's);
        a class is instantiated when ``instantiate_classes``; any other callable is returned
        as is.

        Raises:
            ``self.error``: ``Could not interpret <identifier_name> identifier: ...`` for
            anything else.
        """
        if identifier is None:
            return None
        if isinstance(identifier, (str, Mapping)):
            return (deserialize or self.deserialize)(identifier)
        if inspect.isclass(identifier) and self.instantiate_classes:
            return identifier()
        if callable(identifier):
            return identifier
        raise self.error(f"Could not interpret {self.identifier_name} identifier: {identifier!r}")


class Registered:
    """Base of a serializable kind's classes: each public subclass tkeras defines adds
    itself to the kind's ``Registry``. The kind's base class names the registry,
    ``class Initializer(Registered, registry=_OBJECTS)``; it is not added itself (add it with
    ``register`` where Keras's names include it)."""

    _registry: Registry

    def __init_subclass__(cls, registry: Optional[Registry] = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if registry is not None:
            cls._registry = registry
        else:
            cls._registry.add_class(cls)
