"""Preprocessing layers (``keras.layers.preprocessing``): Rescaling, Normalization."""
from .image_preprocessing import Rescaling
from .normalization import Normalization

__all__ = ["Rescaling", "Normalization"]
