"""Metrics (``keras.metrics``): metric functions and stateful metric objects on torch.

Metric functions (``binary_accuracy``, ``categorical_accuracy``, ``mse``, ...) return one
value per sample. Metric objects (``Mean``, ``AUC``, ``Precision``, ...) are
``torch.nn.Module``s that accumulate state over batches: ``update_state(y_true, y_pred,
sample_weight=None)``, ``result()`` (a 0-d tensor), ``reset_state()``. Their state lives in
registered buffers, so ``metric.to(device)`` moves it and ``state_dict()`` sees it; every
update is pure torch on the device (no host reads), so metrics run inside the training step.

Example:
    >>> m = tkeras.metrics.AUC()
    >>> m.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> float(m.result())
    0.75
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from . import backend as K
from . import losses as _losses
from .backend import config
from .backend import dispatch as _symbolic
from .backend.variables import to_numpy

# re-exported loss functions under their metric names; check_sparse_labels is re-exported
from .losses import (  # noqa: F401
    BCE,
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    _apply_valid_mask,
    _to_tensor,
    bce,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    check_sparse_labels,
    hinge,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
    squeeze_or_expand_dimensions,
)
from .saving.object_registration import deserialize_keras_object, get_registered_name, serialize_keras_object

TensorLike = Union[torch.Tensor, np.ndarray, float, int, list]
_NEG_INF = -1e10


# =================================================================== metric functions

def _floatx() -> torch.dtype:
    return config.torch_dtype(None)


def accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """Element-wise equality of ``y_true`` and ``y_pred`` as floats (1.0 where equal).

    Keras's generic ``metrics.accuracy``; ``compile(metrics=["accuracy"])`` picks binary,
    categorical or sparse accuracy instead, from the loss and the output shape.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"`accuracy`: Shapes {tuple(y_true.shape)} and {tuple(y_pred.shape)} "
                         "are incompatible (y_true and y_pred must have the same shape).")
    if y_true.dtype != y_pred.dtype:
        y_pred = y_pred.to(y_true.dtype)
    return (y_true == y_pred).to(_floatx())


def binary_matches(y_true: TensorLike, y_pred: TensorLike, threshold: float = 0.5
                   ) -> torch.Tensor:
    """Element-wise ``y_true == (y_pred > threshold)`` as floats (what ``BinaryAccuracy``
    averages, so its state counts elements, as in tf-keras).

    Args:
        y_true: 0/1 targets.
        y_pred: probabilities, same shape.
        threshold: the decision threshold.
    """
    y_true, y_pred = _losses._true_pred(y_true, y_pred)
    y_pred = (y_pred > threshold).to(y_pred.dtype)
    return (y_true == y_pred).to(_floatx())


def binary_accuracy(y_true: TensorLike, y_pred: TensorLike, threshold: float = 0.5
                    ) -> torch.Tensor:
    """Mean over the last axis of ``y_true == (y_pred > threshold)``.

    Args:
        y_true: 0/1 targets.
        y_pred: probabilities, same shape.
        threshold: the decision threshold.
    """
    return torch.mean(binary_matches(y_true, y_pred, threshold), dim=-1)


