"""``Model``: a Layer that groups layers, with summary, configs and files; its training API
(compile, fit, evaluate, predict) comes from ``Trainer`` (``trainer.py``)."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import numpy as np
from torch import nn

from ..saving import hdf5_format, saving_api
from ..utils.layer_utils import print_summary
from .base_layer import Layer
from .base_layer_utils import dedup
from .shape_inference import infer_outputs_by_running, shape_leaves_to_kt
from .trainer import Trainer

KERAS_VERSION = "2.21.0"  # the Keras 2 file-format version tkeras writes


def _wants_functional(args, kwargs) -> bool:
    return bool(args) or any(k in kwargs for k in ("inputs", "outputs", "input", "output"))


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features.

    Two ways to make one:

    1. Functional: ``Model(inputs=x, outputs=y)`` from symbolic tensors (``Model(input=x,
       output=y)``, Keras 2's spelling, works too).
    2. Subclassing: define layers in ``__init__`` and the forward pass in ``call``.

    Example:
        >>> class SimpleMLP(Model):
        ...     def __init__(self, num_classes=10):
        ...         super(SimpleMLP, self).__init__(name="mlp")
        ...         self.dense1 = Dense(32, activation="relu")
        ...         self.dense2 = Dense(num_classes, activation="softmax")
        ...     def call(self, inputs):
        ...         return self.dense2(self.dense1(inputs))
    """

    _keras_module = "keras"

    def __new__(cls, *args, **kwargs):
        if cls is Model and _wants_functional(args, kwargs):
            from .functional import Functional
            return Functional.__new__(Functional, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        from .functional import Functional
        if _wants_functional(args, kwargs) and not isinstance(self, Functional):
            # `class MyModel(Model): ... super().__init__(inputs, outputs)`: the instance
            # becomes a functional model of a class derived from both.
            self.__class__ = _functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        dtype = kwargs.pop("dtype", None)
        if args:
            raise TypeError(f"Unexpected positional arguments to Model: {args!r}")
        super().__init__(name=name, trainable=trainable, dtype=dtype, **kwargs)
        self.__dict__.setdefault("_is_graph_network", False)

    # -------------------------------------------------------------- layers

    @property
    def layers(self) -> List[Layer]:
        return self._direct_sublayers()

    def get_layer(self, name: Optional[str] = None, index: Optional[int] = None) -> Layer:
        """A layer by name or by index in ``model.layers``."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[layer.name for layer in layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    # -------------------------------------------------------------- weights

    @property
    def weights(self) -> List[nn.Parameter]:
        """Every weight, layer by layer in ``model.layers`` order (Keras's model order)."""
        out = [w for layer in self._direct_sublayers() for w in layer.weights]
        own = [w for w in self._own_weights if w._keras_trainable] + \
              [w for w in self._own_weights if not w._keras_trainable]
        return dedup(out + own)

    # -------------------------------------------------------------- building subclassed models

    def build(self, input_shape) -> None:
        """Builds a subclassed model by running ``call`` once on shape-only (meta) tensors."""
        if self._is_graph_network:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("Input shape must be defined when calling `build()` on a subclassed "
                             "model.")
        self.built = True
        self._build_input_shape = input_shape
        if type(self).call is not Layer.call:
            infer_outputs_by_running(self, shape_leaves_to_kt(input_shape), (), {})

    # -------------------------------------------------------------- summary / config

    def summary(self, line_length: Optional[int] = None, positions=None, print_fn=None,
                expand_nested: bool = False, show_trainable: bool = False,
                layer_range=None) -> None:
        """Prints Keras's table of layers, output shapes and parameter counts."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by "
                             "calling `build()` or by calling the model on a batch of data.")
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    def get_config(self) -> Dict[str, Any]:
        if type(self).get_config is Model.get_config and not self._is_graph_network:
            raise NotImplementedError(
                f"Model {self.name} ({type(self).__name__}) is a subclassed model: its architecture "
                "is Python code, so it cannot be saved as a config. Save its weights with "
                "`save_weights()`, or implement `get_config()` and `from_config()`.")
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        """A model from its config. A functional config (``layers``, ``input_layers``,
        ``output_layers``) rebuilds the graph, as tf-keras's ``Model.from_config`` does;
        any other config goes to the class's constructor.

        Args:
            config: the ``get_config()`` dict.
            custom_objects: classes and functions the config names, by name.
        """
        if all(key in config for key in ("name", "layers", "input_layers", "output_layers")):
            from .functional import Functional
            # Functional's classmethod, called for cls (mypy does not model a classmethod's __func__)
            return Functional.from_config.__func__(cls, config, custom_objects)  # type: ignore[attr-defined]
        return super().from_config(config)

    def _keras_class_name(self) -> str:
        return type(self).__name__

    def _model_json_dict(self) -> Dict[str, Any]:
        return {"class_name": self._keras_class_name(), "config": self.get_config(),
                "keras_version": KERAS_VERSION, "backend": "torch"}

    def to_json(self, **kwargs) -> str:
        """The model's architecture as Keras's JSON (load it with ``models.model_from_json``)."""
        return json.dumps(self._model_json_dict(), default=_json_default, **kwargs)

    def to_yaml(self, **kwargs) -> str:
        """The model's architecture as YAML (load it with ``models.model_from_yaml``)."""
        import yaml
        return yaml.safe_dump(json.loads(self.to_json()), **kwargs)

    # -------------------------------------------------------------- model / weights files

    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True,
             save_format=None, signatures=None, options=None, save_traces: bool = True) -> None:
        """Saves the whole model (Keras 2 HDF5, or the .keras zip for a ``.keras`` path);
        see ``tkeras.saving.save_model``."""
        saving_api.save_model(self, filepath, overwrite=overwrite,
                              include_optimizer=include_optimizer, save_format=save_format)

    def save_weights(self, filepath, overwrite: bool = True, save_format=None, options=None) -> None:
        """Saves the weights to an HDF5 file in Keras 2's layout (real Keras loads it)."""
        from ..distribute.engine import saving
        with saving(self) as write:  # with several processes: rank 0 writes, all wait
            if write:
                hdf5_format.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name: bool = False, skip_mismatch: bool = False,
                     options=None) -> None:
        """Loads weights from a Keras HDF5 weights or model file (by layer order, or by name)."""
        hdf5_format.load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)


_FUNCTIONAL_SUBCLASSES: Dict[type, type] = {}


def _functional_subclass(cls: type) -> type:
    if cls not in _FUNCTIONAL_SUBCLASSES:
        from .functional import Functional
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional),
                                           {"__module__": cls.__module__})
    return _FUNCTIONAL_SUBCLASSES[cls]


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    raise TypeError(f"Not JSON serializable: {obj!r}")
