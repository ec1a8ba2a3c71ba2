"""The ``Callback`` base class and ``LazyLogs``, the batch logs that read the device only when
a callback reads them."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

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
