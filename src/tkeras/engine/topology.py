"""Keras 2's ``keras.engine.topology`` path (seed 001: ``from keras.engine.topology import Layer``)."""
from .base_layer import Layer  # noqa: F401
from .functional import Functional as Network  # noqa: F401
from .input_layer import Input, InputLayer  # noqa: F401
from .input_spec import InputSpec  # noqa: F401
from .training import Model  # noqa: F401
