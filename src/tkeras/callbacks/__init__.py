"""Callbacks: objects called at given points of ``fit``, ``evaluate`` and ``predict``.

Keras 2's callbacks (``Callback``, ``History``, ``EarlyStopping``, ``ReduceLROnPlateau``,
``CSVLogger``, ``TensorBoard`` ...), by module: ``base`` (``Callback``, ``LazyLogs``),
``callback_list``, ``loggers`` (``BaseLogger``, ``History``, ``ProgbarLogger``), ``monitors``
(early stopping, learning-rate schedules), ``writers`` (CSV, TensorBoard, remote, lambda),
``checkpoint`` (``ModelCheckpoint``, written with the saving code) and ``backup``
(``BackupAndRestore``).

Batch-level hooks are free when no callback overrides them: the training loop asks the
``CallbackList`` once per ``fit`` whether any callback implements them. The ``logs``
given to batch hooks compute their values (a read from the device) only when a callback
reads them.
"""
from .backup import BackupAndRestore
from .base import Callback, LazyLogs
from .callback_list import CallbackList
from .checkpoint import ModelCheckpoint
from .loggers import BaseLogger, History, ProgbarLogger
from .monitors import EarlyStopping, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN
from .writers import CSVLogger, LambdaCallback, RemoteMonitor, TensorBoard

__all__ = ["Callback", "CallbackList", "BaseLogger", "History", "ProgbarLogger", "EarlyStopping",
           "LearningRateScheduler", "ReduceLROnPlateau", "TerminateOnNaN", "CSVLogger",
           "LambdaCallback", "RemoteMonitor", "TensorBoard", "LazyLogs", "ModelCheckpoint",
           "BackupAndRestore"]
