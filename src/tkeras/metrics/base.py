"""The ``Metric`` base class and ``MetricVariable``, its state tensors."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .. import backend as K
from ..backend import config
from ..backend.variables import to_numpy
from ..losses import _to_tensor
from ..saving.object_registration import Registered, Registry

TensorLike = Union[torch.Tensor, np.ndarray, float, int, list]


# =================================================================== metric state

class MetricVariable(torch.nn.Parameter):
    """A metric's state tensor, with Keras's variable methods.

    Arithmetic on it gives plain tensors (as with ``torch.nn.Parameter``); it never
    requires grad, and a ``Metric`` keeps it as a buffer (it is not a model parameter).

    Args:
        data: the initial value (a tensor; storage is shared, not copied).
        name: the Keras name, without the ``:0`` suffix.
    """

    def __new__(cls, data: torch.Tensor, name: str = "Variable"):
        var = super().__new__(cls, data, requires_grad=False)
        var._keras_name = f"{name}:0"
        return var

    def __init__(self, data: torch.Tensor, name: str = "Variable"):
        del data, name  # set up in __new__

    @property
    def name(self) -> str:
        """The Keras name, e.g. ``'total:0'``."""
        return self.__dict__.get("_keras_name", "Variable:0")

    def assign(self, value: TensorLike) -> "MetricVariable":
        """Writes ``value`` in place (same shape; broadcast scalars allowed)."""
        with torch.no_grad():
            self.copy_(_to_tensor(value, like=self))
        return self

    def assign_add(self, delta: TensorLike) -> "MetricVariable":
        """Adds ``delta`` in place."""
        with torch.no_grad():
            self.add_(_to_tensor(delta, like=self))
        return self

    def assign_sub(self, delta: TensorLike) -> "MetricVariable":
        """Subtracts ``delta`` in place."""
        with torch.no_grad():
            self.sub_(_to_tensor(delta, like=self))
        return self

    def read_value(self) -> torch.Tensor:
        return self.detach()

    def __deepcopy__(self, memo: Dict[int, Any]) -> "MetricVariable":
        result = MetricVariable(self.detach().clone(), self.name[:-2])
        memo[id(self)] = result
        return result

    def __repr__(self) -> str:
        return (f"<MetricVariable '{self.name}' shape={tuple(self.shape)} "
                f"dtype={config.dtype_name(self.dtype)}, value={self.detach()!r}>")


def _initial_value(initializer: Any, shape: Tuple[int, ...], dtype: torch.dtype,
                   device: torch.device) -> torch.Tensor:
    if initializer is None or initializer == "zeros":
        return torch.zeros(shape, dtype=dtype, device=device)
    if initializer == "ones":
        return torch.ones(shape, dtype=dtype, device=device)
    from .. import initializers  # the initializers import the whole registry; only here
    value = initializers.get(initializer)(shape, dtype=dtype)
    return _to_tensor(value).to(device=device, dtype=dtype)


def _divide_no_nan(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x / y``, and 0 where ``y == 0`` (on the device, no host read)."""
    return torch.where(y == 0, torch.zeros_like(x), x / torch.where(y == 0, torch.ones_like(y), y))


_LAYER_KWARGS = ("trainable", "autocast", "dynamic", "input_dim", "input_shape",
                 "batch_input_shape", "batch_size", "weights", "activity_regularizer")


# =================================================================== Metric base

_OBJECTS = Registry("metric function", instantiate_classes=False, identifier_name="metric")
"""Every Metric class by its name (added as defined); tkeras.metrics adds the metric
functions and their aliases."""


