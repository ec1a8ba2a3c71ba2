"""Preprocessing layers (``keras.layers.preprocessing``): Rescaling, Normalization."""
from .image_preprocessing import Rescaling  # noqa: F401
from .normalization import Normalization  # noqa: F401

__all__ = ["Rescaling", "Normalization"]
