"""``CallbackList``: the callbacks of one ``fit`` / ``evaluate`` / ``predict`` called together.

Batch-level hooks are free when no callback overrides them: the training loop asks the
``CallbackList`` once per ``fit`` whether any callback implements them."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

from .base import Callback
from .loggers import History, ProgbarLogger


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