def sparse_categorical_matches(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """1.0 where ``argmax(y_pred, -1) == y_true``, in the shape of ``y_true`` (labels may
    carry a trailing axis of 1). ``SparseCategoricalAccuracy`` averages these.

    Args:
        y_true: integer labels.
        y_pred: scores with one more axis (classes last).
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    original_shape = y_true.shape
    reshape_matches = y_true.dim() == y_pred.dim()
    if reshape_matches:
        if y_true.shape[-1] != 1:
            raise ValueError(
                "Sparse labels must have one axis fewer than the predictions, or a last axis "
                f"of size 1. Received: y_true.shape={tuple(y_true.shape)}, "
                f"y_pred.shape={tuple(y_pred.shape)}")
        y_true = y_true.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    if predicted.dtype != y_true.dtype:
        predicted = predicted.to(y_true.dtype)
    matches = (y_true == predicted).to(_floatx())
    return matches.reshape(original_shape) if reshape_matches else matches


def _squeeze_last_unit_axis(matches: torch.Tensor) -> torch.Tensor:
    if matches.dim() > 1 and matches.shape[-1] == 1:
        return matches.squeeze(-1)
    return matches


def categorical_accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """1.0 where the arg-max of ``y_true`` equals the arg-max of ``y_pred`` (first index on
    ties).

    Args:
        y_true: one-hot targets.
        y_pred: scores, same shape.
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    return sparse_categorical_matches(torch.argmax(y_true, dim=-1), y_pred)


def sparse_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """1.0 where the integer label equals ``argmax(y_pred, -1)``.

    Args:
        y_true: labels of shape ``(batch,)`` or ``(batch, 1)`` (or one axis fewer than
            ``y_pred`` in general).
        y_pred: scores ``(batch, classes)``.
    """
    return _squeeze_last_unit_axis(sparse_categorical_matches(y_true, y_pred))


def sparse_top_k_categorical_matches(y_true: TensorLike, y_pred: TensorLike, k: int = 5
                                     ) -> torch.Tensor:
    """1.0 where the label is among the ``k`` largest scores (ties at the boundary count),
    in the shape of ``y_true``.

    Args:
        y_true: integer labels.
        y_pred: scores with one more axis (classes last).
        k: how many top predictions count.
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    original_shape = y_true.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    reshape_matches = y_true.dim() > 1
    if reshape_matches:
        y_true = y_true.reshape(-1)
    matches = K.in_top_k(y_pred, y_true.long(), k).to(_floatx())
    return matches.reshape(original_shape) if reshape_matches else matches


def _top_k_categorical_matches(y_true: TensorLike, y_pred: TensorLike, k: int = 5
                               ) -> torch.Tensor:
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    return sparse_top_k_categorical_matches(torch.argmax(y_true, dim=-1), y_pred, k)


def top_k_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike, k: int = 5
                               ) -> torch.Tensor:
    """1.0 where the arg-max of the one-hot ``y_true`` is among the top ``k`` predictions.

    Args:
        y_true: one-hot targets.
        y_pred: scores, same shape.
        k: how many top predictions count.
    """
    return _top_k_categorical_matches(y_true, y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike, k: int = 5
                                      ) -> torch.Tensor:
    """1.0 where the integer label is among the top ``k`` predictions.

    Args:
        y_true: integer labels ``(batch,)`` or ``(batch, 1)``.
        y_pred: scores ``(batch, classes)``.
        k: how many top predictions count.
    """
    return _squeeze_last_unit_axis(sparse_top_k_categorical_matches(y_true, y_pred, k))


def cosine_similarity(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> torch.Tensor:
    """The cosine similarity along ``axis`` (1 is best; the loss of the same name is its
    negative).

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
        axis: the axis along which the similarity is computed.
    """
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


# Keras aliases (tf-keras: ``cosine_proximity`` is the positive similarity)
acc = ACC = accuracy
cosine_proximity = cosine = cosine_similarity


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
    from . import initializers  # the initializers import the whole registry; only here
    value = initializers.get(initializer)(shape, dtype=dtype)
    return _to_tensor(value).to(device=device, dtype=dtype)


def _divide_no_nan(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x / y``, and 0 where ``y == 0`` (on the device, no host read)."""
    return torch.where(y == 0, torch.zeros_like(x), x / torch.where(y == 0, torch.ones_like(y), y))


_LAYER_KWARGS = ("trainable", "autocast", "dynamic", "input_dim", "input_shape",
                 "batch_input_shape", "batch_size", "weights", "activity_regularizer")


# =================================================================== Metric base

class Metric(torch.nn.Module):
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
    from .engine.base_layer import to_snake_case  # engine imports metrics; resolve lazily
    return config.unique_object_name(to_snake_case(cls.__name__))


# =================================================================== reductions

class _ReduceKind:
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
    WEIGHTED_MEAN = "weighted_mean"


def _weigh_values(values: torch.Tensor, sample_weight: torch.Tensor, reduction: str
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Keras's weighting of metric values: the weights broadcast to the values when they
    can; otherwise the values are summed / averaged down to the weights' rank."""
    values, _, sample_weight = squeeze_or_expand_dimensions(values, None, sample_weight)
    try:
        broadcastable = (sample_weight.dim() <= values.dim() and torch.broadcast_shapes(
            sample_weight.shape, values.shape) == values.shape)
    except RuntimeError:
        broadcastable = False
    if broadcastable:
        sample_weight = sample_weight.expand(values.shape)
    elif values.dim() > sample_weight.dim():
        dims = tuple(range(sample_weight.dim(), values.dim()))
        values = values.sum(dim=dims) if reduction == _ReduceKind.SUM else values.mean(dim=dims)
    return values * sample_weight, sample_weight


class Reduce(Metric):
    """Reduces values to a sum or a (weighted) mean over all updates.

    Args:
        reduction: ``"sum"``, ``"sum_over_batch_size"`` or ``"weighted_mean"``.
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, reduction: str, name: Optional[str] = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.reduction = reduction
        self.total = self.add_weight("total", initializer="zeros")
        if reduction in (_ReduceKind.SUM_OVER_BATCH_SIZE, _ReduceKind.WEIGHTED_MEAN):
            self.count = self.add_weight("count", initializer="zeros")

    def update_state(self, values: TensorLike, sample_weight: Optional[TensorLike] = None
                     ) -> None:
        """Adds ``values`` (optionally weighted) to the total (and their count).

        Args:
            values: a tensor of any shape.
            sample_weight: optional weights broadcastable to ``values`` (or of a prefix of
                its shape).
        """
        values = self._input(values, self.torch_dtype)
        if sample_weight is not None:
            sample_weight = self._input(sample_weight, self.torch_dtype)
            values, sample_weight = _weigh_values(values, sample_weight, self.reduction)
        self.total.add_(torch.sum(values))
        if self.reduction == _ReduceKind.SUM:
            return
        if sample_weight is None or self.reduction == _ReduceKind.SUM_OVER_BATCH_SIZE:
            self.count.add_(values.numel())
        else:
            self.count.add_(torch.sum(sample_weight))

    def result(self) -> torch.Tensor:
        if self.reduction == _ReduceKind.SUM:
            return self.total.detach().clone()
        return _divide_no_nan(self.total, self.count)


class Sum(Reduce):
    """The (weighted) sum of the given values.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__(reduction=_ReduceKind.SUM, name=name, dtype=dtype)


class Mean(Reduce):
    """The (weighted) mean of the given values: ``total / count``.

    Args:
        name: the metric's name.
        dtype: the state dtype.

    Example:
        >>> m = Mean()
        >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__(reduction=_ReduceKind.WEIGHTED_MEAN, name=name, dtype=dtype)


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred, **kwargs)`` over all updates.

    Args:
        fn: a metric function returning per-sample values.
        name: the metric's name.
        dtype: the state dtype (inputs are cast to it).
        **kwargs: keyword arguments passed to ``fn``.

    Example:
        >>> def mean_pred(y_true, y_pred):
        ...     return K.mean(y_pred)
        >>> m = MeanMetricWrapper(mean_pred, name="mean_pred")
    """

    def __init__(self, fn: Callable, name: Optional[str] = None, dtype: Any = None,
                 **kwargs: Any):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Averages ``fn(y_true, y_pred)`` into the state.

        Args:
            y_true: targets.
            y_pred: predictions.
            sample_weight: optional weights (``(batch,)`` or the values' shape).
        """
        y_true = self._input(y_true, self.torch_dtype)
        y_pred = self._input(y_pred, self.torch_dtype)
        y_pred, y_true = squeeze_or_expand_dimensions(y_pred, y_true)
        matches = _to_tensor(self._fn(y_true, y_pred, **self._fn_kwargs), like=y_pred)
        if sample_weight is not None:
            sample_weight = self._input(sample_weight, self.torch_dtype)
        sample_weight = _apply_valid_mask(matches, sample_weight,
                                          getattr(matches, "_keras_mask", None), self.reduction)
        super().update_state(matches, sample_weight=sample_weight)

    def get_config(self) -> Dict[str, Any]:
        cfg = super().get_config()
        cfg.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:
            cfg["fn"] = get_registered_name(self._fn)
        return cfg

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "MeanMetricWrapper":
        cfg = dict(config_)
        fn = cfg.pop("fn", None)
        if cls is MeanMetricWrapper:
            return cls(get(fn), **cfg)
        return cls(**cfg)


# =================================================================== wrappers of functions

class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels (element-wise).

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(accuracy, name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 labels.

    Args:
        name: the metric's name.
        dtype: the state dtype.
        threshold: the decision threshold.
    """

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        super().__init__(binary_matches, name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions matches the one-hot labels.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(categorical_accuracy, name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions matches the integer labels.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(sparse_categorical_matches, name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the top ``k`` predictions.

    Args:
        k: how many top predictions count.
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        super().__init__(_top_k_categorical_matches, name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top ``k`` predictions.

    Args:
        k: how many top predictions count.
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None):
        super().__init__(sparse_top_k_categorical_matches, name, dtype=dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean_squared_error`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(mean_squared_error, name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean_absolute_error`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(mean_absolute_error, name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of ``mean_absolute_percentage_error`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of ``mean_squared_logarithmic_error`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(mean_squared_logarithmic_error, name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions (1 is best).

    Args:
        name: the metric's name.
        dtype: the state dtype.
        axis: the axis along which the similarity is computed.
    """

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """Mean of ``logcosh`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "logcosh", dtype: Any = None):
        super().__init__(log_cosh, name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy.

    Args:
        name: the metric's name.
        dtype: the state dtype.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
    """

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0):
        super().__init__(binary_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy.

    Args:
        name: the metric's name.
        dtype: the state dtype.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the class axis.
    """

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0, axis: int = -1):
        super().__init__(categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy.

    Args:
        name: the metric's name.
        dtype: the state dtype.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value left out of the mean.
        axis: the class axis.
    """

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, ignore_class: Optional[int] = None, axis: int = -1):
        super().__init__(sparse_categorical_crossentropy, name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "kullback_leibler_divergence", dtype: Any = None):
        super().__init__(kl_divergence, name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "poisson", dtype: Any = None):
        super().__init__(poisson, name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "hinge", dtype: Any = None):
        super().__init__(hinge, name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "squared_hinge", dtype: Any = None):
        super().__init__(squared_hinge, name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None):
        super().__init__(categorical_hinge, name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over all elements.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Accumulates the squared errors.

        Args:
            y_true: targets.
            y_pred: predictions.
            sample_weight: optional weights.
        """
        y_true = self._input(y_true, self.torch_dtype)
        y_pred = self._input(y_pred, self.torch_dtype)
        y_pred, y_true = squeeze_or_expand_dimensions(y_pred, y_true)
        super().update_state(torch.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> torch.Tensor:
        return torch.sqrt(_divide_no_nan(self.total, self.count))


# =================================================================== confusion matrices

_TP, _FP, _TN, _FN = "true_positives", "false_positives", "true_negatives", "false_negatives"


def _to_list(x: Any) -> List[Any]:
    return list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]


def parse_init_thresholds(thresholds: Any, default_threshold: float = 0.5) -> List[float]:
    """The thresholds as a list (``default_threshold`` when None), each checked in [0, 1].

    Args:
        thresholds: None, a float, or a list of floats.
        default_threshold: used when ``thresholds`` is None.
    """
    if thresholds is not None:
        invalid = [t for t in _to_list(thresholds) if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds: Sequence[float]) -> bool:
    """True for thresholds ``i / (n - 1)``, i = 0..n-1 (n >= 3), which allow bucketing.

    Args:
        thresholds: a list of floats.
    """
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def _filter_top_k(x: torch.Tensor, k: int) -> torch.Tensor:
    """Keeps the ``k`` largest entries of the last axis (lower index first on ties) and
    sets the others to -1e10."""
    top = torch.sort(x, dim=-1, descending=True, stable=True).indices[..., :k]
    mask = torch.zeros_like(x).scatter_(-1, top, 1.0)
    return x * mask + _NEG_INF * (1.0 - mask)


def _flatten_for_counting(y_true: torch.Tensor, y_pred: torch.Tensor,
                          weights: Optional[torch.Tensor], multi_label: bool):
    """Predictions, bool labels and weights as ``(examples, labels)`` matrices (one
    column unless ``multi_label``)."""
    labels = y_true != 0
    if multi_label:
        return y_pred, labels, weights
    return (y_pred.reshape(-1, 1), labels.reshape(-1, 1),
            None if weights is None else weights.reshape(-1, 1))


def _thresholded_counts(wanted: Sequence[str], preds: torch.Tensor, labels: torch.Tensor,
                        weights: Optional[torch.Tensor], thresholds: torch.Tensor
                        ) -> Dict[str, torch.Tensor]:
    """Counts per threshold by comparing every prediction with every threshold."""
    pred_pos = preds.unsqueeze(0) > thresholds.reshape(-1, 1, 1)
    label_pos = labels.unsqueeze(0)
    conditions = {_TP: lambda: label_pos & pred_pos, _FN: lambda: label_pos & ~pred_pos,
                  _FP: lambda: ~label_pos & pred_pos, _TN: lambda: ~label_pos & ~pred_pos}
    counts = {}
    for key in wanted:
        hits = conditions[key]().to(preds.dtype)
        if weights is not None:
            hits = hits * weights
        counts[key] = hits.sum(dim=1)
    return counts


def _bucketed_counts(wanted: Sequence[str], preds: torch.Tensor, labels: torch.Tensor,
                     weights: Optional[torch.Tensor], num_thresholds: int,
                     with_epsilon: bool) -> Dict[str, torch.Tensor]:
    """Counts for evenly spaced thresholds in O(examples): each prediction falls in bucket
    ``ceil(p * (n - 1)) - 1``; a reversed cumulative sum gives the counts above each
    threshold (tf-keras's optimised path, same numbers)."""
    num_labels = preds.shape[1]
    preds = torch.nan_to_num(preds.clamp(0.0, 1.0), nan=0.0)
    bucket = torch.ceil(preds * (num_thresholds - 1)) - 1
    if with_epsilon:
        bucket = torch.relu(bucket)
    bucket = bucket.long()
    valid = (bucket >= 0).to(preds.dtype)
    w = valid if weights is None else valid * weights
    positives = labels.to(preds.dtype)
    true_w, false_w = positives * w, (1.0 - positives) * w
    index = (bucket.clamp(min=0) * num_labels
             + torch.arange(num_labels, device=preds.device)).reshape(-1)

    def above_threshold(data: torch.Tensor) -> torch.Tensor:
        per_bucket = torch.zeros(num_thresholds * num_labels, dtype=preds.dtype,
                                 device=preds.device).index_add_(0, index, data.reshape(-1))
        per_bucket = per_bucket.reshape(num_thresholds, num_labels)
        return per_bucket.flip(0).cumsum(0).flip(0)

    counts = {}
    tp = above_threshold(true_w) if _TP in wanted or _FN in wanted else None
    fp = above_threshold(false_w) if _FP in wanted or _TN in wanted else None
    if _TP in wanted:
        counts[_TP] = tp
    if _FP in wanted:
        counts[_FP] = fp
    if _TN in wanted:
        counts[_TN] = false_w.sum(0) - fp
    if _FN in wanted:
        counts[_FN] = true_w.sum(0) - tp
    return counts


def update_confusion_matrix_variables(variables: Mapping[str, torch.Tensor], y_true: torch.Tensor,
                                      y_pred: torch.Tensor, thresholds: torch.Tensor,
                                      top_k: Optional[int] = None,
                                      class_id: Optional[int] = None,
                                      sample_weight: Optional[torch.Tensor] = None,
                                      multi_label: bool = False,
                                      label_weights: Optional[torch.Tensor] = None,
                                      thresholds_distributed_evenly: bool = False,
                                      thresholds_with_epsilon: bool = False) -> None:
    """Adds this batch's true/false positives/negatives per threshold to ``variables``.

    A prediction counts as positive when ``y_pred > threshold``; labels count as positive
    when non-zero.

    Args:
        variables: ``{"true_positives": var, ...}``: the counts to update (shape
            ``(thresholds,)``, or ``(thresholds, labels)`` with ``multi_label``).
        y_true: labels, same shape as ``y_pred``.
        y_pred: predictions in [0, 1].
        thresholds: 1-D tensor of thresholds.
        top_k: only the top ``k`` predictions of each row may count as positive.
        class_id: only this class (last axis) is considered.
        sample_weight: optional weights broadcastable to ``y_pred``.
        multi_label: keep the label axis separate (``y_pred`` of shape (N, L)).
        label_weights: optional per-label weights (not with ``multi_label``).
        thresholds_distributed_evenly: thresholds are ``i / (n - 1)``: use bucketing.
        thresholds_with_epsilon: the end thresholds are -eps and 1 + eps (AUC).
    """
    dtype = next(iter(variables.values())).dtype
    y_true, y_pred = y_true.to(dtype), y_pred.to(dtype)
    if sample_weight is None:
        y_pred, y_true = squeeze_or_expand_dimensions(y_pred, y_true)
    else:
        y_pred, y_true, sample_weight = squeeze_or_expand_dimensions(
            y_pred, y_true, sample_weight.to(dtype))
    if tuple(y_pred.shape) != tuple(y_true.shape):
        raise ValueError(f"Shapes {tuple(y_true.shape)} (y_true) and {tuple(y_pred.shape)} "
                         "(y_pred) are incompatible.")
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    weights = None
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        lw = torch.broadcast_to(label_weights.to(dtype).unsqueeze(0), y_pred.shape)
        weights = lw if weights is None else weights * lw
    preds, labels, weights = _flatten_for_counting(y_true, y_pred, weights, multi_label)
    wanted = tuple(variables)
    if thresholds_distributed_evenly:
        counts = _bucketed_counts(wanted, preds, labels, weights, thresholds.numel(),
                                  thresholds_with_epsilon)
    else:
        counts = _thresholded_counts(wanted, preds, labels, weights, thresholds.to(dtype))
    for key, variable in variables.items():
        variable.add_(counts[key].reshape(variable.shape))


class _ThresholdMetric(Metric):
    """Shared set-up of the metrics that count per threshold."""

    def _set_thresholds(self, thresholds: Any, top_k: Optional[int] = None) -> None:
        self.init_thresholds = thresholds
        default = 0.5 if top_k is None else _NEG_INF
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=default)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.register_buffer("_threshold_values", torch.tensor(
            self.thresholds, dtype=self.torch_dtype), persistent=False)

    def _count(self, variables: Mapping[str, torch.Tensor], y_true: TensorLike,
               y_pred: TensorLike, sample_weight: Optional[TensorLike],
               top_k: Optional[int] = None, class_id: Optional[int] = None) -> None:
        """Adds this batch's counts to ``variables`` (``{"true_positives": var, ...}``)."""
        y_pred = self._input(y_pred)
        y_true = self._input(y_true)
        if sample_weight is not None:
            sample_weight = self._input(sample_weight)
        update_confusion_matrix_variables(
            variables, y_true, y_pred, self._threshold_values, top_k=top_k, class_id=class_id,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def _first_or_all(self, value: torch.Tensor) -> torch.Tensor:
        return value[0] if len(self.thresholds) == 1 else value


class _ConfusionMatrixConditionCount(_ThresholdMetric):
    """Counts one confusion-matrix cell (weighted) per threshold.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5).
        name: the metric's name.
        dtype: the state dtype.
    """

    _condition = _TP

    def __init__(self, thresholds: Any = None, name: Optional[str] = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self._set_thresholds(thresholds)
        self.accumulator = self.add_weight("accumulator", shape=(len(self.thresholds),))

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Counts this batch.

        Args:
            y_true: labels (non-zero = positive).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights.
        """
        self._count({self._condition: self.accumulator}, y_true, y_pred, sample_weight)

    def result(self) -> torch.Tensor:
        return self._first_or_all(self.accumulator).detach().clone()

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives per threshold."""

    _condition = _TP


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives per threshold."""

    _condition = _FP


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives per threshold."""

    _condition = _TN


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives per threshold."""

    _condition = _FN


class Precision(_ThresholdMetric):
    """``true_positives / (true_positives + false_positives)``.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5; with ``top_k``, any
            prediction in the top k counts as positive).
        top_k: only the top ``k`` predictions of each row may be positive.
        class_id: only this class is considered.
        name: the metric's name.
        dtype: the state dtype.
    """

    _second = _FP

    def __init__(self, thresholds: Any = None, top_k: Optional[int] = None,
                 class_id: Optional[int] = None, name: Optional[str] = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.top_k = top_k
        self.class_id = class_id
        self._set_thresholds(thresholds, top_k)
        n = len(self.thresholds)
        self.true_positives = self.add_weight(_TP, shape=(n,))
        setattr(self, self._second, self.add_weight(self._second, shape=(n,)))

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Counts this batch.

        Args:
            y_true: labels (non-zero = positive), same shape as ``y_pred``.
            y_pred: predictions in [0, 1].
            sample_weight: optional weights.
        """
        self._count({_TP: self.true_positives, self._second: getattr(self, self._second)},
                    y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def result(self) -> torch.Tensor:
        tp = self.true_positives
        return self._first_or_all(_divide_no_nan(tp, tp + getattr(self, self._second)))

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """``true_positives / (true_positives + false_negatives)``.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5).
        top_k: only the top ``k`` predictions of each row may be positive.
        class_id: only this class is considered.
        name: the metric's name.
        dtype: the state dtype.
    """

    _second = _FN


# =================================================================== AUC

_CURVES = {"roc": "ROC", "ROC": "ROC", "pr": "PR", "PR": "PR"}
_SUMMATIONS = {"interpolation": "interpolation", "Interpolation": "interpolation",
               "majoring": "majoring", "Majoring": "majoring",
               "minoring": "minoring", "Minoring": "minoring"}


def _parse_curve(curve: Any) -> str:
    value = getattr(curve, "value", curve)
    if value not in _CURVES:
        raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
    return _CURVES[value]


def _parse_summation(method: Any) -> str:
    value = getattr(method, "value", method)
    if value not in _SUMMATIONS:
        raise ValueError(f'Invalid AUC summation method value: "{method}". Expected values '
                         'are ["interpolation", "majoring", "minoring"]')
    return _SUMMATIONS[value]


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at ``num_thresholds``
    thresholds (a Riemann sum; PR with ``"interpolation"`` uses Davis & Goadrich's
    interpolation, exactly as tf-keras).

    Args:
        num_thresholds: number of thresholds (> 1) when ``thresholds`` is None.
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: the metric's name.
        dtype: the state dtype.
        thresholds: optional list of thresholds in [0, 1] (-eps and 1 + eps are added).
        multi_label: compute one AUC per label (last axis) and average them.
        num_labels: number of labels with ``multi_label`` (else found on first update).
        label_weights: optional non-negative weights per label.
        from_logits: apply a sigmoid to the predictions first.
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: Optional[str] = None,
                 dtype: Any = None, thresholds: Optional[Sequence[float]] = None,
                 multi_label: bool = False, num_labels: Optional[int] = None,
                 label_weights: Optional[Sequence[float]] = None, from_logits: bool = False):
        super().__init__(name=name, dtype=dtype)
        self.curve = _parse_curve(curve)
        self.summation_method = _parse_summation(summation_method)
        self._init_from_thresholds = thresholds is not None
        inner = self._inner_thresholds(num_thresholds, thresholds)
        eps = config.epsilon()
        self._thresholds = np.array([0.0 - eps] + inner + [1.0 + eps])
        self.register_buffer("_threshold_values", torch.tensor(
            self._thresholds, dtype=self.torch_dtype), persistent=False)
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = self._check_label_weights(label_weights)
        self._from_logits = bool(from_logits)
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build((None, num_labels))
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    def _inner_thresholds(self, num_thresholds: int, thresholds: Optional[Sequence[float]]
                          ) -> List[float]:
        if thresholds is not None:
            inner = sorted(float(t) for t in parse_init_thresholds(list(thresholds)))
            self.num_thresholds = len(inner) + 2
            self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(
                np.array([0.0] + inner + [1.0]))
            return inner
        if num_thresholds <= 1:
            raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                             f"Received: num_thresholds={num_thresholds}")
        self.num_thresholds = int(num_thresholds)
        self._thresholds_distributed_evenly = True
        return [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]

    def _check_label_weights(self, label_weights: Optional[Sequence[float]]
                             ) -> Optional[torch.Tensor]:
        if label_weights is None:
            return None
        values = np.asarray(label_weights, dtype=np.float64)
        if (values < 0).any():
            raise ValueError("All values of `label_weights` must be non-negative. "
                             f"Received: label_weights={list(values)}")
        self.register_buffer("_label_weight_values", torch.tensor(
            values, dtype=self.torch_dtype), persistent=False)
        return self._label_weight_values

    @property
    def thresholds(self) -> List[float]:
        """The thresholds, including the end points -eps and 1 + eps."""
        return list(self._thresholds)

    def _build(self, shape: Optional[Tuple[Optional[int], ...]]) -> None:
        if self.multi_label:
            if shape is None or len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found "
                                 f"rank {None if shape is None else len(shape)}. Full shape "
                                 f"received for `y_pred`: {shape}")
            self._num_labels = int(shape[1])
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for name in (_TP, _TN, _FP, _FN):
            setattr(self, name, self.add_weight(name, shape=variable_shape))
        self._built = True

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Adds this batch's confusion counts.

        Args:
            y_true: labels (non-zero = positive), same shape as ``y_pred``.
            y_pred: predictions in [0, 1] (or logits with ``from_logits``).
            sample_weight: optional weights.
        """
        y_pred = self._input(y_pred)
        y_true = self._input(y_true)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self.multi_label and (y_pred.dim() != 2 or y_pred.shape[1] != self._num_labels):
            raise ValueError(f"AUC with multi_label=True expects predictions of shape "
                             f"(batch, {self._num_labels}). Received: {tuple(y_pred.shape)}")
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        if sample_weight is not None:
            sample_weight = self._input(sample_weight)
        update_confusion_matrix_variables(
            {_TP: self.true_positives, _TN: self.true_negatives, _FP: self.false_positives,
             _FN: self.false_negatives}, y_true, y_pred, self._threshold_values,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            thresholds_with_epsilon=True)

    def _average_over_labels(self, by_label: torch.Tensor) -> torch.Tensor:
        if self.label_weights is None:
            return torch.mean(by_label)
        weights = self.label_weights
        return _divide_no_nan(torch.sum(by_label * weights), torch.sum(weights))

    def interpolate_pr_auc(self) -> torch.Tensor:
        """PR AUC with Davis & Goadrich's interpolation between thresholds."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where((p[:-1] > 0) & (p[1:] > 0),
                                   _divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)),
                                   torch.ones_like(p[1:]))
        increment = _divide_no_nan(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                                   torch.clamp(tp[1:] + fn[1:], min=0))
        if self.multi_label:
            return self._average_over_labels(torch.sum(increment, dim=0))
        return torch.sum(increment)

    def result(self) -> torch.Tensor:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        riemann_terms = (x[:-1] - x[1:]) * heights
        if self.multi_label:
            return self._average_over_labels(torch.sum(riemann_terms, dim=0))
        return torch.sum(riemann_terms)

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> Dict[str, Any]:
        label_weights = self.label_weights
        if isinstance(label_weights, torch.Tensor):
            label_weights = to_numpy(label_weights).tolist()
        cfg = {**super().get_config(), "num_thresholds": self.num_thresholds,
               "curve": self.curve, "summation_method": self.summation_method,
               "multi_label": self.multi_label, "num_labels": self.num_labels,
               "label_weights": label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            cfg["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return cfg


# =================================================================== IoU

class IoU(Metric):
    """Intersection-over-union per class, averaged over ``target_class_ids``
    (``TP / (TP + FP + FN)``, classes with an empty denominator left out).

    Args:
        num_classes: number of classes.
        target_class_ids: the classes averaged over.
        name: the metric's name.
        dtype: the state dtype.
        ignore_class: a label value left out of the confusion matrix.
        sparse_y_true: labels are class indices (else one-hot / scores: arg-max is taken).
        sparse_y_pred: predictions are class indices (else scores: arg-max is taken).
        axis: the class axis for the arg-max.
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: Optional[str] = None, dtype: Any = None,
                 ignore_class: Optional[int] = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = int(num_classes)
        if max(target_class_ids, default=-1) >= self.num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which "
                             f"is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_weight("total_confusion_matrix",
                                        shape=(self.num_classes, self.num_classes))

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Adds this batch to the confusion matrix (rows: labels, columns: predictions).

        Args:
            y_true: class indices (or one-hot with ``sparse_y_true=False``).
            y_pred: class indices (or scores with ``sparse_y_pred=False``).
            sample_weight: optional weights per element (or per sample, broadcast).
        """
        y_true = self._input(y_true)
        y_pred = self._input(y_pred)
        if not self.sparse_y_true:
            y_true = torch.argmax(y_true, dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = torch.argmax(y_pred, dim=self.axis)
        weights = self._element_weights(sample_weight, y_true.shape)
        labels, predictions = y_true.reshape(-1).long(), y_pred.reshape(-1).long()
        if labels.shape != predictions.shape:
            raise ValueError(f"`y_true` and `y_pred` must have the same number of elements. "
                             f"Received: {tuple(y_true.shape)} and {tuple(y_pred.shape)}")
        self.total_cm.add_(self._confusion_matrix(labels, predictions, weights))

    def _element_weights(self, sample_weight: Optional[TensorLike], shape: torch.Size
                         ) -> Optional[torch.Tensor]:
        if sample_weight is None:
            return None
        weights = self._input(sample_weight, self.torch_dtype)
        if weights.dim() < len(shape):
            weights = weights.reshape(tuple(weights.shape) + (1,) * (len(shape) - weights.dim()))
        return torch.broadcast_to(weights, shape).reshape(-1)

    def _confusion_matrix(self, labels: torch.Tensor, predictions: torch.Tensor,
                          weights: Optional[torch.Tensor]) -> torch.Tensor:
        n = self.num_classes
        valid = torch.ones_like(labels, dtype=torch.bool)
        if self.ignore_class is not None:
            valid = labels != self.ignore_class
        in_range = (labels >= 0) & (labels < n) & (predictions >= 0) & (predictions < n)
        if labels.device.type == "cpu" and bool((valid & ~in_range).any()):
            raise ValueError(f"`labels` and `predictions` must be in [0, {n}) (num_classes). "
                             f"Received labels {labels.tolist()[:32]} and predictions "
                             f"{predictions.tolist()[:32]}")
        keep = (valid & in_range).to(self.torch_dtype)
        weights = keep if weights is None else weights * keep
        index = torch.where(keep > 0, labels * n + predictions, torch.zeros_like(labels))
        cm = torch.zeros(n * n, dtype=self.torch_dtype, device=labels.device)
        return cm.index_add_(0, index, weights).reshape(n, n)

    def result(self) -> torch.Tensor:
        cm = self.total_cm
        sum_over_row = cm.sum(dim=0)
        sum_over_col = cm.sum(dim=1)
        true_positives = torch.diagonal(cm)
        denominator = sum_over_row + sum_over_col - true_positives
        ids = torch.tensor(self.target_class_ids, dtype=torch.long, device=cm.device)
        true_positives, denominator = true_positives[ids], denominator[ids]
        num_valid = torch.sum((denominator > 1e-9).to(cm.dtype))
        iou = _divide_no_nan(true_positives, denominator)
        return _divide_no_nan(torch.sum(iou), num_valid)

    def get_config(self) -> Dict[str, Any]:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """Mean intersection-over-union over all ``num_classes`` classes (semantic
    segmentation's usual score).

    Args:
        num_classes: number of classes.
        name: the metric's name.
        dtype: the state dtype.
        ignore_class: a label value left out of the confusion matrix.
        sparse_y_true: labels are class indices.
        sparse_y_pred: predictions are class indices.
        axis: the class axis for the arg-max.

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> float(m.result())   # (1/3 + 1/3) / 2
        0.3333333432674408
    """

    def __init__(self, num_classes: int, name: Optional[str] = None, dtype: Any = None,
                 ignore_class: Optional[int] = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(num_classes, list(range(int(num_classes))), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> Dict[str, Any]:
        cfg = super().get_config()
        del cfg["target_class_ids"]
        return cfg


# =================================================================== lookup

_FUNCTIONS = (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, cosine_similarity,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy,
    kl_divergence, poisson, hinge, squared_hinge, categorical_hinge, log_cosh,
)
_ALIASES = {
    "acc": acc, "ACC": ACC, "bce": bce, "BCE": BCE, "mse": mse, "MSE": MSE, "mae": mae,
    "MAE": MAE, "mape": mape, "MAPE": MAPE, "msle": msle, "MSLE": MSLE, "kld": kld, "KLD": KLD,
    "kullback_leibler_divergence": kullback_leibler_divergence, "logcosh": logcosh,
    "cosine_proximity": cosine_proximity, "cosine": cosine,
}
_CLASSES = (
    Metric, Reduce, Sum, Mean, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    RootMeanSquaredError, CosineSimilarity, LogCoshError, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge,
    SquaredHinge, CategoricalHinge, AUC, Precision, Recall, TruePositives, FalsePositives,
    TrueNegatives, FalseNegatives, IoU, MeanIoU,
)
_OBJECTS: Dict[str, Any] = {
    **{fn.__name__: fn for fn in _FUNCTIONS}, **_ALIASES,
    **{cls.__name__: cls for cls in _CLASSES},
}

# Called on symbolic tensors, these functions record one graph node (tkeras.backend.dispatch).
_symbolic.wrap_functions(globals(), _FUNCTIONS, "metrics", _OBJECTS, _ALIASES)


def serialize(metric: Any, use_legacy_format: bool = False) -> Any:
    """A metric as its name (functions) or ``{"module", "class_name", "config",
    "registered_name"}`` (Metric objects).

    Args:
        metric: a metric function or ``Metric`` instance.
        use_legacy_format: accepted for compatibility; the output is the same.
    """
    del use_legacy_format
    return serialize_keras_object(metric)


def deserialize(config_: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_format: bool = False) -> Any:
    """The metric function or ``Metric`` described by a name or a config dict.

    Args:
        config_: a name (``"acc"``, ``"AUC"``) or a config dict.
        custom_objects: optional ``{name: function_or_class}`` of user metrics.
        use_legacy_format: accepted for compatibility.

    Raises:
        ValueError: ``Unknown metric function: 'name'...`` for unknown names.
    """
    del use_legacy_format
    return deserialize_keras_object(config_, module_objects=_OBJECTS,
                                    custom_objects=custom_objects,
                                    printable_module_name="metric function")


def get(identifier: Any) -> Any:
    """Resolves a metric identifier.

    ``"acc"`` / ``"accuracy"`` give the generic ``accuracy`` function; ``compile`` turns it
    into binary, categorical or sparse accuracy.

    Args:
        identifier: a name (functions, aliases, class names), a config dict, a ``Metric``
            instance or a callable ``f(y_true, y_pred)`` (returned as is).

    Raises:
        ValueError: for unknown names or identifiers of another kind.
    """
    if isinstance(identifier, (str, Mapping)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


# Defined on top of the classes above (metrics_sensitivity imports this module).
from .metrics_sensitivity import (  # noqa: E402,F401
    BaseMeanIoU,
    SensitivityAtSpecificity,
    SensitivitySpecificityBase,
    SpecificityAtSensitivity,
    clone_metric,
    clone_metrics,
)

_OBJECTS.update(SensitivityAtSpecificity=SensitivityAtSpecificity,
                SpecificityAtSensitivity=SpecificityAtSensitivity)

__all__ = sorted(set(_OBJECTS) | {"BaseMeanIoU", "SensitivitySpecificityBase", "clone_metric",
                                   "clone_metrics", "MetricVariable", "get", "serialize", "deserialize",
                                   "check_sparse_labels", "update_confusion_matrix_variables",
                                   "parse_init_thresholds", "is_evenly_distributed_thresholds"})
