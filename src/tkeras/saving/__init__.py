"""Saving and loading: the object registry, configs, HDF5 and .keras files."""
from .object_registration import (  # noqa: F401
    CustomObjectScope,
    SafeModeScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    in_safe_mode,
    register_keras_serializable,
    serialize_keras_object,
)
from .saving_api import load_model, save_model  # noqa: F401
