"""Keras 2.3.1's scikit-learn wrappers: ``KerasClassifier`` and ``KerasRegressor``.

A wrapper holds a ``build_fn`` (a function, a callable object, or the wrapper subclass's
own ``__call__``) that builds and compiles a model, plus ``sk_params``: the arguments of
``build_fn`` and of ``fit`` / ``predict`` / ``evaluate`` (``epochs``, ``batch_size``, ...).
Each ``fit`` builds a new model. The estimators follow scikit-learn's conventions
(``get_params`` / ``set_params``, ``classes_``, ``score``), so ``cross_val_score``,
``GridSearchCV`` and ``sklearn.base.clone`` work. scikit-learn itself is optional
(``pip install tkeras[sklearn]``); the wrappers need it only to be constructed.
"""
from __future__ import annotations

import copy
import inspect
import types
import warnings
from typing import Any, Callable, Dict, Optional

import numpy as np

from .. import losses
from .._warn import TkerasDeprecationWarning
from ..engine.sequential import Sequential
from ..utils.np_utils import to_categorical

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor"]


def _require_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise ImportError("The scikit-learn wrappers need scikit-learn: `pip install scikit-learn` "
                          "(or `pip install tkeras[sklearn]`).") from None


def has_arg(fn: Callable, name: str) -> bool:
    """Whether ``fn`` takes an argument called ``name`` (not through ``**kwargs``)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    param = parameters.get(name)
    return param is not None and param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                inspect.Parameter.KEYWORD_ONLY)


class BaseWrapper:
    """Base class of the scikit-learn wrappers (use ``KerasClassifier`` / ``KerasRegressor``).

    Args:
        build_fn: a function or callable object returning a compiled model, or None when a
            subclass defines ``__call__`` (then that builds the model).
        **sk_params: arguments of ``build_fn`` and of ``fit``, ``predict``,
            ``predict_proba`` and ``score`` (e.g. ``epochs=10, batch_size=32``). Arguments
            given to those methods directly take precedence.

    Raises:
        ValueError: ``<name> is not a legal parameter`` for an argument that neither
            ``build_fn`` nor the model's fit / predict / evaluate accept.
        ImportError: scikit-learn is not installed.
    """

    _estimator_type: str = ""

    def __init__(self, build_fn: Optional[Callable] = None, **sk_params):
        _require_sklearn()
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_callable(self) -> Callable:
        if self.build_fn is None:
            return self.__call__
        if not isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            return self.build_fn.__call__
        return self.build_fn

    def check_params(self, params: Dict[str, Any]) -> None:
        """Raises ValueError for a name no model method nor ``build_fn`` accepts (typos)."""
        legal_fns = [Sequential.fit, Sequential.predict, Sequential.predict_classes,
                     Sequential.evaluate, self._build_callable()]
        for name in params:
            if name != "nb_epoch" and not any(has_arg(fn, name) for fn in legal_fns):
                raise ValueError(f"{name} is not a legal parameter")

    def get_params(self, **params) -> Dict[str, Any]:
        """``sk_params`` (a deep copy) and ``build_fn``; ``params`` (e.g. ``deep``) are ignored."""
        res = copy.deepcopy(self.sk_params)
        res.update({"build_fn": self.build_fn})
        return res

    def set_params(self, **params) -> "BaseWrapper":
        """Updates ``sk_params`` (checked as in the constructor); returns the estimator."""
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn: Callable, override: Optional[Dict[str, Any]] = None
                         ) -> Dict[str, Any]:
        """The ``sk_params`` that ``fn`` accepts, updated with ``override``."""
        res = {name: value for name, value in self.sk_params.items() if has_arg(fn, name)}
        if "nb_epoch" in self.sk_params and has_arg(fn, "epochs") and "epochs" not in res:
            warnings.warn("The `nb_epoch` argument in `fit` has been renamed `epochs`.",
                          TkerasDeprecationWarning, stacklevel=3)
            res["epochs"] = self.sk_params["nb_epoch"]
        res.update(override or {})
        return res

    def fit(self, x, y, **kwargs):
        """Builds a new model with ``build_fn`` and fits it to ``(x, y)``.

        Args:
            x: training samples, shape ``(n_samples, n_features)``.
            y: targets.
            **kwargs: arguments of the model's ``fit`` (override ``sk_params``).

        Returns:
            The ``History`` of the fit.
        """
        build = self._build_callable()
        self.model = build(**self.filter_sk_params(build))
        if losses.is_categorical_crossentropy(self.model.loss) and len(y.shape) != 2:
            y = to_categorical(y)
        fit_args = copy.deepcopy(self.filter_sk_params(Sequential.fit))
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)

    def __sklearn_tags__(self):
        """scikit-learn's tags (scikit-learn >= 1.6 asks estimators for them)."""
        from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
        mixin = ClassifierMixin if self._estimator_type == "classifier" else RegressorMixin

        class _Probe(mixin, BaseEstimator):
            pass
        tags = _Probe().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


