"""Probabilistic loss classes: Poisson, KL divergence and the crossentropies."""
from __future__ import annotations

from typing import Any, Optional

from .base import LossFunctionWrapper, Reduction
from .functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)


class Poisson(LossFunctionWrapper):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "poisson"):
        super().__init__(poisson, reduction=reduction, name=name)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "kl_divergence"):
        super().__init__(kl_divergence, reduction=reduction, name=name)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy, averaged over ``axis``.

    Args:
        from_logits: whether ``y_pred`` holds logits (else probabilities).
        label_smoothing: a float in [0, 1]: targets become ``y * (1 - ls) + 0.5 * ls``.
        axis: the axis averaged over.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.

    Example:
        >>> loss = BinaryCrossentropy(from_logits=True)
        >>> loss(np.array([[0., 1.]]), np.array([[-18.6, 0.51]]))
        tensor(0.2352)
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str = Reduction.AUTO,
                 name: str = "binary_crossentropy"):
        super().__init__(binary_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy ``(1 - p_t) ** gamma * bce``, averaged over ``axis``.

    Args:
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: class-balancing weight.
        gamma: focusing parameter.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the axis averaged over.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25,
                 gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str = Reduction.AUTO,
                 name: str = "binary_focal_crossentropy"):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy on one-hot (or soft) targets.

    Args:
        from_logits: whether ``y_pred`` holds logits (else probabilities).
        label_smoothing: a float in [0, 1]: targets become ``y * (1 - ls) + ls / classes``.
        axis: the class axis.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str = Reduction.AUTO,
                 name: str = "categorical_crossentropy"):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal cross-entropy.

    Args:
        alpha: weighting factor (a number or one per class).
        gamma: focusing parameter.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the class axis.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, alpha: Any = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str = Reduction.AUTO, name: str = "categorical_focal_crossentropy"):
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.alpha = alpha
        self.gamma = gamma


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with integer labels (``(batch,)`` or ``(batch, 1)``).

    Args:
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value whose entries are left out of the loss (for
            example the padding class of a segmentation map).
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, from_logits: bool = False, ignore_class: Optional[int] = None,
                 reduction: str = Reduction.AUTO, name: str = "sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits = from_logits
