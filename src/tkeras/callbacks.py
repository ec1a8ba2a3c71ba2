"""Callbacks: objects called at given points of ``fit``, ``evaluate`` and ``predict``.

Keras 2's callbacks (``Callback``, ``History``, ``EarlyStopping``, ``ReduceLROnPlateau``,
``CSVLogger``, ``TensorBoard`` ...). ``ModelCheckpoint`` (at the end) is written with the
saving code.

Batch-level hooks are free when no callback overrides them: the training loop asks the
``CallbackList`` once per ``fit`` whether any callback implements them. The ``logs``
given to batch hooks compute their values (a read from the device) only when a callback
reads them.
"""
from __future__ import annotations

import collections
import csv
import inspect
import json
import math
import os
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

import numpy as np
import torch

from ._warn import TkerasDeprecationWarning, TkerasWarning
from .backend.variables import to_numpy
from .utils.generic_utils import Progbar

_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


class LazyLogs(dict):
    """The ``logs`` dict of a batch hook, filled on first use.

    Reading the metric values is a host read of device tensors; the training loop
    passes a ``LazyLogs`` so that the read happens only if a callback looks at them.

    Args:
        compute: returns the dict of values (called at most once).
        base: entries known without a device read (``batch``, ``size``).
    """

    __slots__ = ("_compute",)

    def __init__(self, compute: Callable[[], Mapping[str, Any]], base: Optional[Mapping] = None):
        super().__init__(base or {})
        self._compute = compute

    def _fill(self) -> None:
        compute = self._compute
        if compute is not None:
            self._compute = None
            for key, value in compute().items():
                dict.setdefault(self, key, value)

    def __getitem__(self, key):
        self._fill()
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self._fill()
        return dict.get(self, key, default)

    def __contains__(self, key) -> bool:
        self._fill()
        return dict.__contains__(self, key)

    def __iter__(self):
        self._fill()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._fill()
        return dict.__len__(self)

    def keys(self):
        self._fill()
        return dict.keys(self)

    def values(self):
        self._fill()
        return dict.values(self)

    def items(self):
        self._fill()
        return dict.items(self)

    def copy(self) -> Dict[str, Any]:
        self._fill()
        return dict(dict.items(self))

    def pop(self, key, *default):
        self._fill()
        return dict.pop(self, key, *default)

    def setdefault(self, key, default=None):
        self._fill()
        return dict.setdefault(self, key, default)

    def __eq__(self, other) -> bool:
        self._fill()
        return dict.__eq__(self, other)

    __hash__ = None

    def __repr__(self) -> str:
        self._fill()
        return dict.__repr__(self)


# ------------------------------------------------------------------ base classes