class KerasClassifier(BaseWrapper):
    """The scikit-learn classifier API for a tkeras model.

    Labels may be any sortable values (``classes_`` holds them, in order) or one-hot rows;
    with a categorical-crossentropy model, integer labels are one-hot encoded.

    Example:
        >>> def build(hidden=8):
        ...     model = tkeras.Sequential([tkeras.layers.Dense(hidden, activation="relu",
        ...                                                     input_shape=(4,)),
        ...                                tkeras.layers.Dense(3, activation="softmax")])
        ...     model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        ...     return model
        >>> clf = KerasClassifier(build_fn=build, epochs=5, verbose=0)  # doctest: +SKIP
        >>> cross_val_score(clf, x, y, cv=3)                             # doctest: +SKIP
    """

    _estimator_type = "classifier"

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Builds a new model and fits it; labels are mapped to ``0 .. n_classes - 1``.

        Args:
            x: training samples.
            y: labels, shape ``(n,)`` or ``(n, 1)``, or one-hot ``(n, n_classes)``.
            sample_weight: optional per-sample weights.
            **kwargs: arguments of the model's ``fit``.

        Raises:
            ValueError: ``Invalid shape for y`` for other shapes.
        """
        y = np.array(y)
        if len(y.shape) == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif (len(y.shape) == 2 and y.shape[1] == 1) or len(y.shape) == 1:
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError("Invalid shape for y: " + str(y.shape))
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return super().fit(x, y, **kwargs)

    def predict(self, x, **kwargs) -> np.ndarray:
        """The predicted classes (values of ``classes_``); ``(n, 1)`` for a sigmoid output."""
        kwargs = self.filter_sk_params(Sequential.predict_classes, kwargs)
        proba = np.asarray(self.model.predict(x, **kwargs))
        if proba.shape[-1] > 1:
            classes = proba.argmax(axis=-1)
        else:
            classes = (proba > 0.5).astype("int32")
        return self.classes_[classes]

    def predict_proba(self, x, **kwargs) -> np.ndarray:
        """Class probabilities, ``(n, n_classes)``; ``(n, 2)`` for a single sigmoid output."""
        kwargs = self.filter_sk_params(Sequential.predict_proba, kwargs)
        probs = np.asarray(self.model.predict(x, **kwargs))
        if probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def score(self, x, y, **kwargs) -> float:
        """The model's accuracy on ``(x, y)`` (the model must compute ``accuracy``).

        Raises:
            ValueError: the model was not compiled with ``metrics=["accuracy"]``.
        """
        y = np.searchsorted(self.classes_, y)
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        loss_name = self.model.loss
        loss_name = getattr(loss_name, "__name__", loss_name)
        if loss_name == "categorical_crossentropy" and len(y.shape) != 2:
            y = to_categorical(y)
        outputs = self.model.evaluate(x, y, **kwargs)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        for name, output in zip(self.model.metrics_names, outputs):
            if name in ("accuracy", "acc"):
                return output
        raise ValueError("The model is not configured to compute accuracy. You should pass "
                         '`metrics=["accuracy"]` to the `model.compile()` method.')


class KerasRegressor(BaseWrapper):
    """The scikit-learn regressor API for a tkeras model; ``score`` is the negated loss.

    Example:
        >>> reg = KerasRegressor(build_fn=build, epochs=10, verbose=0)  # doctest: +SKIP
        >>> GridSearchCV(reg, {"epochs": [5, 10]}, cv=3).fit(x, y)    # doctest: +SKIP
    """

    _estimator_type = "regressor"

    def predict(self, x, **kwargs) -> np.ndarray:
        """The predictions (a last axis of size 1 is squeezed)."""
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        preds = np.array(self.model.predict(x, **kwargs))
        if preds.shape[-1] == 1:
            return np.squeeze(preds, axis=-1)
        return preds

    def score(self, x, y, **kwargs) -> float:
        """Minus the model's loss on ``(x, y)`` (greater is better, as scikit-learn wants)."""
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        loss = self.model.evaluate(x, y, **kwargs)
        if isinstance(loss, list):
            return -loss[0]
        return -loss
