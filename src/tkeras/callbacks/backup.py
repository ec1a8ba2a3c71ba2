"""``BackupAndRestore``: training that survives being killed.

A backup is one HDF5 file, ``<backup_dir>/chief/training_state.h5``, written atomically
(``saving.hdf5_format.atomic_write``: a temporary file renamed over the last backup, so a
kill at any moment leaves the previous backup intact). It holds:

* ``model_weights``: the model's weights in Keras 2's weights-file layout (the backup is
  also a file ``model.load_weights`` reads);
* ``optimizer_weights``: the optimizer's variables (iterations, slots), as in model files,
  and ``optimizer_scalars``: its other scalar state (learning rate, decay, ...);
* ``rng``: the random states (Python's ``random``, numpy's global generator, torch's CPU
  and CUDA generators, tkeras's seeded ``K`` generators and the generators of seeded
  layers) as arrays, now and at the start of the current epoch;
* ``callbacks`` / ``metrics``: arrays of the callbacks' state (EarlyStopping's best
  weights) and of the epoch's running metrics;
* the attribute ``training_state``: JSON with where to resume (epoch, step), the
  callbacks' counters and the arrays' bookkeeping. Nothing is pickled.

The callback runs after the others (``CallbackList`` puts it last), so a backup holds what
every callback did at that point, and a restore comes after the other callbacks reset
themselves in ``on_train_begin``.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import warnings
from typing import Any, Dict, List, Optional, Tuple

import h5py
import numpy as np
import torch

from .._warn import TkerasWarning
from .base import Callback

FILE_NAME = "training_state.h5"
_FORMAT = "tkeras.BackupAndRestore"
_VERSION = 1

Arrays = Dict[str, np.ndarray]


class BackupAndRestore(Callback):
    """Backs up the training state so that a run killed at any moment continues where it
    was when started again with the same script.

    Every ``save_freq`` the callback writes the model's weights, the optimizer's state,
    the epoch and batch reached, the random states (so shuffling and dropout continue
    identically) and the state of the other callbacks (EarlyStopping's ``wait`` and
    ``best``, ReduceLROnPlateau's, ModelCheckpoint's ``best``) into ``backup_dir``. When
    ``fit`` starts and a backup exists, all of it is restored and training continues from
    the backed-up epoch and batch: the batches of that epoch already done are skipped, in
    the same shuffled order. A run that is killed and restarted (any number of times) ends
    with the same weights as one that was never interrupted. When training ends normally
    the backup is deleted (unless ``delete_checkpoint=False``).

    What the data pipeline keeps itself is not backed up: arrays, ``Sequence`` objects
    shuffled by ``fit(shuffle=True)`` and ``DataLoader`` objects drawing from torch's
    generator resume exactly; a ``Sequence`` that reshuffles its own indices in
    ``on_epoch_end``, or a generator's position, start again as the script makes them.
    A callback of your own can take part by listing its state attributes (numbers,
    strings, lists of tensors) in a class attribute ``_backup_attributes``.

    Args:
        backup_dir: folder of the backup (the file is ``backup_dir/chief/training_state.h5``).
            Use one folder per training run.
        save_freq: ``"epoch"``: back up at the end of each epoch; an integer N: every N
            training batches (counted across epochs). A backup due at the last batch of
            an epoch is written at the end of that epoch, so that it also holds what the
            epoch's end did (validation, callbacks). ``False`` only with
            ``save_before_preemption``.
        delete_checkpoint: delete the backup when training ends normally.
        save_before_preemption: TensorFlow's preemption handler; not available in tkeras
            (accepted with a warning).

    Example:
        >>> class InterruptingCallback(tkeras.callbacks.Callback):
        ...     def on_epoch_begin(self, epoch, logs=None):
        ...         if epoch == 4:
        ...             raise RuntimeError("Interrupting!")
        >>> callback = tkeras.callbacks.BackupAndRestore(backup_dir="backup")
        >>> try:
        ...     model.fit(x, y, epochs=10, verbose=0, callbacks=[callback, InterruptingCallback()])
        ... except RuntimeError:
        ...     pass
        >>> history = model.fit(x, y, epochs=10, verbose=0, callbacks=[callback])
        >>> len(history.history["loss"])  # epochs 4 to 9: the first four were restored
        6
    """

    _runs_last = True  # CallbackList calls it after the other callbacks

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint: bool = True,
                 save_before_preemption: bool = False):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if not save_freq and not save_before_preemption:
            raise ValueError("Either `save_freq` or `save_before_preemption` must be set.")
        if save_freq and save_freq != "epoch" and (
                not isinstance(save_freq, (int, np.integer)) or isinstance(save_freq, bool)
                or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are "
                             "'epoch' or positive integer values (a number of batches).")
        if save_before_preemption:
            warnings.warn("`save_before_preemption` needs TensorFlow's preemption handler, which "
                          "tkeras does not have: backups follow `save_freq` only.",
                          TkerasWarning, stacklevel=2)
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq if save_freq == "epoch" or not save_freq else int(save_freq)
        self.delete_checkpoint = delete_checkpoint
        self.save_before_preemption = save_before_preemption
        self._callbacks: List[Callback] = []
        self._reset()

    def _reset(self) -> None:
        self._batches_count = 0
        self._current_epoch = 0
        self._backup_at_epoch_end = False
        self._epoch_start_rng: Optional[Tuple[Arrays, Dict[str, Any]]] = None
        self._resume: Optional[Tuple[int, int]] = None
        self._pending: Optional[Dict[str, Any]] = None  # what a mid-epoch resume still sets

    @property
    def backup_path(self) -> str:
        """The backup file: ``<backup_dir>/chief/training_state.h5``."""
        return os.path.join(self.backup_dir, "chief", FILE_NAME)

    def _set_callbacks(self, callbacks: List[Callback]) -> None:
        """Called by ``CallbackList``: the callbacks whose state the backups hold."""
        self._callbacks = [cb for cb in callbacks if cb is not self]

    def _resume_point(self) -> Optional[Tuple[int, int]]:
        """(epoch, step) at which ``fit`` continues after a restore; None without backup."""
        return self._resume

    def _implements_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and self._batch_mode()

    def _batch_mode(self) -> bool:
        return bool(self.save_freq) and self.save_freq != "epoch"

    # ------------------------------------------------------------------ hooks

    def on_train_begin(self, logs=None) -> None:
        self._reset()
        if not os.path.exists(self.backup_path):
            return
        epoch, step = self._read_resume_point()
        self._resume = (epoch, step)
        if step:
            # Resuming inside an epoch: the state is restored in that epoch's
            # on_epoch_begin, after the other callbacks' (a LearningRateScheduler there
            # must not change the backed-up learning rate again).
            self._pending = {"epoch": epoch, "step": step}
        else:
            self._restore()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._current_epoch = epoch
        pending = self._pending
        if pending is not None and pending["epoch"] == epoch:
            pending.update(self._restore())
            # The shuffle of this epoch is drawn from the state it had then.
            _set_rng(self.model, *pending.pop("epoch_start_rng"))
            _restore_epoch_metrics(self.model, pending)
        if self._batch_mode():
            self._epoch_start_rng = _capture_rng(self.model)

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        pending = self._pending
        if pending is not None and "rng" in pending and batch >= pending["step"]:
            _set_rng(self.model, *pending.pop("rng"))  # the first batch after the resume

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        pending = self._pending
        if pending is not None and "rng" not in pending:
            _add_pending_metrics(self.model, pending)
            self._pending = None
        if not self._batch_mode():
            return
        self._batches_count += 1
        if self._batches_count < self.save_freq:
            return
        self._batches_count = 0
        steps = self.params.get("steps")
        if (steps is not None and batch + 1 >= steps) or self.model.stop_training:
            self._backup_at_epoch_end = True  # the epoch ends now: back up after its end
        else:
            self._backup(self._current_epoch, batch + 1)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.save_freq == "epoch" or self._backup_at_epoch_end:
            self._backup_at_epoch_end = False
            self._backup(epoch + 1, 0)

    def on_train_end(self, logs=None) -> None:
        if self.delete_checkpoint and _is_chief():
            shutil.rmtree(os.path.dirname(self.backup_path), ignore_errors=True)
        self._reset()

    # ------------------------------------------------------------------ back up

    def _backup(self, epoch: int, step: int) -> None:
        """Writes the state reached before batch ``step`` of epoch ``epoch``."""
        if not _is_chief():
            return
        model = self.model
        arrays: Arrays = {}
        rng_arrays, rng_meta = _capture_rng(model)
        arrays.update(_prefixed("rng/current", rng_arrays))
        meta: Dict[str, Any] = {
            "format": _FORMAT, "version": _VERSION, "epoch": int(epoch), "step": int(step),
            "steps_per_epoch": self.params.get("steps"),
            "stop_training": bool(getattr(model, "stop_training", False)),
            "build_input_shape": _jsonable_shape(getattr(model, "_build_input_shape", None)),
            "rng": {"current": rng_meta}}
        if step:
            start_arrays, start_meta = self._epoch_start_rng
            arrays.update(_prefixed("rng/epoch_start", start_arrays))
            meta["rng"]["epoch_start"] = start_meta
            meta["metrics"] = _capture_metrics(model, arrays)
        stateful = [cb for cb in self._callbacks if _backup_attributes(cb)]
        meta["callbacks"] = [_capture_callback(cb, i, _class_rank(stateful, cb), arrays)
                             for i, cb in enumerate(stateful)]
        optimizer = getattr(model, "optimizer", None)
        scalars = _optimizer_scalars(optimizer)
        for i, t in enumerate(scalars):
            arrays[f"optimizer_scalars/{i}"] = t.detach().cpu().numpy()
        meta["optimizer_scalars"] = len(scalars)
        if _torch_optimizer(optimizer) is not None:
            meta["torch_optimizer"] = _capture_torch_optimizer(optimizer, arrays)
        from ..saving import hdf5_format
        with hdf5_format.atomic_write(self.backup_path) as tmp:
            with h5py.File(tmp, "w") as f:
                _write_training_state(f, model, arrays, meta)

    # ------------------------------------------------------------------ restore

    def _read_resume_point(self) -> Tuple[int, int]:
        from ..saving import hdf5_format
        with hdf5_format.open_hdf5_for_reading(self.backup_path) as f:
            with hdf5_format.reading_errors(self.backup_path, "the training state"):
                meta = _read_meta(f, self.backup_path)
        if meta["stop_training"]:  # a callback had stopped the training: nothing is left
            return max(meta["epoch"], int(self.params.get("epochs") or 0)), 0
        return meta["epoch"], meta["step"]

    def _restore(self) -> Dict[str, Any]:
        """Restores the model, the optimizer and the callbacks; sets the random state of a
        backup taken at an epoch's end, or returns what a resume inside an epoch sets
        later (the random states, the epoch's metrics)."""
        from ..saving import hdf5_format
        path = self.backup_path
        model = self.model
        with hdf5_format.open_hdf5_for_reading(path) as f:
            with hdf5_format.reading_errors(path, "the training state"):
                meta, arrays = _read_meta(f, path), _read_arrays(f)
            if not model.built and meta.get("build_input_shape") is not None:
                model.build(_shape_from_json(meta["build_input_shape"]))
            try:
                with hdf5_format.reading_errors(path, "the model's weights"):
                    hdf5_format.load_weights_from_hdf5_group(f["model_weights"], model)
                    optimizer_values = _read_optimizer_values(f)
                _restore_optimizer(model, optimizer_values, arrays, meta)
            except ValueError as e:
                raise ValueError(f"The backup {path} does not fit this model: {e} Delete the "
                                 "folder (or pass another `backup_dir`) to start training "
                                 "over.") from None
        for entry in meta["callbacks"]:
            _restore_callback(self._callbacks, entry, arrays)
        current = (_unprefixed("rng/current/", arrays), meta["rng"]["current"])
        if not meta["step"]:
            _set_rng(model, *current)
            return {}
        return {"rng": current,
                "epoch_start_rng": (_unprefixed("rng/epoch_start/", arrays),
                                    meta["rng"]["epoch_start"]),
                "metrics": meta.get("metrics"),
                "metric_arrays": _unprefixed("metrics/", arrays)}


# ---------------------------------------------------------------------- file

def _write_training_state(f: h5py.File, model, arrays: Arrays, meta: Dict[str, Any]) -> None:
    """Writes one backup into the open (temporary) file."""
    from ..saving import hdf5_format
    f.attrs["training_state"] = json.dumps(meta)
    hdf5_format.save_weights_to_hdf5_group(f.create_group("model_weights"), model)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        hdf5_format.save_optimizer_weights_to_hdf5_group(f, optimizer)
    for name, value in arrays.items():
        f.create_dataset(name, data=value)


def _read_meta(f: h5py.File, path: str) -> Dict[str, Any]:
    text = f.attrs.get("training_state")
    meta = json.loads(text.decode("utf8") if isinstance(text, bytes) else text) if text else {}
    if meta.get("format") != _FORMAT or meta.get("version") != _VERSION:
        raise ValueError(f"The file {path} is not a tkeras BackupAndRestore backup (version "
                         f"{_VERSION}). Delete it, or pass another `backup_dir`.")
    return meta


def _read_arrays(f: h5py.File) -> Arrays:
    """Every dataset of the backup but the weights, by path."""
    arrays: Arrays = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith(("model_weights/",
                                                                  "optimizer_weights/")):
            arrays[name] = np.asarray(obj)

    f.visititems(visit)
    return arrays


def _read_optimizer_values(f: h5py.File) -> Optional[Tuple[List[str], List[np.ndarray]]]:
    if "optimizer_weights" not in f:
        return None
    from ..saving import hdf5_format
    group = f["optimizer_weights"]
    names = hdf5_format.load_attributes_from_hdf5_group(group, "weight_names")
    return names, hdf5_format.read_named_datasets(group, names)


def _prefixed(prefix: str, arrays: Arrays) -> Arrays:
    return {f"{prefix}/{k}": v for k, v in arrays.items()}


def _unprefixed(prefix: str, arrays: Arrays) -> Arrays:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _is_chief() -> bool:
    """Rank 0 writes (and deletes) the backup; every rank restores it."""
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _jsonable_shape(shape):
    if shape is None:
        return None
    if isinstance(shape, dict):
        return {k: _jsonable_shape(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_jsonable_shape(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def _shape_from_json(shape):
    if isinstance(shape, dict):
        return {k: _shape_from_json(v) for k, v in shape.items()}
    if shape and isinstance(shape[0], list):
        return [tuple(s) for s in shape]
    return tuple(shape)


# ---------------------------------------------------------------------- optimizer

def _optimizer_scalars(optimizer) -> List[torch.Tensor]:
    """The optimizer's scalar state tensors (learning rate, iterations, decay, ...)."""
    scalars = getattr(optimizer, "_device_scalars", None)
    return list(scalars()) if scalars is not None else []


def _torch_optimizer(optimizer) -> Optional[torch.optim.Optimizer]:
    """The ``torch.optim`` optimizer a ``TorchOptimizer`` wraps (None for tkeras's own)."""
    inner = getattr(optimizer, "optimizer", None)
    return inner if isinstance(inner, torch.optim.Optimizer) else None


def _capture_torch_optimizer(optimizer, arrays: Arrays) -> Dict[str, Any]:
    """A wrapped torch optimizer's ``state_dict``: its tensors as arrays, the rest as JSON."""
    state_dict = optimizer.optimizer.state_dict()
    state = {}
    for index, values in state_dict["state"].items():
        entry = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                name = f"torch_optimizer/{index}/{key}"
                arrays[name] = value.detach().cpu().numpy()
                value = {"array": name}
            entry[key] = value
        state[str(index)] = entry
    return {"state": state, "param_groups": state_dict["param_groups"],
            "iterations": int(optimizer.iterations), "learning_rate": float(optimizer.lr)}


def _restore_torch_optimizer(model, optimizer, saved: Dict[str, Any], arrays: Arrays) -> None:
    optimizer.build([w for w in model.trainable_weights if w.requires_grad])
    state = {int(index): {key: torch.as_tensor(arrays[value["array"]])
                          if isinstance(value, dict) and "array" in value else value
                          for key, value in entry.items()}
             for index, entry in saved["state"].items()}
    optimizer.optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    with torch.no_grad():
        optimizer.iterations.fill_(saved["iterations"])
    optimizer.learning_rate = saved["learning_rate"]


def _restore_optimizer(model, values, arrays: Arrays, meta: Dict[str, Any]) -> None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return
    if "torch_optimizer" in meta:
        _restore_torch_optimizer(model, optimizer, meta["torch_optimizer"], arrays)
        return
    if values is not None:
        # In the training parameters' order; their names are not compared: a subclassed
        # model built from the backed-up input shape may name its weights differently from
        # one built by its first batch. set_weights checks the count and the shapes.
        _, weights = values
        optimizer.build([w for w in model.trainable_weights if w.requires_grad])
        optimizer.set_weights(weights)
    scalars = _optimizer_scalars(optimizer)
    if len(scalars) != meta["optimizer_scalars"]:
        raise ValueError(f"its optimizer has {meta['optimizer_scalars']} scalar state values, "
                         f"this model's optimizer {type(optimizer).__name__} has "
                         f"{len(scalars)}.")
    with torch.no_grad():
        for i, t in enumerate(scalars):
            t.copy_(torch.as_tensor(arrays[f"optimizer_scalars/{i}"], dtype=t.dtype))


# ---------------------------------------------------------------------- random states

def _layer_rngs(model):
    """(key, SeededRNG) of every seeded layer generator in the model."""
    from ..backend.random_ops import SeededRNG
    for layer in model._flatten_layers():
        for attr, value in vars(layer).items():
            if isinstance(value, SeededRNG):
                yield f"{layer.name}.{attr}", value


def _capture_rng(model) -> Tuple[Arrays, Dict[str, Any]]:
    """Every random state that training draws from: arrays, plus JSON for the scalars."""
    from ..backend import random_ops
    version, words, gauss_next = random.getstate()
    algorithm, keys, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    arrays: Arrays = {"python": np.asarray(words, dtype=np.uint32), "numpy": np.asarray(keys),
                      "torch": torch.get_rng_state().numpy()}
    meta: Dict[str, Any] = {
        "python": [version, gauss_next],
        "numpy": [algorithm, int(pos), int(has_gauss), float(cached_gaussian)],
        "cuda": 0, "seeded": [], "layers": []}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states = torch.cuda.get_rng_state_all()
        meta["cuda"] = len(states)
        for i, state in enumerate(states):
            arrays[f"cuda/{i}"] = state.numpy()
    for i, ((seed, device), gen) in enumerate(list(random_ops._SEEDED_GENERATORS.items())):
        arrays[f"seeded/{i}"] = gen.get_state().numpy()
        meta["seeded"].append([int(seed), str(device)])
    for i, (key, rng) in enumerate(_layer_rngs(model)):
        gen = rng._generator
        if gen is not None:
            arrays[f"layers/{i}"] = gen.get_state().numpy()
            meta["layers"].append([key, str(gen.device), f"layers/{i}"])
    return arrays, meta


def _byte_state(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.uint8))


def _set_rng(model, arrays: Arrays, meta: Dict[str, Any]) -> None:
    from ..backend import random_ops
    version, gauss_next = meta["python"]
    random.setstate((version, tuple(int(w) for w in arrays["python"]), gauss_next))
    algorithm, pos, has_gauss, cached_gaussian = meta["numpy"]
    np.random.set_state((algorithm, arrays["numpy"], pos, has_gauss, cached_gaussian))
    torch.set_rng_state(_byte_state(arrays["torch"]))
    if meta["cuda"] and torch.cuda.is_available() and torch.cuda.device_count() >= meta["cuda"]:
        for i in range(meta["cuda"]):
            torch.cuda.set_rng_state(_byte_state(arrays[f"cuda/{i}"]), device=i)
    for i, (seed, device) in enumerate(meta["seeded"]):
        if _device_available(device):
            random_ops.seeded_generator(seed, device).set_state(_byte_state(arrays[f"seeded/{i}"]))
    rngs = dict(_layer_rngs(model))
    for key, device, name in meta["layers"]:
        rng = rngs.get(key)
        if rng is not None and _device_available(device):
            rng.generator(device).set_state(_byte_state(arrays[name]))


def _device_available(device: str) -> bool:
    kind = torch.device(device).type
    return kind == "cpu" or (kind == "cuda" and torch.cuda.is_available())


# ---------------------------------------------------------------------- metrics

def _capture_metrics(model, arrays: Arrays) -> Dict[str, Any]:
    """The running loss means and compiled metrics of the current epoch (mid-epoch backup)."""
    means = model.compiled_loss.means
    if means._sums is not None:
        arrays["metrics/loss_sums"] = means._sums.detach().cpu().numpy()
    metrics = model.compiled_metrics.metrics
    for i, metric in enumerate(metrics):
        for j, var in enumerate(metric.variables):
            arrays[f"metrics/{i}/{j}"] = var.detach().cpu().numpy()
    tracked = _tracked_metrics(model)
    for i, metric in enumerate(tracked):
        for j, var in enumerate(metric.variables):
            arrays[f"metrics/tracked/{i}/{j}"] = var.detach().cpu().numpy()
    return {"loss_names": list(means.names), "loss_count": means._count,
            "metrics": [[m.name, len(m.variables)] for m in metrics],
            "tracked": [[m.name, len(m.variables)] for m in tracked]}


def _tracked_metrics(model) -> list:
    """The metrics in ``model.metrics`` other than the compiled ones: the trackers of a
    custom ``train_step``, which exist before the first batch."""
    from ..engine.compile_utils import RunningMeanView
    compiled = [id(m) for m in model.compiled_metrics.metrics]
    return [m for m in model.metrics if not isinstance(m, RunningMeanView)
            and id(m) not in compiled and hasattr(m, "variables")]


def _restore_epoch_metrics(model, pending: Dict[str, Any]) -> None:
    """Sets the epoch's running metrics when ``fit`` resumes inside it. The loss means of a
    functional model and the trackers of a custom ``train_step`` exist before the first
    batch and are set now; metric objects made by the first batch get the backed-up state
    added after it (``_add_pending_metrics``)."""
    saved, arrays = pending["metrics"], pending["metric_arrays"]
    means = model.compiled_loss.means
    if model.compiled_loss.built and means.names == saved["loss_names"]:
        sums = arrays.get("loss_sums")
        if sums is not None:
            device = next(iter(model.parameters())).device
            means._sums = torch.as_tensor(sums).to(device).clone()
        means._count = saved["loss_count"]
        pending["loss_set"] = True
    tracked = _tracked_metrics(model)
    if [[m.name, len(m.variables)] for m in tracked] == saved.get("tracked"):
        with torch.no_grad():
            for i, metric in enumerate(tracked):
                for j, var in enumerate(metric.variables):
                    var.copy_(torch.as_tensor(arrays[f"tracked/{i}/{j}"]).to(var))


def _add_pending_metrics(model, pending: Dict[str, Any]) -> None:
    """After the first resumed batch: the backed-up totals are added to the metric states.
    Keras's metrics accumulate with one addition per batch, so the sum equals the
    uninterrupted run's (floating-point addition is commutative). The loss means of a
    subclassed model (made by its first batch) are added too; their update is a fused
    multiply-add, so there the resumed epoch's logged loss may differ in the last bit."""
    saved, arrays = pending["metrics"], pending["metric_arrays"]
    if not pending.get("loss_set"):
        means = model.compiled_loss.means
        sums = arrays.get("loss_sums")
        if means.names == saved["loss_names"] and sums is not None and means._sums is not None:
            with torch.no_grad():
                means._sums.add_(torch.as_tensor(sums).to(means._sums))
            means._count += saved["loss_count"]
    metrics = model.compiled_metrics.metrics
    if [[m.name, len(m.variables)] for m in metrics] != saved["metrics"]:
        return
    with torch.no_grad():
        for i, metric in enumerate(metrics):
            for j, var in enumerate(metric.variables):
                var.add_(torch.as_tensor(arrays[f"{i}/{j}"]).to(var))


# ---------------------------------------------------------------------- callbacks

def _backup_attributes(callback) -> Tuple[str, ...]:
    return tuple(getattr(callback, "_backup_attributes", ()))


def _class_rank(callbacks: List[Callback], callback) -> int:
    """k for the k-th callback of its class: how a backup finds it again after a restart."""
    same = [cb for cb in callbacks if type(cb).__name__ == type(callback).__name__]
    return next(k for k, cb in enumerate(same) if cb is callback)


def _capture_callback(callback, index: int, rank: int, arrays: Arrays) -> Dict[str, Any]:
    values: Dict[str, Any] = {}
    for attr in _backup_attributes(callback):
        value = getattr(callback, attr, None)
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], torch.Tensor):
            for k, t in enumerate(value):
                arrays[f"callbacks/{index}/{attr}/{k}"] = t.detach().cpu().numpy()
            values[attr] = {"tensors": len(value), "index": index}
        else:
            values[attr] = _encode(value, callback, attr)
    return {"class_name": type(callback).__name__, "rank": rank, "values": values}


def _restore_callback(callbacks: List[Callback], entry: Dict[str, Any], arrays: Arrays) -> None:
    """Sets the backed-up attributes on the callback of this run with the same class and
    rank (a callback missing from this run is skipped)."""
    same = [cb for cb in callbacks if type(cb).__name__ == entry["class_name"]
            and _backup_attributes(cb)]
    if entry["rank"] >= len(same):
        return
    callback = same[entry["rank"]]
    for attr, value in entry["values"].items():
        if isinstance(value, dict) and "tensors" in value:
            device = _first_device(callback.model)
            setattr(callback, attr, [
                torch.as_tensor(arrays[f"callbacks/{value['index']}/{attr}/{k}"]).to(device)
                for k in range(value["tensors"])])
        else:
            setattr(callback, attr, _decode(value))


def _first_device(model) -> torch.device:
    first = next(iter(model.parameters()), None) if model is not None else None
    return first.device if first is not None else torch.device("cpu")


def _encode(value, callback, attr: str):
    """A callback attribute as JSON, keeping numpy scalar types (their arithmetic differs)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return {"numpy": value.dtype.str, "value": value.item()}
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return {"numpy": value.detach().cpu().numpy().dtype.str,
                "value": value.detach().cpu().item()}
    raise TypeError(f"BackupAndRestore cannot back up `{attr}` of callback "
                    f"{type(callback).__name__}: a {type(value).__name__} is not a number, "
                    "a string or a list of tensors.")


def _decode(value):
    if isinstance(value, dict) and "numpy" in value:
        return np.dtype(value["numpy"]).type(value["value"])
    return value
