"""The callbacks that ``fit`` adds itself: ``BaseLogger``, ``History`` and the progress bar
(``ProgbarLogger``)."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from ..utils.generic_utils import Progbar
from .base import Callback


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
