"""The training API of ``Model``: compile, fit, evaluate, predict and their variants.

``compile`` resolves the optimizer, losses and metrics once. ``fit`` converts array data
to device tensors once and runs one step function per batch: forward (``training=True``),
per-output losses with their weights and sample weights, regularization losses,
``torch.autograd.grad``, the optimizer's ``apply`` (multi-tensor ops), weight
constraints, metric updates. The step reads nothing back from the device; values are
read for the progress bar (throttled), for callbacks that read batch logs, and at the end
of each epoch.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from .. import _warn
from . import data_adapter as da
from .base_layer import call_context
from .keras_tensor import flatten, pack_like

class StepRunner:
    """The per-``compile`` machinery: the train / test / predict steps and the logs.

    Built once per ``compile`` (and refreshed by every ``fit``, so layers frozen since
    are respected): the trainable parameters, the weight regularizers and constraints
    are collected here so that the step itself is a short, fixed sequence of tensor ops.

    Args:
        model: the compiled model.
    """

    def __init__(self, model):
        self.model = model
        self.compiled_loss = model.compiled_loss
        self.compiled_metrics = model.compiled_metrics
        self.n_outputs = 0  # known after the first step
        self.refresh()
        # compile(jit_compile=True): forward and loss (and through AOTAutograd their backward)
        # run as one torch.compile'd graph; the optimizer update and metrics stay eager.
        jit = (model.__dict__.get("_compile_config") or {}).get("jit_compile") is True
        self._training_loss_fn = torch.compile(self._training_loss) if jit \
            else self._training_loss

    # ------------------------------------------------------------ set-up

    def refresh(self) -> None:
        """Collects trainable parameters, regularizers, constraints and the device."""
        model = self.model
        if model._is_compiled:
            self.optimizer = model.optimizer
        self.params = [w for w in model.trainable_weights if w.requires_grad]
        self.regularizers = model.weight_regularization_pairs()
        self.constraints = model.constraint_pairs()
        self.callable_losses = [fn for layer in model._flatten_layers()
                                for fn in layer._callable_losses]
        self.device = self._model_device()

    def _model_device(self) -> torch.device:
        first = next(iter(self.model.parameters()), None)
        return first.device if first is not None else torch.device("cpu")

    def follow_device(self) -> None:
        """Refreshes everything if the model moved to another device (a cheap check)."""
        if self._model_device() != self.device:
            self.refresh()

    def data_spec(self) -> da.DataSpec:
        return da.DataSpec(self.model, self.device)

    def output_names(self, n_outputs: int) -> List[str]:
        names = getattr(self.model, "output_names", None)
        if getattr(self.model, "_is_graph_network", False) and names:
            return list(names)
        return [f"output_{i + 1}" for i in range(n_outputs)]

    def _build(self, outputs: List[torch.Tensor], ys: List[Optional[torch.Tensor]]) -> None:
        if not self.compiled_loss.built:
            self.compiled_loss.resolve_names(self.output_names(len(outputs)))
            self.compiled_metrics.resolve_names(self.compiled_loss.output_names)
        self.compiled_metrics.build(ys, outputs, self.compiled_loss.losses)
        self.n_outputs = len(outputs)
        self.refresh()  # a model built by this first call has its weights only now

    # ------------------------------------------------------------ steps

    def _forward(self, inputs,
                 training: bool) -> Tuple[List[torch.Tensor], Optional[torch.Tensor]]:
        y_pred = self.model(inputs, training=training)
        outputs = _flat_outputs(y_pred)
        return outputs, self._regularization(list(call_context().losses))

    def _regularization(self, call_losses: List[torch.Tensor]) -> Optional[torch.Tensor]:
        terms = [reg(w) for w, reg in self.regularizers]
        terms.extend(call_losses)
        terms.extend(torch.as_tensor(fn()) for fn in self.callable_losses)
        if not terms:
            return None
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def _targets(self, batch: da.Batch, n: int):
        ys = batch.y if batch.y is not None else [None] * n
        sws = batch.sample_weight if batch.sample_weight is not None else [None] * n
        if len(ys) != n:
            raise ValueError(f"The model has {n} output(s) but the data provides {len(ys)} "
                             "target array(s). Pass one target per output.")
        return ys, sws

    def _training_loss(self, inputs, ys, sws) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """The total training loss (the loss means updated) and the outputs."""
        outputs, regularization = self._forward(inputs, True)
        return self.compiled_loss(ys, outputs, sws, regularization), outputs

    def train_step(self, batch: da.Batch) -> None:
        """One optimization step on ``batch`` (no host reads)."""
        if self.compiled_metrics.built:
            ys, sws = self._targets(batch, self.n_outputs)
            total, outputs = self._training_loss_fn(batch.model_input(), ys, sws)
        else:  # the first step: the outputs build the metrics before the loss is taken
            outputs, regularization = self._forward(batch.model_input(), True)
            ys, sws = self._targets(batch, len(outputs))
            self._build(outputs, ys)
            total = self.compiled_loss(ys, outputs, sws, regularization)
        params = self.params
        if params:
            grads = torch.autograd.grad(total, params, allow_unused=True)
            self.optimizer.apply(params, list(grads))
            if self.constraints:
                self._apply_constraints()
        self.compiled_metrics.update(ys, outputs, sws)

    def _apply_constraints(self) -> None:
        with torch.no_grad():
            for weight, constraint in self.constraints:
                weight.copy_(constraint(weight))

    def test_step(self, batch: da.Batch) -> None:
        """Loss and metric updates for ``batch`` in inference mode."""
        with torch.no_grad():
            outputs, regularization = self._forward(batch.model_input(), False)
            ys, sws = self._targets(batch, len(outputs))
            if not self.compiled_metrics.built:
                self._build(outputs, ys)
            self.compiled_loss(ys, outputs, sws, regularization)
            self.compiled_metrics.update(ys, outputs, sws)

    def predict_step(self, batch: da.Batch) -> List[torch.Tensor]:
        with torch.no_grad():
            return _flat_outputs(self.model(batch.model_input(), training=False))

    # ------------------------------------------------------------ logs

    @property
    def metrics(self) -> list:
        return self.compiled_loss.metrics + self.compiled_metrics.metrics

    def metrics_names(self) -> List[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        self.compiled_loss.means.reset()
        self.compiled_metrics.reset()

    def logs(self) -> Dict[str, Any]:
        """The current metric values as Python floats (one read from the device)."""
        metrics = self.compiled_metrics.metrics
        parts = [self.compiled_loss.means.results().to(self.device)]
        parts += [m.result().detach().reshape(-1).to(self.device, parts[0].dtype) for m in metrics]
        values = _to_numpy(torch.cat(parts))
        names = self.compiled_loss.means.names
        logs: Dict[str, Any] = {name: float(v) for name, v in zip(names, values)}
        offset = len(names)
        for m, part in zip(metrics, parts[1:]):
            size = part.numel()
            chunk = values[offset:offset + size]
            logs[m.name] = float(chunk[0]) if size == 1 else chunk.copy()
            offset += size
        return logs


def _flat_outputs(y_pred) -> List[torch.Tensor]:
    if isinstance(y_pred, torch.Tensor):
        return [y_pred]
    return flatten(y_pred)


def _legacy_epochs(epochs: int, kwargs: Dict[str, Any], where: str) -> int:
    if "nb_epoch" in kwargs:
        warnings.warn(f"The `nb_epoch` argument in `{where}` has been renamed `epochs`.",
                      _warn.TkerasDeprecationWarning, stacklevel=3)
        epochs = kwargs.pop("nb_epoch")
    if kwargs:
        raise TypeError(f"`{where}` got unexpected keyword argument(s): {sorted(kwargs)}")
    return epochs


def _verbosity(verbose) -> int:
    """``verbose`` as 0, 1 or 2 (tf-keras's ``"auto"`` is 1)."""
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def _validation_due(epoch: int, validation_freq) -> bool:
    if isinstance(validation_freq, int):
        if validation_freq < 1:
            raise ValueError("`validation_freq` must be a positive integer or a list of epochs. "
                             f"Received: validation_freq={validation_freq}")
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


from ..backend.variables import to_numpy as _to_numpy  # noqa: E402 (bfloat16 -> float32)


def _results(logs: Dict[str, Any], names: List[str], return_dict: bool):
    if return_dict:
        return logs
    values = [logs[n] for n in names if n in logs]
    return values[0] if len(values) == 1 else values


class TrainerMixin:
    """Mixed into ``Model``: ``compile``, ``fit``, ``evaluate``, ``predict`` and variants."""

    optimizer = None
    loss = None
    loss_weights = None
    compiled_loss = None
    compiled_metrics = None
    history = None
    stop_training = False
    _is_compiled = False

    # ------------------------------------------------------------ compile

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                sample_weight_mode=None, weighted_metrics=None, run_eagerly=None,
                steps_per_execution=None, jit_compile=None, target_tensors=None,
                **kwargs) -> None:
        """Configures the model for training.

        Args:
            optimizer: name (``'sgd'``, ``'adam'`` ...), optimizer object, or a
                ``torch.optim`` optimizer.
            loss: name, function ``f(y_true, y_pred)`` or ``Loss`` object; for several
                outputs one for all, a list (one per output) or a dict by output name.
            metrics: list of metrics (names such as ``'acc'`` / ``'accuracy'`` / ``'mae'``,
                functions, ``Metric`` objects); per output as a list of lists or a dict.
            loss_weights: list or dict of scalars weighting each output's loss.
            sample_weight_mode: accepted for Keras 2 compatibility (``'temporal'``
                sample weights of shape ``(samples, timesteps)`` work either way).
            weighted_metrics: metrics that also receive the sample weights.
            run_eagerly: ``True`` runs the step as plain Python even with ``jit_compile``
                set later (the default runs eagerly anyway; see ``jit_compile``).
            steps_per_execution: accepted and ignored.
            jit_compile: ``True`` runs the training step's forward pass and loss (and
                their backward) as one ``torch.compile``'d graph; the first steps then
                take the compile time. None, False or ``'auto'``: eager, the default,
                since bench/ measures eager faster on CPU (see ``bench/bench_fit.py --jit``).
            target_tensors: not supported (Keras 2 graph-mode feature).

        Example:
            >>> model.compile(optimizer='rmsprop', loss='binary_crossentropy',
            ...               metrics=['accuracy'])
        """
        from .. import optimizers
        from .compile_utils import CompiledLoss, CompiledMetrics, check_losses
        kwargs.pop("experimental_run_tf_function", None)
        kwargs.pop("distribute", None)
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {sorted(kwargs)}. "
                            "Valid keyword arguments include optimizer, loss, metrics, "
                            "loss_weights, sample_weight_mode, weighted_metrics.")
        if target_tensors is not None:
            raise ValueError("`target_tensors` is not supported: pass targets to `fit`.")
        if run_eagerly and jit_compile is True:
            raise ValueError("You cannot set `run_eagerly=True` and `jit_compile=True` at the "
                             "same time.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self.loss_weights = loss_weights
        self.compiled_loss = CompiledLoss(loss, loss_weights)
        self.compiled_metrics = CompiledMetrics(metrics, weighted_metrics)
        if getattr(self, "_is_graph_network", False):
            self.compiled_loss.resolve_names(self.output_names)
            self.compiled_metrics.resolve_names(self.output_names)
        else:  # outputs unknown until the first batch: check the names now anyway
            check_losses(loss)
        self.__dict__["_compile_config"] = {
            "optimizer": optimizer, "loss": loss, "metrics": metrics,
            "loss_weights": loss_weights, "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly, "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile}
        self.__dict__["_step_runner"] = None
        self._is_compiled = True
        self.stop_training = False

    @property
    def run_eagerly(self) -> bool:
        """Whether the training step runs as plain Python: True unless the model was compiled
        with ``jit_compile=True``. Setting it to True turns a compiled step back to eager."""
        config = self.__dict__.get("_compile_config") or {}
        return config.get("jit_compile") is not True

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        config = self.__dict__.get("_compile_config")
        if value and config is not None and config.get("jit_compile") is True:
            config["jit_compile"] = False
            self.__dict__["_step_runner"] = None  # the next step builds an eager runner
        if config is not None:
            config["run_eagerly"] = bool(value)

    def get_compile_config(self) -> Optional[Dict[str, Any]]:
        """The last ``compile``'s arguments in tf-keras's ``compile_config`` form (the
        optimizer, losses and metrics serialized), or None before ``compile``."""
        from .compile_utils import serialize_structure
        config = self.__dict__.get("_compile_config")
        if config is None:
            return None
        out = dict(config)
        out["optimizer"] = serialize_structure(self.optimizer)
        for key in ("loss", "metrics", "weighted_metrics"):
            out[key] = serialize_structure(config[key])
        return out

    def compile_from_config(self, config: Dict[str, Any]) -> None:
        """Compiles the model from ``get_compile_config()``'s output.

        Args:
            config: ``{"optimizer", "loss", "metrics", "loss_weights", ...}``.
        """
        from .. import optimizers
        from .compile_utils import deserialize_structure
        config = dict(config)
        known = ("optimizer", "loss", "metrics", "loss_weights", "weighted_metrics",
                 "sample_weight_mode", "run_eagerly", "steps_per_execution", "jit_compile")
        args = {k: config[k] for k in known if k in config}
        if args.get("optimizer") is not None:
            args["optimizer"] = optimizers.get(args["optimizer"])
        else:
            args.pop("optimizer", None)
        args["loss"] = deserialize_structure(args.get("loss"), "loss")
        for key in ("metrics", "weighted_metrics"):
            args[key] = deserialize_structure(args.get(key), "metric")
        self.compile(**args)

    def _runner(self, refresh: bool = False) -> StepRunner:
        if not self._is_compiled:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")
        runner = self.__dict__.get("_step_runner")
        if runner is None:
            runner = StepRunner(self)
            self.__dict__["_step_runner"] = runner
        elif refresh:
            runner.refresh()
        else:
            runner.follow_device()
        return runner

    def _predict_runner(self) -> StepRunner:
        if self._is_compiled:
            return self._runner()
        runner = StepRunner.__new__(StepRunner)
        runner.model = self
        runner.refresh()
        return runner

    # ------------------------------------------------------------ metrics

    @property
    def metrics(self) -> list:
        """The loss means and compiled metrics (after the first batch), Keras's order."""
        runner = self.__dict__.get("_step_runner")
        return runner.metrics if runner is not None else []

    @property
    def metrics_names(self) -> List[str]:
        """Names of the values ``evaluate`` / ``train_on_batch`` return: ``['loss', ...]``."""
        runner = self.__dict__.get("_step_runner")
        if runner is not None and self.compiled_metrics.built:
            return runner.metrics_names()
        if self.compiled_loss is not None and self.compiled_loss.built:
            return list(self.compiled_loss.means.names) + self.compiled_metrics.expected_names()
        return []

    def reset_metrics(self) -> None:
        """Resets the state of the loss means and of every compiled metric."""
        runner = self.__dict__.get("_step_runner")
        if runner is not None:
            runner.reset_metrics()

    # ------------------------------------------------------------ fit

    def fit(self, x=None, y=None, batch_size: Optional[int] = None, epochs: int = 1,
            verbose=1, callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle=True, class_weight=None, sample_weight=None, initial_epoch: int = 0,
            steps_per_epoch: Optional[int] = None, validation_steps: Optional[int] = None,
            validation_batch_size: Optional[int] = None, validation_freq=1,
            max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
            **kwargs):
        """Trains the model for a number of epochs.

        Args:
            x: inputs: arrays / tensors (a list or a dict by input name for several
                inputs), a generator or ``Sequence`` yielding ``(x, y[, sample_weight])``,
                or a torch ``Dataset`` / ``DataLoader``.
            y: targets (arrays only), a list or dict by output name for several outputs.
            batch_size: samples per batch (default 32).
            epochs: index of the last epoch (``nb_epoch`` is the Keras 1 name).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: list of ``tkeras.callbacks.Callback``.
            validation_split: fraction of the array data (the last samples, taken before
                shuffling) held out for validation.
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, val_sample_weights)``,
                or a generator / Sequence / DataLoader.
            shuffle: True, False or ``'batch'`` (shuffle in batch-sized chunks).
            class_weight: ``{class index: weight}`` scaling the loss of each sample.
            sample_weight: per-sample weights (``(samples,)``, or ``(samples, timesteps)``).
            initial_epoch: epoch to start from (to resume training).
            steps_per_epoch: batches per epoch (default: the whole data, or the
                generator until exhausted).
            validation_steps: validation batches (default: the whole validation data).
            validation_batch_size: batch size of the validation (default ``batch_size``).
            validation_freq: validate every N epochs, or on the listed epochs (1-based).
            max_queue_size, workers, use_multiprocessing: for generators and Sequences.

        Returns:
            A ``History`` whose ``history`` dict holds the epoch logs.
        """
        epochs = _legacy_epochs(epochs, kwargs, "fit")
        verbose = _verbosity(verbose)
        runner = self._runner(refresh=True)
        self.stop_training = False
        spec = runner.data_spec()
        train, val = self._fit_adapters(
            runner, spec, x, y, sample_weight, class_weight, batch_size, shuffle,
            steps_per_epoch, validation_split, validation_data, validation_steps,
            validation_batch_size, workers, use_multiprocessing, max_queue_size)
        from ..callbacks import CallbackList
        callback_list = CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=train.num_batches, batch_size=batch_size,
            samples=train.num_samples, do_validation=val is not None,
            metrics=self._expected_log_names(val is not None))
        try:
            self._fit_loop(runner, train, val, callback_list, epochs, initial_epoch,
                           validation_freq)
        finally:
            train.close()
            if val is not None:
                val.close()
        return callback_list.history

    def _fit_adapters(self, runner, spec, x, y, sample_weight, class_weight, batch_size,
                      shuffle, steps_per_epoch, validation_split, validation_data,
                      validation_steps, validation_batch_size, workers, use_multiprocessing,
                      max_queue_size):
        n_outputs = len(spec.output_names) if spec.output_names is not None else None
        common = dict(workers=workers, use_multiprocessing=use_multiprocessing,
                      max_queue_size=max_queue_size)
        val = None
        if validation_split and validation_data is None:
            train, val = self._split_arrays(runner, spec, x, y, sample_weight, class_weight,
                                            batch_size, shuffle, steps_per_epoch,
                                            validation_split, validation_batch_size)
        else:
            train = da.get_data_adapter(x, y, sample_weight, spec, batch_size=batch_size,
                                        shuffle=shuffle, steps=steps_per_epoch,
                                        with_targets=True, n_outputs=n_outputs,
                                        class_weight=class_weight, **common)
            if isinstance(train, da.ArrayAdapter):
                self._check_targets(runner, train._y)
        if validation_data is not None:
            vx, vy, vsw = self._unpack_validation_data(validation_data)
            val = da.get_data_adapter(vx, vy, vsw, spec,
                                      batch_size=validation_batch_size or batch_size,
                                      shuffle=False, steps=validation_steps, with_targets=True,
                                      n_outputs=n_outputs, what="validation_data", **common)
        return train, val

    @staticmethod
    def _unpack_validation_data(validation_data):
        if isinstance(validation_data, (tuple, list)):
            if len(validation_data) not in (2, 3):
                raise ValueError(
                    "When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
                    "(x_val, y_val, val_sample_weights) items, however it contains "
                    f"{len(validation_data)} items")
            vx, vy = validation_data[0], validation_data[1]
            vsw = validation_data[2] if len(validation_data) == 3 else None
            return vx, vy, vsw
        return validation_data, None, None

    def _split_arrays(self, runner, spec, x, y, sample_weight, class_weight, batch_size,
                      shuffle, steps_per_epoch, validation_split, validation_batch_size):
        if not (da.is_array_like(x) and (y is None or da.is_array_like(y))):
            raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays, "
                             f"found following types in the input: {type(x).__name__}")
        if not 0 < validation_split < 1:
            raise ValueError("`validation_split` must be a float between 0 and 1. Received: "
                             f"validation_split={validation_split}")
        xs, ys, sws = da.make_array_tensors(spec, x, y, sample_weight, True)
        n = da.check_cardinality(xs, ys, sws)
        split_at = int(math.floor(n * (1.0 - validation_split)))
        if split_at == 0 or split_at == n:
            raise ValueError(
                f"Training data contains {n} samples, which is not sufficient to split it "
                "into a validation and training set as specified by `validation_split="
                f"{validation_split}`. Either provide more data, or a different value for the "
                "`validation_split` argument.")
        (tx, vx), (ty, vy), (tsw, vsw) = (da.split_tensors(g, split_at) for g in (xs, ys, sws))
        self._check_targets(runner, ty)
        if ty is not None and class_weight:
            tsw = da.make_class_weight_fn(class_weight, len(ty), spec.device, check=True)(ty, tsw)
        keys = spec.x_keys(x)
        train = da.ArrayAdapter(tx, ty, tsw, batch_size=batch_size or 32, shuffle=shuffle,
                                steps=steps_per_epoch, x_keys=keys)
        val = da.ArrayAdapter(vx, vy, vsw, batch_size=validation_batch_size or batch_size or 32,
                              x_keys=keys)
        return train, val

    def _check_targets(self, runner, ys) -> None:
        """Once per ``fit``: target shapes against the outputs, sparse labels in range."""
        if not ys or not getattr(self, "_is_graph_network", False):
            return
        from .compile_utils import check_targets_against_outputs
        if not self.compiled_loss.built:
            self.compiled_loss.resolve_names(self.output_names)
        check_targets_against_outputs(ys, self.outputs, self.compiled_loss.losses,
                                      self.output_names)

    def _expected_log_names(self, with_validation: bool) -> List[str]:
        names = self.metrics_names or ["loss"]
        return names + (["val_" + n for n in names] if with_validation else [])

    def _fit_loop(self, runner: StepRunner, train, val, callbacks, epochs: int,
                  initial_epoch: int, validation_freq) -> None:
        from ..callbacks import LazyLogs
        callbacks.on_train_begin()
        batch_hooks = callbacks.implements_batch_hooks("train")
        epoch_logs: Dict[str, Any] = {}
        for epoch in range(initial_epoch, epochs):
            runner.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            steps = 0
            for step, batch in enumerate(train.epoch()):
                if batch_hooks:
                    callbacks.on_train_batch_begin(step, {"batch": step, "size": batch.size})
                runner.train_step(batch)
                steps += 1
                if batch_hooks:
                    callbacks.on_train_batch_end(
                        step, LazyLogs(runner.logs, {"batch": step, "size": batch.size}))
                if self.stop_training:
                    break
            if steps == 0:
                da.warn_out_of_data(train.num_batches, epochs)
                break
            train.on_epoch_end()
            epoch_logs = runner.logs()
            if val is not None and _validation_due(epoch, validation_freq):
                val_logs = self._test_loop(runner, val, callbacks)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callbacks.on_train_end(epoch_logs)

    def _test_loop(self, runner: StepRunner, adapter, callbacks) -> Dict[str, Any]:
        from ..callbacks import LazyLogs
        runner.reset_metrics()
        callbacks.on_test_begin()
        batch_hooks = callbacks.implements_batch_hooks("test")
        steps = 0
        for step, batch in enumerate(adapter.epoch()):
            if batch_hooks:
                callbacks.on_test_batch_begin(step, {"batch": step, "size": batch.size})
            runner.test_step(batch)
            steps += 1
            if batch_hooks:
                callbacks.on_test_batch_end(
                    step, LazyLogs(runner.logs, {"batch": step, "size": batch.size}))
        if steps == 0:
            raise ValueError("Expected input data to be non-empty: the evaluation data "
                             "yielded no batches.")
        adapter.on_epoch_end()
        logs = runner.logs()
        callbacks.on_test_end(logs)
        return logs

    # ------------------------------------------------------------ evaluate / predict

    def evaluate(self, x=None, y=None, batch_size: Optional[int] = None, verbose=1,
                 sample_weight=None, steps: Optional[int] = None, callbacks=None,
                 max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                 return_dict: bool = False, **kwargs):
        """Returns the loss and metric values of the model on the given data.

        Args:
            x, y, sample_weight: the data (as in ``fit``).
            batch_size: samples per batch (default 32).
            verbose: 0 silent, 1 progress bar.
            steps: number of batches (default: all the data).
            callbacks: callbacks receiving the test hooks.
            max_queue_size, workers, use_multiprocessing: for generators and Sequences.
            return_dict: return ``{name: value}`` instead of a list.

        Returns:
            The scalar loss when there are no metrics, else ``[loss, metric, ...]`` in
            ``model.metrics_names`` order.
        """
        if kwargs:
            raise TypeError(f"`evaluate` got unexpected keyword argument(s): {sorted(kwargs)}")
        verbose = _verbosity(verbose)
        runner = self._runner()
        spec = runner.data_spec()
        n_outputs = len(spec.output_names) if spec.output_names is not None else None
        adapter = da.get_data_adapter(x, y, sample_weight, spec, batch_size=batch_size,
                                      shuffle=False, steps=steps, with_targets=True,
                                      n_outputs=n_outputs, workers=workers,
                                      use_multiprocessing=use_multiprocessing,
                                      max_queue_size=max_queue_size)
        from ..callbacks import CallbackList
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=adapter.num_batches)
        try:
            logs = self._test_loop(runner, adapter, callback_list)
        finally:
            adapter.close()
        return _results(logs, runner.metrics_names(), return_dict)

    def predict(self, x, batch_size: Optional[int] = None, verbose=0, steps: Optional[int] = None,
                callbacks=None, max_queue_size: int = 10, workers: int = 1,
                use_multiprocessing: bool = False):
        """Generates output predictions for the input samples, batch by batch.

        Args:
            x: inputs (arrays, a list / dict of arrays, a generator, a Sequence, a torch
                Dataset or DataLoader).
            batch_size: samples per batch (default 32).
            verbose: 0 silent, 1 progress bar.
            steps: number of batches (default: all the data).
            callbacks: callbacks receiving the predict hooks.
            max_queue_size, workers, use_multiprocessing: for generators and Sequences.

        Returns:
            A numpy array (a list of arrays for several outputs).
        """
        verbose = _verbosity(verbose)
        runner = self._predict_runner()
        spec = runner.data_spec()
        adapter = da.get_data_adapter(x, None, None, spec, batch_size=batch_size, shuffle=False,
                                      steps=steps, with_targets=False, n_outputs=None,
                                      workers=workers, use_multiprocessing=use_multiprocessing,
                                      max_queue_size=max_queue_size)
        from ..callbacks import CallbackList
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=adapter.num_batches)
        try:
            outputs = self._predict_loop(runner, adapter, callback_list)
        finally:
            adapter.close()
        return self._pack_predictions(outputs)

    def _predict_loop(self, runner: StepRunner, adapter, callbacks) -> List[torch.Tensor]:
        from ..callbacks import LazyLogs
        callbacks.on_predict_begin()
        batch_hooks = callbacks.implements_batch_hooks("predict")
        chunks: List[List[torch.Tensor]] = []
        for step, batch in enumerate(adapter.epoch()):
            if batch_hooks:
                callbacks.on_predict_batch_begin(step, {"batch": step, "size": batch.size})
            outputs = runner.predict_step(batch)
            chunks.append(outputs)
            if batch_hooks:  # the outputs are copied to numpy only if a callback reads them
                callbacks.on_predict_batch_end(step, LazyLogs(
                    lambda outs=outputs: {"outputs": [_to_numpy(o) for o in outs]},
                    {"batch": step, "size": batch.size}))
        if not chunks:
            raise ValueError("Expected input data to be non-empty: `predict` received no "
                             "batches.")
        callbacks.on_predict_end()
        return [torch.cat([c[i] for c in chunks]) for i in range(len(chunks[0]))]

    def _pack_predictions(self, outputs: List[torch.Tensor]):
        arrays = [_to_numpy(o) for o in outputs]
        if len(arrays) == 1:
            return arrays[0]
        nested = getattr(self, "_nested_outputs", None)
        if isinstance(nested, dict):
            return pack_like(nested, arrays)
        return arrays

    def predict_classes(self, x, batch_size: int = 32, verbose=0) -> np.ndarray:
        """Class predictions: the argmax of ``predict`` (or ``> 0.5`` for one unit).

        Args:
            x: inputs.
            batch_size: samples per batch.
            verbose: 0 or 1.
        """
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def predict_proba(self, x, batch_size: int = 32, verbose=0) -> np.ndarray:
        """``predict``, warning when the outputs are not probabilities.

        Args:
            x: inputs.
            batch_size: samples per batch.
            verbose: 0 or 1.
        """
        preds = self.predict(x, batch_size=batch_size, verbose=verbose)
        if preds.min() < 0.0 or preds.max() > 1.0:
            warnings.warn("Network returning invalid probability values. The last layer might "
                          "not normalize predictions into probabilities (like softmax or "
                          "sigmoid would).", _warn.TkerasWarning, stacklevel=2)
        return preds

    # ------------------------------------------------------------ single batches

    def _single_batch(self, runner: StepRunner, x, y, sample_weight, class_weight=None) -> da.Batch:
        spec = runner.data_spec()
        xs = spec.to_x(x)
        ys = spec.to_y(y) if y is not None else None
        sws = spec.to_sample_weight(sample_weight, len(ys)) if ys is not None else None
        if ys is not None:
            da.check_cardinality(xs, ys, sws)
            if class_weight:
                sws = da.make_class_weight_fn(class_weight, len(ys), spec.device)(ys, sws)
        if not da.check_cardinality(xs, None, None):
            raise ValueError("Expected input data to be non-empty: the batch holds 0 samples.")
        return da.Batch(xs, ys, sws, spec.x_keys(x))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics: bool = True, return_dict: bool = False):
        """Runs one gradient update on a single batch.

        Args:
            x, y, sample_weight: one batch of data (arrays, lists or dicts).
            class_weight: ``{class: weight}`` for this batch.
            reset_metrics: reset the metrics first, so the values are this batch's only
                (else they accumulate over calls).
            return_dict: return ``{name: value}``.

        Returns:
            The loss of the batch (computed before the update) or ``[loss, metrics...]``.
        """
        runner = self._runner()
        batch = self._single_batch(runner, x, y, sample_weight, class_weight)
        if reset_metrics:
            runner.reset_metrics()
        runner.train_step(batch)
        logs = runner.logs()
        if reset_metrics:  # as Keras: a later call with reset_metrics=False starts afresh
            runner.reset_metrics()
        return _results(logs, runner.metrics_names(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics: bool = True,
                      return_dict: bool = False):
        """Loss and metrics of the model on a single batch (no update).

        Args:
            x, y, sample_weight: one batch of data.
            reset_metrics: reset the metrics first (values of this batch only).
            return_dict: return ``{name: value}``.
        """
        runner = self._runner()
        batch = self._single_batch(runner, x, y, sample_weight)
        if reset_metrics:
            runner.reset_metrics()
        runner.test_step(batch)
        logs = runner.logs()
        if reset_metrics:  # as Keras: a later call with reset_metrics=False starts afresh
            runner.reset_metrics()
        return _results(logs, runner.metrics_names(), return_dict)

    def predict_on_batch(self, x):
        """Predictions for a single batch, as numpy (a list for several outputs)."""
        runner = self._predict_runner()
        batch = self._single_batch(runner, x, None, None)
        return self._pack_predictions(runner.predict_step(batch))

    # ------------------------------------------------------------ Keras 2 generator API

    def fit_generator(self, generator, steps_per_epoch: Optional[int] = None, epochs: int = 1,
                      verbose=1, callbacks=None, validation_data=None,
                      validation_steps: Optional[int] = None, validation_freq=1,
                      class_weight=None, max_queue_size: int = 10, workers: int = 1,
                      use_multiprocessing: bool = False, shuffle: bool = True,
                      initial_epoch: int = 0, **kwargs):
        """``fit`` on a generator or ``Sequence`` (Keras 2's API; ``fit`` accepts them too)."""
        epochs = _legacy_epochs(epochs, kwargs, "fit_generator")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                        verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, validation_freq=validation_freq,
                        class_weight=class_weight, max_queue_size=max_queue_size,
                        workers=workers, use_multiprocessing=use_multiprocessing,
                        shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps: Optional[int] = None, callbacks=None,
                           max_queue_size: int = 10, workers: int = 1,
                           use_multiprocessing: bool = False, verbose=0):
        """``evaluate`` on a generator or ``Sequence`` (Keras 2's API)."""
        return self.evaluate(generator, steps=steps, callbacks=callbacks,
                             max_queue_size=max_queue_size, workers=workers,
                             use_multiprocessing=use_multiprocessing, verbose=verbose)

    def predict_generator(self, generator, steps: Optional[int] = None, callbacks=None,
                          max_queue_size: int = 10, workers: int = 1,
                          use_multiprocessing: bool = False, verbose=0):
        """``predict`` on a generator or ``Sequence`` (Keras 2's API)."""
        return self.predict(generator, steps=steps, callbacks=callbacks,
                            max_queue_size=max_queue_size, workers=workers,
                            use_multiprocessing=use_multiprocessing, verbose=verbose)