class Callback:
    """Base class of callbacks. Override the hooks you need.

    Attributes:
        model: the model being trained (set by ``set_model``).
        params: ``{"verbose", "epochs", "steps"}`` of the current ``fit`` / ``evaluate``.

    Hooks (``logs`` is a dict; batch hooks receive the running epoch averages of the
    metrics, plus ``batch`` and ``size``): ``on_train_begin/end(logs)``,
    ``on_epoch_begin/end(epoch, logs)``, ``on_(train_|test_|predict_)batch_begin/end(batch,
    logs)``, ``on_test_begin/end(logs)``, ``on_predict_begin/end(logs)``.
    ``on_batch_begin`` / ``on_batch_end`` are the training batch hooks (Keras 2's names).

    Example:
        >>> class LossHistory(Callback):
        ...     def on_train_begin(self, logs={}):
        ...         self.losses = []
        ...     def on_batch_end(self, batch, logs={}):
        ...         self.losses.append(logs.get('loss'))
    """

    # True for callbacks that write (files, the terminal, servers): with several processes
    # (``tkeras.distribute``) they run on rank 0 only; the others run on every rank, from
    # the same reduced logs, so their decisions (stop, learning rate) agree.
    _chief_only = False

    def __init__(self):
        self.validation_data = None
        self.model = None
        self.params: Dict[str, Any] = {}

    def set_params(self, params: Dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self.model = model

    def on_batch_begin(self, batch: int, logs=None) -> None:
        """A training batch begins (same as ``on_train_batch_begin``)."""

    def on_batch_end(self, batch: int, logs=None) -> None:
        """A training batch ended (same as ``on_train_batch_end``)."""

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        """An epoch begins (training only)."""

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        """An epoch ended; ``logs`` holds its metrics and ``val_`` metrics."""

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs=None) -> None:
        """A batch of ``evaluate`` (or of the validation) begins."""

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        """A batch of ``evaluate`` (or of the validation) ended."""

    def on_predict_batch_begin(self, batch: int, logs=None) -> None:
        """A batch of ``predict`` begins."""

    def on_predict_batch_end(self, batch: int, logs=None) -> None:
        """A batch of ``predict`` ended; ``logs["outputs"]`` holds its predictions."""

    def on_train_begin(self, logs=None) -> None:
        """Training begins."""

    def on_train_end(self, logs=None) -> None:
        """Training ended; ``logs`` are the last epoch's."""

    def on_test_begin(self, logs=None) -> None:
        """``evaluate`` (or a validation run) begins."""

    def on_test_end(self, logs=None) -> None:
        """``evaluate`` (or a validation run) ended."""

    def on_predict_begin(self, logs=None) -> None:
        """``predict`` begins."""

    def on_predict_end(self, logs=None) -> None:
        """``predict`` ended."""

    def _implements_batch_hooks(self, mode: str) -> bool:
        """Whether this callback does anything in the batch hooks of ``mode``."""
        return any(_overrides(self, name) for name in _BATCH_HOOKS[mode])


def _overrides(callback: Callback, name: str) -> bool:
    """Whether ``callback`` defines hook ``name`` (in its class or on the instance)."""
    if name in vars(callback):
        return True
    return getattr(type(callback), name, None) is not getattr(Callback, name)


