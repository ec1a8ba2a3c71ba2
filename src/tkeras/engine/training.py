"""Keras 2's module path of ``Model`` (``keras.engine.training``).

The class lives in ``model.py`` and its training API (compile, fit, evaluate, predict) in
``trainer.py``; this module keeps the Keras import path working.
"""
from .model import KERAS_VERSION, Model, _json_default  # noqa: F401
