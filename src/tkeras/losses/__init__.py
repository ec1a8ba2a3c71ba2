"""Loss functions and loss classes (``keras.losses``), with tf-keras 2.x semantics.

Functions such as ``mean_squared_error(y_true, y_pred)`` return one value per sample (the
mean over the last axis for element-wise losses, so a ``(batch, steps, units)`` input gives
``(batch, steps)``). Classes such as ``MeanSquaredError(reduction=...)`` reduce those values
with optional sample weights. Everything is plain torch on the inputs' device: no host
reads, so a loss runs inside a compiled or CUDA training step.

Integer or bool ``y_true`` is cast to ``y_pred``'s float dtype (Keras 2 behaviour), except
for the sparse losses, which take integer class indices.

Example:
    >>> from tkeras import losses
    >>> losses.get("mse") is losses.mean_squared_error
    True
    >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> y_pred = np.array([[0.1, 0.9], [0.6, 0.4]])
    >>> loss = losses.CategoricalCrossentropy(label_smoothing=0.1)
    >>> value = loss(y_true, y_pred, sample_weight=np.array([1.0, 0.5]))
    >>> value.shape      # a 0-d tensor
    torch.Size([])
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

# deserialize_keras_object / serialize_keras_object: public names of Keras 2.3.1's module
from ..saving.object_registration import deserialize_keras_object, serialize_keras_object  # noqa: F401
from .base import (  # noqa: F401 - the public names of tkeras.losses
    _OBJECTS,
    Loss,
    LossFunctionWrapper,
    Reduction,
    ReductionV2,
    TensorLike,
    _apply_valid_mask,
    _to_tensor,
    _true_pred,
    apply_mask,
    check_sparse_labels,
    squeeze_or_expand_dimensions,
)
from .functions import (  # noqa: F401 - the public names of tkeras.losses
    _ALIASES,
    _FUNCTIONS,
    BCE,
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    bce,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine,
    cosine_proximity,
    cosine_similarity,
    hinge,
    huber,
    huber_loss,
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
)
from .hinge_losses import CategoricalHinge, Hinge, SquaredHinge  # noqa: F401 - the public names of tkeras.losses
from .probabilistic_losses import (  # noqa: F401 - the public names of tkeras.losses
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from .regression_losses import (  # noqa: F401 - the public names of tkeras.losses
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
)

# =================================================================== lookup

# The Loss classes registered themselves as defined; the functions and Keras's aliases:
_OBJECTS.register(Loss)
for _fn in _FUNCTIONS:
    _OBJECTS.register(_fn)
_OBJECTS.update(_ALIASES)


def is_categorical_crossentropy(loss: Any) -> bool:
    """Whether ``loss`` is categorical crossentropy: the class, a wrapper of the function,
    the function (or anything named so) or its name, as Keras 2.3.1 tells."""
    return (isinstance(loss, CategoricalCrossentropy)
            or (isinstance(loss, LossFunctionWrapper) and loss.fn is categorical_crossentropy)
            or getattr(loss, "__name__", None) == "categorical_crossentropy"
            or (isinstance(loss, str) and loss == "categorical_crossentropy"))


def serialize(loss: Any, use_legacy_format: bool = False) -> Any:
    """A loss as its name (functions) or ``{"module", "class_name", "config",
    "registered_name"}`` (Loss objects).

    Args:
        loss: a loss function or ``Loss`` instance.
        use_legacy_format: accepted for compatibility; the output is the same.
    """
    del use_legacy_format
    return _OBJECTS.serialize(loss)


def deserialize(name: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_format: bool = False) -> Any:
    """The loss function or ``Loss`` described by a name or a config dict.

    Args:
        name: a name (``"mse"``, ``"CategoricalCrossentropy"``) or a config dict.
        custom_objects: optional ``{name: function_or_class}`` of user losses.
        use_legacy_format: accepted for compatibility.

    Raises:
        ValueError: ``Unknown loss function: 'name'...`` for unknown names.
    """
    del use_legacy_format
    return _OBJECTS.deserialize(name, custom_objects)


def get(identifier: Any) -> Any:
    """Resolves a loss identifier.

    Args:
        identifier: None, a name (functions and their aliases, class names), a config dict,
            a ``Loss`` instance or a callable ``f(y_true, y_pred)`` (returned as is).

    Raises:
        ValueError: for unknown names or identifiers of another kind.
    """
    return _OBJECTS.get_object(identifier)


__all__ = sorted(set(_OBJECTS) | {"Reduction", "ReductionV2", "get", "serialize", "deserialize",
                                   "is_categorical_crossentropy",
                                   "check_sparse_labels", "squeeze_or_expand_dimensions",
                                   "apply_mask"})