class Metric(torch.nn.Module, Registered, registry=_OBJECTS):
    """Base class of stateful metrics.

    Subclasses create their state with ``add_weight`` in ``__init__``, and implement
    ``update_state(y_true, y_pred, sample_weight=None)`` and ``result()``. State variables
    are buffers (``metric.to(device)`` moves them; ``state_dict()`` holds them), listed in
    creation order by ``metric.variables``. ``update_state`` runs without autograd.
    Calling the metric updates it and returns the result.

    Args:
        name: the metric's name (default: the snake-case class name, made unique).
        dtype: the dtype of the state and result (default ``floatx()``).

    Example:
        >>> class BinaryTruePositives(Metric):
        ...     def __init__(self, name="binary_true_positives", **kwargs):
        ...         super().__init__(name=name, **kwargs)
        ...         self.true_positives = self.add_weight(name="tp", initializer="zeros")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         values = (y_true == 1) & (y_pred > 0.5)
        ...         self.true_positives.assign_add(values.float().sum())
        ...     def result(self):
        ...         return self.true_positives
    """

    _keras_module = "keras.metrics"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        update = cls.__dict__.get("update_state")
        if update is not None and not getattr(update, "_tkeras_no_grad", False):
            wrapped = torch.no_grad()(update)
            wrapped._tkeras_no_grad = True
            cls.update_state = wrapped

    def __init__(self, name: Optional[str] = None, dtype: Any = None, **kwargs: Any):
        unknown = [k for k in kwargs if k not in _LAYER_KWARGS]
        if unknown:
            raise TypeError(f"Keyword argument not understood: {unknown[0]!r} "
                            f"(in {type(self).__name__}).")
        super().__init__()
        self.__dict__["_state_names"] = {}    # buffer key -> Keras name, creation order
        self.__dict__["_state_aliases"] = {}  # attribute name -> buffer key
        self._name = name if name else _default_name(type(self))
        self._dtype = config.dtype_name(dtype)

    # ------------------------------------------------------------ properties

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def dtype(self) -> str:
        """The Keras dtype name of the state and result, e.g. ``'float32'``."""
        return self._dtype

    @property
    def torch_dtype(self) -> torch.dtype:
        return config.torch_dtype(self._dtype)

    @property
    def variables(self) -> List[MetricVariable]:
        """The state variables, in creation order."""
        return [self._state(key) for key in self._state_names]

    weights = variables
    non_trainable_weights = variables

    @property
    def trainable_weights(self) -> List[torch.Tensor]:
        return []

    # ------------------------------------------------------------ state

    def add_weight(self, name: str, shape: Sequence[int] = (), aggregation: Any = None,
                   synchronization: Any = None, initializer: Any = None,
                   dtype: Any = None) -> MetricVariable:
        """Creates a state variable, registered as a buffer.

        Args:
            name: the Keras name of the variable (``total`` -> ``total:0``).
            shape: its shape (default scalar).
            aggregation: accepted for Keras compatibility (ignored).
            synchronization: accepted for Keras compatibility (ignored).
            initializer: ``"zeros"`` (default), ``"ones"``, or any initializer identifier.
            dtype: its dtype (default: the metric's dtype).

        Returns:
            The new variable.
        """
        del aggregation, synchronization
        shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        target = config.torch_dtype(dtype) if dtype is not None else self.torch_dtype
        value = _initial_value(initializer, shape, target, self._state_device())
        key = self._free_buffer_key(str(name))
        variable = MetricVariable(value, str(name))
        self.register_buffer(key, variable)
        self._state_names[key] = str(name)
        return variable

    def _free_buffer_key(self, name: str) -> str:
        base = name.replace(".", "_").replace("/", "_") or "variable"
        key, n = base, 0
        while key in self._buffers or hasattr(self, key):
            n += 1
            key = f"{base}_{n}"
        return key

    def _state(self, key: str) -> MetricVariable:
        """The buffer ``key`` as a MetricVariable (re-wrapped after ``.to()`` etc.)."""
        value = self._buffers[key]
        if type(value) is not MetricVariable:
            value = MetricVariable(value.detach(), self._state_names[key])
            self._buffers[key] = value
        return value

    def _state_device(self) -> torch.device:
        for value in self._buffers.values():
            if value is not None:
                return value.device
        return torch.empty(0).device

    def _state_key_of(self, value: torch.Tensor) -> Optional[str]:
        for key in self._state_names:
            if self._buffers.get(key) is value:
                return key
        return None

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__.get("_state_names")
        if state is not None:
            key = self.__dict__["_state_aliases"].get(name, name)
            if key in state:
                return self._state(key)
        return super().__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        state = self.__dict__.get("_state_names")
        if state is not None and isinstance(value, torch.Tensor):
            key = self._state_key_of(value)
            if key is not None:  # `self.tp = self.add_weight("true_positives")`
                if key != name:
                    self.__dict__["_state_aliases"][name] = key
                return
            self.__dict__["_state_aliases"].pop(name, None)
            if name in state:  # a new tensor for a state variable
                self._buffers[name] = value.detach()
                return
            if isinstance(value, MetricVariable):  # never a parameter of this module
                object.__setattr__(self, name, value)
                return
        super().__setattr__(name, value)

    def _input(self, x: TensorLike, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
        """``x`` as a tensor on the state's device (moving the metric to ``x``'s device if
        it is elsewhere), cast to ``dtype`` when given."""
        if isinstance(x, torch.Tensor):
            if self._buffers and x.device != self._state_device():
                self.to(x.device)
        else:
            x = torch.as_tensor(np.asarray(x), device=self._state_device())
        if dtype is not None and x.dtype != dtype:
            x = x.to(dtype)
        return x

    # ------------------------------------------------------------ API

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Accumulates statistics for the metric; implemented by subclasses."""
        raise NotImplementedError("Must be implemented in subclasses.")

    def result(self) -> torch.Tensor:
        """The metric's value from its state (a tensor; no host read); by subclasses."""
        raise NotImplementedError("Must be implemented in subclasses.")

    def reset_state(self) -> None:
        """Sets every state variable to zero."""
        with torch.no_grad():
            for variable in self.variables:
                variable.zero_()

    def reset_states(self) -> None:
        """Keras 2's name of ``reset_state``."""
        self.reset_state()

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """``update_state(*args, **kwargs)`` then ``result()``."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_weights(self) -> List[np.ndarray]:
        """The state as numpy arrays (a host read), in ``variables`` order."""
        return [to_numpy(v) for v in self.variables]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Sets the state from arrays in ``variables`` order.

        Args:
            weights: one array per variable, of the variables' shapes.
        """
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(f"Metric {self.name!r} expects {len(variables)} weights, but "
                             f"received {len(weights)}.")
        for variable, value in zip(variables, weights):
            K.set_value(variable, value)

    def get_config(self) -> Dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Metric":
        return cls(**config_)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, dtype={self.dtype!r}"


def _default_name(cls: type) -> str:
    from ..engine.base_layer import to_snake_case  # engine imports metrics; resolve lazily
    return config.unique_object_name(to_snake_case(cls.__name__))