class CallbackList:
    """A list of callbacks called together; adds ``History`` / ``ProgbarLogger`` on request.

    Args:
        callbacks: the user's callbacks.
        add_history: append a ``History`` (``fit``).
        add_progbar: append a ``ProgbarLogger`` (``verbose`` != 0).
        model: the model, given to every callback.
        **params: ``verbose``, ``epochs``, ``steps``, given to every callback.
    """

    def __init__(self, callbacks: Optional[Iterable[Callback]] = None, add_history: bool = False,
                 add_progbar: bool = False, model=None, **params):
        self.callbacks: List[Callback] = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Every callback must be an instance of `tkeras.callbacks."
                                f"Callback`. Received: {cb!r} of type {type(cb).__name__}.")
        self._history = None
        self._progbar = None
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        if add_history:
            self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
            if self._history is None:
                self._history = History()
                self.callbacks.append(self._history)
        self._order_backup_last()
        self.model = None
        self.params: Dict[str, Any] = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._batch_hooks: Dict[str, bool] = {}

    @property
    def history(self) -> Optional["History"]:
        return self._history

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._order_backup_last()
        self._batch_hooks = {}

    def _order_backup_last(self) -> None:
        """``BackupAndRestore`` runs after the other callbacks: its backups hold what they
        did in the same hook, and its restore follows their resets in ``on_train_begin``."""
        self.callbacks.sort(key=lambda cb: bool(getattr(cb, "_runs_last", False)))
        for cb in self.callbacks:
            if getattr(cb, "_runs_last", False):
                cb._set_callbacks(self.callbacks)

    def resume_point(self, initial_epoch: int) -> Tuple[int, int]:
        """(epoch, step) where ``fit`` starts: where a restored backup left off, else
        ``(initial_epoch, 0)``. Asked once, after ``on_train_begin``."""
        for cb in self.callbacks:
            point = cb._resume_point() if hasattr(cb, "_resume_point") else None
            if point is not None:
                return point
        return initial_epoch, 0

    def set_params(self, params: Dict[str, Any]) -> None:
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model) -> None:
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def implements_batch_hooks(self, mode: str) -> bool:
        """Whether some callback does work in the batch hooks of ``mode`` (cached)."""
        if mode not in self._batch_hooks:
            self._batch_hooks[mode] = any(cb._implements_batch_hooks(mode)
                                          for cb in self.callbacks)
        return self._batch_hooks[mode]

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def _logs(self, logs):
        return {} if logs is None else logs

    def on_train_begin(self, logs=None) -> None:
        self._call("on_train_begin", self._logs(logs))

    def on_train_end(self, logs=None) -> None:
        self._call("on_train_end", self._logs(logs))

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._call("on_epoch_begin", epoch, self._logs(logs))

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._call("on_epoch_end", epoch, self._logs(logs))

    def on_test_begin(self, logs=None) -> None:
        self._call("on_test_begin", self._logs(logs))

    def on_test_end(self, logs=None) -> None:
        self._call("on_test_end", self._logs(logs))

    def on_predict_begin(self, logs=None) -> None:
        self._call("on_predict_begin", self._logs(logs))

    def on_predict_end(self, logs=None) -> None:
        self._call("on_predict_end", self._logs(logs))

    def on_batch_begin(self, batch: int, logs=None) -> None:
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs=None) -> None:
        self.on_train_batch_end(batch, logs)

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self._call("on_train_batch_begin", batch, self._logs(logs))

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._call("on_train_batch_end", batch, self._logs(logs))

    def on_test_batch_begin(self, batch: int, logs=None) -> None:
        self._call("on_test_batch_begin", batch, self._logs(logs))

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        self._call("on_test_batch_end", batch, self._logs(logs))

    def on_predict_batch_begin(self, batch: int, logs=None) -> None:
        self._call("on_predict_batch_begin", batch, self._logs(logs))

    def on_predict_batch_end(self, batch: int, logs=None) -> None:
        self._call("on_predict_batch_end", batch, self._logs(logs))

    def __iter__(self):
        return iter(self.callbacks)


# ------------------------------------------------------------------ loggers

