"""Callbacks that write or send the logs: ``CSVLogger``, ``LambdaCallback``, ``RemoteMonitor``,
``TensorBoard``."""
from __future__ import annotations

import collections
import csv
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any, Dict, Iterable, List, Optional

import numpy as np
import torch

from .._warn import TkerasWarning
from ..backend.variables import to_numpy
from .base import Callback


class CSVLogger(Callback):
    """Writes the epoch logs to a CSV file (one row per epoch, an ``epoch`` column first).

    Args:
        filename: the file.
        separator: the column separator.
        append: append to an existing file (the header is written only if it is empty).

    Example:
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[CSVLogger('training.log')])
        >>> import pathlib
        >>> pathlib.Path('training.log').read_text().splitlines()[0]
        'epoch,loss'
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
        >>> _ = model.fit(x, y, verbose=0, callbacks=[TensorBoard(log_dir='./logs', histogram_freq=1)])
        >>> os.listdir('logs')
        ['train']
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
    from ..backend import config
    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    tensors = []
    for t in inputs:
        shape = tuple(1 if d is None else d for d in t.shape)
        dtype = config.torch_dtype(t.dtype) if t.dtype else config.torch_dtype()
        tensors.append(torch.zeros(shape, dtype=dtype, device=device))
    return tuple(tensors) if len(tensors) > 1 else tensors[0]
