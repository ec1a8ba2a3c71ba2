"""Callbacks that watch a logged quantity or the learning rate: ``EarlyStopping``,
``LearningRateScheduler``, ``ReduceLROnPlateau``, ``TerminateOnNaN``."""
from __future__ import annotations

import inspect
import math
import warnings
from typing import Callable, List, Optional

import numpy as np
import torch

from .._warn import TkerasDeprecationWarning, TkerasWarning
from .base import Callback


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
        >>> history = model.fit(x, y, validation_split=0.25, epochs=20, verbose=0,
        ...                     callbacks=[early_stopping])
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
        >>> scheduler = LearningRateScheduler(lambda epoch: 0.01 * 0.9 ** epoch)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[scheduler])
        >>> round(float(K.get_value(model.optimizer.lr)), 4)
        0.009
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
        >>> reduce_lr = ReduceLROnPlateau(monitor='val_loss', factor=0.2, patience=5, min_lr=0.001)
        >>> _ = model.fit(x, y, validation_split=0.25, verbose=0, callbacks=[reduce_lr])
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