class BaseLogger(Callback):
    """Averages batch values over an epoch into the epoch logs (Keras 2 compatibility).

    The training loop already puts epoch averages in the logs, and batch logs hold running
    averages, so model metrics (listed in ``params["metrics"]``) are taken as their last
    batch value; other values found in batch logs are averaged, weighted by ``size``.

    Args:
        stateful_metrics: names whose last value is kept instead of averaged.
    """

    def __init__(self, stateful_metrics: Optional[Iterable[str]] = None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())
        self.seen = 0
        self.totals: Dict[str, float] = {}

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch: int, logs=None) -> None:
        logs = logs or {}
        size = logs.get("size", 0)
        self.seen += size
        running = set(self.params.get("metrics", ())) | self.stateful_metrics
        for key, value in logs.items():
            if key in ("batch", "size"):
                continue
            if key in running:
                self.totals[key] = value
            else:
                self.totals[key] = self.totals.get(key, 0.0) + value * size

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if logs is None:
            return
        running = set(self.params.get("metrics", ())) | self.stateful_metrics
        for key, value in self.totals.items():
            if key in running:
                logs.setdefault(key, value)
            elif self.seen:
                logs[key] = value / self.seen


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]``, ``history.epoch``.

    ``fit`` adds one automatically and returns it (also as ``model.history``).
    """

    def __init__(self):
        super().__init__()
        self.history: Dict[str, List[Any]] = {}
        self.epoch: List[int] = []

    def on_train_begin(self, logs=None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints the progress bar (``verbose=1``) or one line per epoch (``verbose=2``).

    Reads metric values from the device only when the bar is redrawn (at most every
    ``interval`` seconds) and at the end of each epoch.

    Args:
        count_mode: ``"steps"`` (the default, and the only mode: batches are counted).
        stateful_metrics: accepted for Keras compatibility (every value shown is already
            an epoch average).
    """

    _chief_only = True

    def __init__(self, count_mode: str = "steps", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("steps", "samples"):
            raise ValueError(f"Unknown `count_mode`: {count_mode}. Expected 'steps' or "
                             "'samples'.")
        self.count_mode = "steps"
        self.verbose = 1
        self.epochs = 1
        self.target: Optional[int] = None
        self.progbar: Optional[Progbar] = None
        self._seen = 0
        self._called_in_fit = False

    def set_params(self, params: Dict[str, Any]) -> None:
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _reset(self, target: Optional[int]) -> None:
        self._seen = 0
        self.progbar = Progbar(target, verbose=self.verbose, interval=0.1,
                               stateful_metrics=None, unit_name="step")
        self.progbar.stateful_metrics = _EVERYTHING

    def on_train_begin(self, logs=None) -> None:
        self._called_in_fit = True

    def on_test_begin(self, logs=None) -> None:
        if not self._called_in_fit:
            self._reset(self.params.get("steps"))

    def on_predict_begin(self, logs=None) -> None:
        self._reset(self.params.get("steps"))

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._reset(self.target)
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")

    def _batch_update(self, batch: int, logs) -> None:
        self._seen = batch + 1
        bar = self.progbar
        if bar is None or self.verbose != 1 or not bar.due():
            return
        values = [(k, v) for k, v in (logs or {}).items() if k not in ("batch", "size")]
        bar.update(self._seen, values, finalize=False)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._batch_update(batch, logs)

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        if not self._called_in_fit:
            self._batch_update(batch, logs)

    def on_predict_batch_end(self, batch: int, logs=None) -> None:
        self._seen = batch + 1
        bar = self.progbar
        if bar is not None and self.verbose == 1 and bar.due():
            bar.update(self._seen, finalize=False)

    def _finalize(self, logs) -> None:
        if self.progbar is None:
            return
        if self.progbar.target is None:
            self.progbar.target = self._seen
        self.progbar.update(self._seen, list((logs or {}).items()), finalize=True)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._finalize(logs)

    def on_test_end(self, logs=None) -> None:
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_end(self, logs=None) -> None:
        self._finalize(None)

    def on_train_end(self, logs=None) -> None:
        self._called_in_fit = False


class _Everything:
    def __contains__(self, item) -> bool:
        return True


_EVERYTHING = _Everything()


# ------------------------------------------------------------------ monitors

def _is_improvement_op(mode: str, monitor: str, name: str):
    """``np.greater`` or ``np.less`` for ``mode`` (``auto`` guesses from the name)."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{name} mode {mode} is unknown, fallback to auto mode.", TkerasWarning,
                      stacklevel=3)
        mode = "auto"
    if mode == "min":
        return np.less
    if mode == "max":
        return np.greater
    if monitor.endswith("acc") or monitor.endswith("accuracy") or monitor.endswith("auc"):
        return np.greater
    return np.less


def _monitor_value(logs, monitor: str, name: str):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{name} conditioned on metric `{monitor}` which is not available. "
                      f"Available metrics are: {','.join(list((logs or {}).keys()))}",
                      TkerasWarning, stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stops training when a monitored value has stopped improving.

    Args:
        monitor: the value to watch (``val_loss``, ``val_acc``, ``loss`` ...).
        min_delta: a change smaller than this is no improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints a message when stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracies and AUC, else min).
        baseline: a value the monitor must beat; until then the patience runs out.
        restore_best_weights: at the stop, put back the weights of the best epoch.
        start_from_epoch: epochs to wait before watching.

    Example:
        >>> early_stopping = EarlyStopping(monitor='val_loss', patience=2)
        >>> model.fit(x, y, validation_split=0.2, callbacks=[early_stopping])
    """

    # what BackupAndRestore backs up and restores
    _backup_attributes = ("wait", "stopped_epoch", "best", "best_epoch", "best_weights")

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: Optional[float] = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.monitor_op = _is_improvement_op(mode, monitor, "EarlyStopping")
        self.min_delta = abs(min_delta) * (1 if self.monitor_op is np.greater else -1)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights: Optional[List[torch.Tensor]] = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf if self.monitor_op is np.less else -np.inf
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference) -> bool:
        return bool(self.monitor_op(value - self.min_delta, reference))

    def _snapshot(self) -> List[torch.Tensor]:
        return [w.detach().clone() for w in self.model.weights]

    def _restore(self) -> None:
        with torch.no_grad():
            for w, saved in zip(self.model.weights, self.best_weights):
                w.copy_(saved)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        current = _monitor_value(logs, self.monitor, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._snapshot()  # even if no epoch ever improves
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print("Restoring model weights from the end of the best epoch: "
                          f"{self.best_epoch + 1}.")
                self._restore()

    def on_train_end(self, logs=None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")

    def get_monitor_value(self, logs):
        return _monitor_value(logs, self.monitor, "Early stopping")


def _optimizer_lr(model) -> torch.Tensor:
    optimizer = getattr(model, "optimizer", None)
    lr = getattr(optimizer, "lr", None)
    if lr is None:
        lr = getattr(optimizer, "learning_rate", None)
    if not isinstance(lr, torch.Tensor):
        raise ValueError('Optimizer must have a "lr" attribute (a learning-rate tensor). '
                         f"Received optimizer: {optimizer!r}")
    return lr


def _read_lr(model) -> float:
    return float(_optimizer_lr(model).detach().cpu())


def _write_lr(model, value: float) -> None:
    lr = _optimizer_lr(model)
    with torch.no_grad():
        lr.fill_(float(value))


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch from ``schedule``.

    Args:
        schedule: ``schedule(epoch)`` or ``schedule(epoch, lr)`` (epoch from 0, ``lr``
            the current rate) returning the new rate (a float).
        verbose: 1 prints the new rate.

    Example:
        >>> LearningRateScheduler(lambda epoch: 0.01 * 0.9 ** epoch)
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _accepts_two_arguments(schedule)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        current = _read_lr(self.model)
        lr = self.schedule(epoch, current) if self._takes_lr else self.schedule(epoch)
        if isinstance(lr, torch.Tensor):
            if lr.numel() != 1 or not lr.is_floating_point():
                raise ValueError('The output of the "schedule" function should be a float. '
                                 f"Received a tensor of dtype {lr.dtype}, shape {tuple(lr.shape)}.")
            lr = float(lr.detach().cpu())
        elif not isinstance(lr, (float, int, np.floating, np.integer)) or isinstance(lr, bool):
            raise ValueError('The output of the "schedule" function should be float. '
                             f"Received: {lr!r}")
        _write_lr(self.model, float(lr))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if logs is not None:
            logs["lr"] = _read_lr(self.model)


def _accepts_two_arguments(fn: Callable) -> bool:
    """Whether ``fn`` can be called as ``fn(epoch, lr)``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when a value stops improving.

    Args:
        monitor: the value to watch.
        factor: new_lr = lr * factor (must be < 1).
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints a message at each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max when the name contains ``acc``).
        min_delta: a change smaller than this is no improvement (Keras 2's ``epsilon``).
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate is never reduced below this.

    Example:
        >>> ReduceLROnPlateau(monitor='val_loss', factor=0.2, patience=5, min_lr=0.001)
    """

    _backup_attributes = ("wait", "best", "cooldown_counter")  # see BackupAndRestore

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use "
                          "`min_delta` instead.", TkerasDeprecationWarning, stacklevel=2)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments: {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Got {factor}")
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning rate reduction mode {mode} is unknown, fallback to auto "
                          "mode.", TkerasWarning, stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = mode
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0.0
        self._reset()

    def _reset(self) -> None:
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None) -> None:
        self._reset()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs if logs is not None else {}
        logs["lr"] = _read_lr(self.model)
        current = _monitor_value(logs, self.monitor, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch: int) -> None:
        old_lr = _read_lr(self.model)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            _write_lr(self.model, new_lr)
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning rate to "
                      f"{new_lr}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0


class TerminateOnNaN(Callback):
    """Stops training as soon as the loss of a batch is NaN or infinite."""

    def on_batch_end(self, batch: int, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


# ------------------------------------------------------------------ writers

class CSVLogger(Callback):
    """Writes the epoch logs to a CSV file (one row per epoch, an ``epoch`` column first).

    Args:
        filename: the file.
        separator: the column separator.
        append: append to an existing file (the header is written only if it is empty).

    Example:
        >>> model.fit(x, y, callbacks=[CSVLogger('training.log')])
    """

    _chief_only = True

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys: Optional[List[str]] = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None) -> None:
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", newline="") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        self.csv_file = open(self.filename, mode, newline="")

    @staticmethod
    def _cell(value):
        if isinstance(value, str):
            return value
        if isinstance(value, Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
            return '"[%s]"' % (", ".join(map(str, value)))
        return value

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
        if self.model is not None and getattr(self.model, "stop_training", False):
            logs = {k: logs.get(k, "NA") for k in self.keys}
        if self.writer is None:
            sep = self.sep

            class _Dialect(csv.excel):
                delimiter = sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=_Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, self._cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None) -> None:
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


class LambdaCallback(Callback):
    """A callback made of plain functions.

    Args:
        on_epoch_begin / on_epoch_end: ``f(epoch, logs)``.
        on_batch_begin / on_batch_end: ``f(batch, logs)``.
        on_train_begin / on_train_end: ``f(logs)``.
        **kwargs: any other hook by name (``on_test_end=...``).

    Example:
        >>> batch_print_callback = LambdaCallback(
        ...     on_batch_begin=lambda batch, logs: print(batch))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end, **kwargs)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not hasattr(Callback, name):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}.")
            setattr(self, name, fn)


class RemoteMonitor(Callback):
    """POSTs the epoch logs to a server at the end of each epoch.

    The body is the form field ``field`` holding the JSON of ``{"epoch": ..., **logs}``,
    or, with ``send_as_json=True``, that JSON itself (``Content-Type: application/json``).
    Sent with ``urllib`` (no extra dependency); an unreachable server gives a warning.

    Args:
        root: the server's root URL.
        path: the path, appended to ``root``.
        field: the form field name.
        headers: extra HTTP headers.
        send_as_json: send the JSON as the body.
    """

    _chief_only = True

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: Optional[Dict[str, str]] = None,
                 send_as_json: bool = False, timeout: float = 10.0):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = dict(headers or {})
        self.send_as_json = send_as_json
        self.timeout = timeout

    def _payload(self, epoch: int, logs) -> Dict[str, Any]:
        send: Dict[str, Any] = {"epoch": epoch}
        for key, value in (logs or {}).items():
            if isinstance(value, (np.ndarray, np.generic)):
                value = value.item() if value.size == 1 else value.tolist()
            elif isinstance(value, torch.Tensor):
                value = value.detach().cpu().tolist()
            send[key] = value
        return send

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        send = self._payload(epoch, logs)
        headers = dict(self.headers)
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            warnings.warn("Warning: could not reach RemoteMonitor root server at "
                          f"{self.root}", TkerasWarning, stacklevel=2)


class TensorBoard(Callback):
    """Writes TensorBoard event files: epoch scalars, weight histograms, the model graph.

    Scalars go to ``log_dir/train`` and ``log_dir/validation`` as ``epoch_<metric>``
    (``epoch_loss``, ``epoch_acc`` ...); every ``histogram_freq`` epochs each weight's
    histogram is written to ``log_dir/train`` under its Keras name (``dense/kernel_0``);
    with ``write_graph`` the model is traced once and its graph written. Needs the
    ``tensorboard`` package (``pip install tensorboard``); files are written with
    ``torch.utils.tensorboard.SummaryWriter``.

    Args:
        log_dir: directory of the event files.
        histogram_freq: write weight histograms every this many epochs (0: never).
        write_graph: write the model graph.
        write_images: accepted for compatibility (not written).
        update_freq: ``"epoch"``, or ``"batch"`` / an integer N to also write
            ``batch_<metric>`` scalars every N batches.
        **kwargs: other Keras 2 arguments (``batch_size``, ``write_grads``,
            ``embeddings_freq`` ...) are accepted and ignored.

    Example:
        >>> model.fit(x, y, callbacks=[TensorBoard(log_dir='./logs', histogram_freq=1)])
    """

    _chief_only = True

    _IGNORED = ("batch_size", "write_grads", "embeddings_freq", "embeddings_layer_names",
                "embeddings_metadata", "embeddings_data", "profile_batch",
                "write_steps_per_second")

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, update_freq="epoch", **kwargs):
        super().__init__()
        unknown = set(kwargs) - set(self._IGNORED)
        if unknown:
            raise TypeError(f"TensorBoard got unexpected keyword arguments: {sorted(unknown)}")
        _summary_writer_class()  # fail early, with a clear message, without tensorboard
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError("`update_freq` must be 'epoch', 'batch' or a positive integer. "
                             f"Received: update_freq={update_freq!r}")
        self.update_freq = update_freq
        self._writers: Dict[str, Any] = {}
        self._global_batch = 0

    def _writer(self, run: str):
        if run not in self._writers:
            self._writers[run] = _summary_writer_class()(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _implements_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and self.update_freq != "epoch"

    def on_train_begin(self, logs=None) -> None:
        self._global_batch = 0
        if self.write_graph:
            self._write_graph()

    def _write_graph(self) -> None:
        example = _example_inputs(self.model)
        if example is None:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._writer("train").add_graph(_GraphView(self.model), example)
        except Exception as e:  # noqa: BLE001 - a graph that cannot be traced is skipped
            warnings.warn(f"TensorBoard: the model graph could not be traced and is not "
                          f"written ({type(e).__name__}: {e}).", TkerasWarning, stacklevel=2)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._global_batch += 1
        if self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        writer = self._writer("train")
        for key, value in (logs or {}).items():
            if key not in ("batch", "size"):
                writer.add_scalar("batch_" + key, float(value), self._global_batch)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float, np.floating, np.integer)):
                run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
                self._writer(run).add_scalar("epoch_" + name, float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _write_histograms(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = getattr(weight, "_keras_name", None) or f"{layer.name}/weight"
                writer.add_histogram(name.replace(":", "_"), to_numpy(weight), epoch)

    def on_train_end(self, logs=None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise ImportError("The TensorBoard callback needs the `tensorboard` package: "
                          "`pip install tensorboard` (or `pip install tkeras[tensorboard]`). "
                          f"Import failed with: {e}") from e
    return SummaryWriter


class _GraphView(torch.nn.Module):
    """The model seen by the tracer: positional tensor inputs in, a tuple of tensors out."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *inputs):
        out = self.model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
        if isinstance(out, dict):
            return tuple(out.values())
        return tuple(out) if isinstance(out, (list, tuple)) else out


def _example_inputs(model):
    """Zero tensors shaped like the model's inputs (batch 1), or None if unknown."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    from .backend import config
    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    tensors = []
    for t in inputs:
        shape = tuple(1 if d is None else d for d in t.shape)
        dtype = config.torch_dtype(t.dtype) if t.dtype else config.torch_dtype()
        tensors.append(torch.zeros(shape, dtype=dtype, device=device))
    return tuple(tensors) if len(tensors) > 1 else tensors[0]


__all__ = ["Callback", "CallbackList", "BaseLogger", "History", "ProgbarLogger", "EarlyStopping",
           "LearningRateScheduler", "ReduceLROnPlateau", "TerminateOnNaN", "CSVLogger",
           "LambdaCallback", "RemoteMonitor", "TensorBoard", "LazyLogs", "ModelCheckpoint",
           "BackupAndRestore"]


# ------------------------------------------------------------------ ModelCheckpoint (saving)

class ModelCheckpoint(Callback):
    """Saves the model (or its weights) after every epoch, every ``period`` epochs, or every
    ``save_freq`` batches. Each save is atomic: written to a temporary file in the same
    folder and renamed, so a crash never leaves a broken file where the last good one was.

    Args:
        filepath: path of the file; may contain ``str.format`` fields filled with the epoch
            (from 1), the batch (from 1, with an integer ``save_freq``) and the values in
            ``logs``: ``"weights.{epoch:02d}-{val_loss:.2f}.hdf5"``. A ``.keras`` path
            writes the zip format, anything else Keras 2's HDF5 layout.
        monitor: the logged value ``save_best_only`` compares.
        verbose: 1 prints a line for each save decision.
        save_best_only: save only when ``monitor`` improved (the file is then only
            replaced by a better model).
        save_weights_only: ``model.save_weights`` instead of ``model.save``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracies, else min).
        save_freq: ``"epoch"``, or a number of batches between saves.
        options: TensorFlow argument, ignored.
        initial_value_threshold: a ``monitor`` value a model must beat to be saved
            (with ``save_best_only``).
        period: Keras 2's spelling: save every ``period`` epochs.

    Example:
        >>> if os.path.exists("weights.hdf5"):
        ...     model.load_weights("weights.hdf5")  # resume where the last run stopped
        >>> checkpoint = ModelCheckpoint("weights.hdf5", monitor="val_acc",
        ...                              save_best_only=True, mode="max")
        >>> model.fit(x, y, validation_split=0.33, epochs=150, callbacks=[checkpoint])
    """

    _backup_attributes = ("best", "epochs_since_last_save", "_batches_since_last_save")

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq="epoch", options=None,
                 initial_value_threshold: Optional[float] = None, period: Optional[int] = None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected 'epoch' or a "
                             "positive number of batches.")
        if period is not None and (not isinstance(period, int) or period < 1):
            raise ValueError(f"`period` must be a positive number of epochs. Received: "
                             f"period={period!r}")
        self.save_freq = save_freq
        self.period = period or 1
        self.monitor_op = _is_improvement_op(mode, monitor, "ModelCheckpoint")
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = np.inf if self.monitor_op is np.less else -np.inf
        self.epochs_since_last_save = 0
        self._batches_since_last_save = 0
        self._current_epoch = 0

    def _implements_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and self.save_freq != "epoch"

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_since_last_save += 1
        if self._batches_since_last_save >= self.save_freq:
            self._batches_since_last_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.save_freq != "epoch":
            return
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save >= self.period:
            self.epochs_since_last_save = 0
            self._save(epoch, None, logs)

    def _file_path(self, epoch: int, batch: Optional[int], logs: Mapping[str, Any]) -> str:
        fields = {k: _as_number(v) for k, v in logs.items()}
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(epoch=epoch + 1, **fields)
        except (KeyError, IndexError, ValueError) as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e!r}. The fields it can use are epoch, batch and the "
                           f"logged values: {sorted(fields)}") from None

    def _save(self, epoch: int, batch: Optional[int], logs) -> None:
        logs = dict(logs or {})
        filepath = self._file_path(epoch, batch, logs)
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: saving model to {filepath}")
            self._write(filepath)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available, skipping.",
                          TkerasWarning, stacklevel=2)
            return
        current = _as_number(current)
        if self.monitor_op(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: {self.monitor} improved from {self.best:0.5f} "
                      f"to {current:0.5f}, saving model to {filepath}")
            self.best = current
            self._write(filepath)
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: {self.monitor} did not improve from "
                  f"{self.best:0.5f}")

    def _write(self, filepath: str) -> None:
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)


def _as_number(value):
    """A logged value as a Python number (tensors and numpy scalars included)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


from .callbacks_backup import BackupAndRestore  # noqa: E402 - it subclasses Callback
