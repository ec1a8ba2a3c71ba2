"""Wrappers of tkeras models for other libraries: ``scikit_learn`` (KerasClassifier, KerasRegressor)."""
from . import scikit_learn

__all__ = ["scikit_learn"]
