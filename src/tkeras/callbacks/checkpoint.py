"""``ModelCheckpoint``: saves the model or its weights during training (written with the saving
code)."""
from __future__ import annotations

import os
import warnings
from typing import Any, Mapping, Optional

import numpy as np
import torch

from .._warn import TkerasWarning
from .base import Callback
from .monitors import _is_improvement_op


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
        >>> checkpoint = ModelCheckpoint("weights.hdf5", monitor="val_loss",
        ...                              save_best_only=True, mode="min")
        >>> _ = model.fit(x, y, validation_split=0.25, epochs=3, verbose=0, callbacks=[checkpoint])
        >>> os.path.exists("weights.hdf5")
        True
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
