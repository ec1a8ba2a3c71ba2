"""The training API of ``Model``: compile, fit, evaluate, predict and their variants.

``compile`` resolves the optimizer, losses and metrics once. ``fit`` / ``evaluate`` /
``predict`` turn their data options into an ``EpochIterator`` (``epoch_iterator.py``: the
adapter is chosen once, arrays become device tensors once) and run the loops below, one
step per batch. The step is ``train_step`` / ``test_step`` / ``predict_step``: a subclass
that overrides one gets it called with Keras-shaped ``data`` and its returned dict as the
logs; a model that does not runs the fused ``StepRunner`` step (``step_runner.py``),
chosen once per call. The loops read values back from the device only for the progress
bar (throttled), for callbacks that read batch logs, and at the end of each epoch.
"""
from __future__ import annotations

import functools
import itertools
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch

from .. import _warn, optimizers
from .. import metrics as metrics_module
from ..backend.variables import to_numpy
from ..callbacks import CallbackList, LazyLogs
from ..distribute import engine as distributed
from ..distribute.strategy import is_distributed
from ..mixed_precision.loss_scale_optimizer import LossScaleOptimizer
from . import data_adapter as da
from .compile_utils import (
    CompiledLoss,
    CompiledMetrics,
    RunningMeanView,
    check_losses,
    check_targets_against_outputs,
    deserialize_structure,
    serialize_structure,
)
from .epoch_iterator import EpochIterator, fit_iterators
from .keras_tensor import pack_like
from .step_runner import OverriddenPredictStep, OverriddenStep, StepRunner


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


def _outputs_log(outputs: List[torch.Tensor]) -> Dict[str, Any]:
    """``{"outputs": [...]}`` as numpy arrays, for callbacks that read a predict batch's outputs."""
    return {"outputs": [_to_numpy(o) for o in outputs]}


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return to_numpy(t)  # bfloat16 leaves the device as float32


def _results(logs: Dict[str, Any], names: List[str], return_dict: bool):
    """The logs as ``evaluate`` / ``*_on_batch`` return them: the dict, or the values in
    ``metrics_names`` order then the other keys sorted (one value alone, unlisted)."""
    if return_dict:
        return logs
    values = [logs[n] for n in names if n in logs]
    values += [logs[k] for k in sorted(logs) if k not in names]
    return values[0] if len(values) == 1 else values


class Trainer:
    """Mixed into ``Model``: ``compile``, ``fit``, ``evaluate``, ``predict`` and variants."""

    optimizer = None
    loss = None
    loss_weights = None
    compiled_loss: Optional[CompiledLoss] = None
    compiled_metrics: Optional[CompiledMetrics] = None
    history = None
    stop_training = False
    _is_compiled = False
    # provided by Model (Layer, Functional), which this class is mixed into
    output_names: List[str]
    outputs: Any
    losses: List[torch.Tensor]
    dtype_policy: Any
    _flatten_layers: Callable[..., Iterator[Any]]

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
            run_eagerly: ``True`` runs the step as plain Python: never compiled.
            steps_per_execution: accepted and ignored.
            jit_compile: ``True`` runs the whole training step (forward, loss, gradients,
                optimizer update, metric updates) as one ``torch.compile``'d graph per
                input shape (the partly compiled step where a model cannot be one graph);
                each new batch shape then takes the compile time (seconds), which only a
                long fit wins back. ``False``: eager. None or ``'auto'`` (the default):
                eager, until this compile's fits (and ``train_on_batch`` calls) come to
                ``TKERAS_AUTO_COMPILE_STEPS`` training steps (20,000; steps run + steps a
                fit plans; 0 turns it off):
                then the whole step is compiled for the main batch shape (other shapes
                run eagerly), unless the model has recurrent layers or cannot be one
                graph (see ``StepRunner.plan`` and ``bench/bench_fit.py``).
            target_tensors: not supported (Keras 2 graph-mode feature).

        Example:
            >>> model.compile(optimizer='rmsprop', loss='binary_crossentropy',
            ...               metrics=['accuracy'])
        """
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
        if (self.dtype_policy.name == "mixed_float16"
                and isinstance(self.optimizer, optimizers.Optimizer)
                and not isinstance(self.optimizer, LossScaleOptimizer)):
            self.optimizer = LossScaleOptimizer(self.optimizer)  # as tf-keras's compile
        self.loss = loss
        self.loss_weights = loss_weights
        self.compiled_loss = compiled_loss = CompiledLoss(loss, loss_weights)
        self.compiled_metrics = compiled_metrics = CompiledMetrics(metrics, weighted_metrics, compiled_loss)
        if getattr(self, "_is_graph_network", False):
            compiled_loss.resolve_names(self.output_names)
            compiled_metrics.resolve_names(self.output_names)
        else:  # outputs unknown until the first batch: check the names now anyway
            check_losses(loss)
        self.__dict__["_compile_config"] = {
            "optimizer": optimizer, "loss": loss, "metrics": metrics,
            "loss_weights": loss_weights, "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly, "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile}
        self.__dict__["_step_runner"] = None
        if distributed.strategy_module.get_strategy() is not None:  # compiled in a scope
            self.__dict__["_distribute_strategy"] = distributed.strategy_module.get_strategy()
        self._is_compiled = True
        self.stop_training = False

    @property
    def run_eagerly(self) -> bool:
        """Whether the training step runs as plain Python: True unless the model was compiled
        with ``jit_compile=True`` or its long fits compiled the step (``compile``'s
        ``jit_compile``). Setting it to True turns a compiled step back to eager for good."""
        config = self.__dict__.get("_compile_config") or {}
        runner = self.__dict__.get("_step_runner")
        return config.get("jit_compile") is not True and not (
            runner is not None and runner.whole_step_compiled)

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        config = self.__dict__.get("_compile_config")
        if value and config is not None:
            if config.get("jit_compile") is True:
                config["jit_compile"] = False
            runner = self.__dict__.get("_step_runner")
            if runner is not None and (runner.jit or runner.auto or runner.whole_step_compiled):
                self.__dict__["_step_runner"] = None  # the next step builds an eager runner
        if config is not None:
            config["run_eagerly"] = bool(value)

    def get_compile_config(self) -> Optional[Dict[str, Any]]:
        """The last ``compile``'s arguments in tf-keras's ``compile_config`` form (the
        optimizer, losses and metrics serialized), or None before ``compile``."""
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

    def _compiled(self) -> Tuple[CompiledLoss, CompiledMetrics]:
        """The compiled loss and metrics, or Keras's error before ``compile``."""
        if not self._is_compiled or self.compiled_loss is None or self.compiled_metrics is None:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")
        return self.compiled_loss, self.compiled_metrics

    def _runner(self, refresh: bool = False) -> StepRunner:
        self._compiled()
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
        """The compiled model's runner; for a model never compiled, one kept for predict
        (it needs no loss, metrics or optimizer; building one collects every layer's
        weights, ~3 ms for MobileNetV2), refreshed when the model moves to another device."""
        if self._is_compiled:
            return self._runner()
        runner = self.__dict__.get("_uncompiled_runner")
        if runner is None:
            runner = self.__dict__["_uncompiled_runner"] = StepRunner(self)
        else:
            runner.follow_device()
        return runner

    # ------------------------------------------------------------ metrics

    @property
    def metrics(self) -> list:
        """The model's metrics, Keras's order: the loss means and compiled metrics (once a
        batch has built them), then ``Metric`` objects set as attributes of the model or
        its layers (the trackers of a custom ``train_step``)."""
        out: list = []
        runner = self.__dict__.get("_step_runner")
        if runner is not None and self._is_compiled:
            compiled_loss, compiled_metrics = self._compiled()
            if compiled_loss.built:
                out.extend(compiled_loss.metrics)
            out.extend(compiled_metrics.metrics)
        out.extend(self._tracked_metrics())
        return out

    def _tracked_metrics(self) -> list:
        found: List[metrics_module.Metric] = []
        for layer in self._flatten_layers():
            found.extend(m for m in layer._modules.values()
                         if isinstance(m, metrics_module.Metric) and all(m is not f for f in found))
        return found

    @property
    def metrics_names(self) -> List[str]:
        """Names of the values ``evaluate`` / ``train_on_batch`` return: ``['loss', ...]``."""
        if type(self).metrics is not Trainer.metrics:  # a custom step's own list
            return [m.name for m in self.metrics]
        tracked = [m.name for m in self._tracked_metrics()]
        runner = self.__dict__.get("_step_runner")
        if runner is not None and self._compiled()[1].built:
            return runner.metrics_names() + tracked
        if self.compiled_loss is not None and self.compiled_loss.built:
            return list(self.compiled_loss.means.names) + \
                self._compiled()[1].expected_names() + tracked
        return tracked

    def reset_metrics(self) -> None:
        """Resets the state of the loss means, the compiled metrics and every metric in
        ``model.metrics`` (called at the start of each epoch and of ``evaluate``)."""
        runner = self.__dict__.get("_step_runner")
        compiled: List[int] = []
        if runner is not None:
            runner.reset_metrics()  # the loss means (all at once) and the compiled metrics
            compiled = [id(m) for m in self._compiled()[1].metrics]
        for metric in self.metrics:
            if not isinstance(metric, RunningMeanView) and id(metric) not in compiled:
                metric.reset_state()

    def get_metrics_result(self) -> Dict[str, Any]:
        """``{name: result}`` of ``model.metrics`` (device tensors; dict results flattened),
        what the default ``train_step`` / ``test_step`` return."""
        out: Dict[str, Any] = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[metric.name] = result
        return out

    # ------------------------------------------------------------ steps (overridable)

    def train_step(self, data) -> Dict[str, Any]:
        """One training step on a batch; ``fit`` and ``train_on_batch`` call it.

        Override it to customize what ``fit`` does (tf-keras's pattern); the dict it returns
        becomes the logs (progress bar, History, callbacks). A model that does not override
        it runs the fused step (``StepRunner``), which never reads back from the device.

        Args:
            data: the batch: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``; unpack it with
                ``tkeras.utils.unpack_x_y_sample_weight``.

        Returns:
            ``{metric name: value}``, by default ``self.get_metrics_result()``.

        Example:
            >>> class CustomModel(tkeras.Model):
            ...     def train_step(self, data):
            ...         x, y, sample_weight = tkeras.utils.unpack_x_y_sample_weight(data)
            ...         y_pred = self(x, training=True)
            ...         loss = self.compute_loss(x, y, y_pred, sample_weight)
            ...         self.optimizer.minimize(loss, self.trainable_weights)
            ...         return self.compute_metrics(x, y, y_pred, sample_weight)
        """
        runner = self._runner()
        runner.train_step(self._data_batch(runner, data))
        return self.get_metrics_result()

    def test_step(self, data) -> Dict[str, Any]:
        """One evaluation step (``evaluate``, validation, ``test_on_batch``): updates the loss
        means and metrics in inference mode and returns ``{name: value}``.

        Args:
            data: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.
        """
        runner = self._runner()
        runner.test_step(self._data_batch(runner, data))
        return self.get_metrics_result()

    def predict_step(self, data):
        """One prediction step (``predict``, ``predict_on_batch``): ``self(x,
        training=False)``.

        Args:
            data: ``x``, or a tuple whose first entry is ``x``.
        """
        x, _, _ = da.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None) -> torch.Tensor:
        """The total loss of a batch: the compiled losses plus ``self.losses``.

        Args:
            x: the inputs (unused by default).
            y: the targets.
            y_pred: the outputs of ``self(x, training=True)``.
            sample_weight: sample weights (one tensor, or one per output).
        """
        return self._compiled()[0](y, y_pred, sample_weight, regularization_losses=self.losses)

    def compute_metrics(self, x, y, y_pred, sample_weight) -> Dict[str, Any]:
        """Updates the compiled metrics and returns ``self.get_metrics_result()``.

        Args:
            x: the inputs (unused by default).
            y: the targets.
            y_pred: the outputs.
            sample_weight: sample weights.
        """
        self._compiled()[1].update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _data_batch(self, runner: StepRunner, data) -> da.Batch:
        """A step's Keras-shaped ``data`` as the fused step's ``Batch``."""
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        return self._single_batch(runner, x, y, sample_weight)

    def _overrides(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(Trainer, name)

    def _train_function(self, runner: StepRunner) -> Tuple[Callable, Callable]:
        """``(run(batch), logs())`` of the training step, chosen once per call: the fused
        step, or the subclass's ``train_step``."""
        if self._overrides("train_step"):
            step = OverriddenStep(self.train_step)
            return step.run, step.logs
        return runner.train_step, runner.logs

    def _test_function(self, runner: StepRunner) -> Tuple[Callable, Callable]:
        """As ``_train_function``; a model with its own ``train_step`` also evaluates through
        ``test_step`` (so the logs are ``get_metrics_result()``, its trackers included)."""
        if self._overrides("test_step") or self._overrides("train_step"):
            step = OverriddenStep(self.test_step, no_grad=True)
            return step.run, step.logs
        return runner.test_step, runner.logs

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
            steps_per_epoch: batches per epoch (default: the whole data, ``len()`` of a
                Sequence / DataLoader; required for a plain generator).
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
        train, val = fit_iterators(
            runner.data_spec(), x=x, y=y, sample_weight=sample_weight,
            class_weight=class_weight, batch_size=batch_size, epochs=epochs,
            initial_epoch=initial_epoch, shuffle=shuffle, steps=steps_per_epoch,
            workers=workers, use_multiprocessing=use_multiprocessing,
            max_queue_size=max_queue_size, validation_split=validation_split,
            validation_data=validation_data, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, check_targets=self._check_targets)
        callback_list = CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=train.num_batches, batch_size=batch_size,
            samples=train.num_samples, do_validation=val is not None,
            metrics=self._expected_log_names(val is not None))
        parallel = self._distributed(runner, callback_list, "fit", (train, "x"),
                                     (val, "validation_data"))
        try:
            self._fit_loop(parallel or runner, train, val, callback_list, validation_freq)
        finally:
            train.close()
            if val is not None:
                val.close()
            if parallel is not None:
                parallel.finish()
        return callback_list.history

    def _distributed(self, runner: StepRunner, callbacks: CallbackList, mode: str, *iterators):
        """With a ``torch.distributed`` process group of several processes (checked once per
        call): the distributed steps, the data sharded by rank and the writing callbacks on
        rank 0 only (``tkeras.distribute``). None, and nothing changed, otherwise."""
        parallel = distributed.attach(self, runner, mode)
        if parallel is not None:
            for iterator, what in iterators:
                parallel.shard(iterator, what)
            parallel.gate(callbacks)
        return parallel

    def _check_targets(self, ys) -> None:
        """Once per array data set (fit, validation, evaluate) of a model with an output
        graph: target shapes against the outputs, sparse labels in range."""
        if not ys or not getattr(self, "_is_graph_network", False):
            return
        compiled_loss = self._compiled()[0]
        if not compiled_loss.built:
            compiled_loss.resolve_names(self.output_names)
        check_targets_against_outputs(ys, self.outputs, compiled_loss.losses, self.output_names)

    def _expected_log_names(self, with_validation: bool) -> List[str]:
        names = self.metrics_names or ["loss"]
        return names + (["val_" + n for n in names] if with_validation else [])

    def _fit_loop(self, runner: StepRunner, train: EpochIterator,
                  val: Optional[EpochIterator], callbacks: CallbackList, validation_freq) -> None:
        train_step, logs = self._train_function(runner)
        batch_logs = getattr(runner, "batch_logs", logs)  # a process group's (see distribute)
        end_epoch = getattr(runner, "end_epoch", None)
        plan = getattr(runner, "plan", None)  # the fused step's automatic compiling
        callbacks.on_train_begin()
        # A BackupAndRestore callback that restored a backup says where to continue.
        train.initial_epoch, initial_step = callbacks.resume_point(train.initial_epoch)
        batch_hooks = callbacks.implements_batch_hooks("train")
        epoch_logs: Dict[str, Any] = {}
        for epoch in train.enumerate_epochs():
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            if plan is not None:
                per_epoch = train.num_batches
                plan(None if per_epoch is None else (train.epochs - epoch) * per_epoch)
            batches = train.enumerate_batches()
            if initial_step:  # resumed inside this epoch: the batches done before are skipped
                batches = itertools.islice(batches, initial_step, None)
            steps, initial_step = initial_step, 0
            for step, batch in batches:
                if batch_hooks:
                    callbacks.on_train_batch_begin(step, {"batch": step, "size": batch.size})
                train_step(batch)
                steps += 1
                if batch_hooks:
                    callbacks.on_train_batch_end(
                        step, LazyLogs(batch_logs, {"batch": step, "size": batch.size}))
                if self.stop_training:
                    break
            if steps == 0:
                da.warn_out_of_data(train.num_batches, train.epochs)
                break
            train.on_epoch_end()
            epoch_logs = logs()
            if val is not None and _validation_due(epoch, validation_freq):
                val_logs = self._test_loop(runner, val, callbacks)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if end_epoch is not None:  # ranks agree to stop, and on the moving statistics
                self.stop_training = end_epoch(self.stop_training)
            if self.stop_training:
                break
        callbacks.on_train_end(epoch_logs)

    def _test_loop(self, runner: StepRunner, data: EpochIterator,
                   callbacks: CallbackList) -> Dict[str, Any]:
        test_step, logs = self._test_function(runner)
        batch_logs = getattr(runner, "batch_logs", logs)
        self.reset_metrics()
        callbacks.on_test_begin()
        batch_hooks = callbacks.implements_batch_hooks("test")
        steps = 0
        for step, batch in data.enumerate_batches():
            if batch_hooks:
                callbacks.on_test_batch_begin(step, {"batch": step, "size": batch.size})
            test_step(batch)
            steps += 1
            if batch_hooks:
                callbacks.on_test_batch_end(
                    step, LazyLogs(batch_logs, {"batch": step, "size": batch.size}))
        if steps == 0:
            raise ValueError("Expected input data to be non-empty: the evaluation data "
                             "yielded no batches.")
        data.on_epoch_end()
        result = logs()
        callbacks.on_test_end(result)
        return result

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
            steps: number of batches (default: all the data; required for a plain
                generator).
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
        data = EpochIterator(runner.data_spec(), x, y, sample_weight, batch_size=batch_size,
                             steps=steps, workers=workers,
                             use_multiprocessing=use_multiprocessing,
                             max_queue_size=max_queue_size, check_targets=self._check_targets)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=data.num_batches)
        parallel = self._distributed(runner, callback_list, "evaluate", (data, "x"))
        with data:
            logs = self._test_loop(parallel or runner, data, callback_list)
        if parallel is not None:
            parallel.finish()
        return _results(logs, self.metrics_names, return_dict)

    def predict(self, x, batch_size: Optional[int] = None, verbose=0, steps: Optional[int] = None,
                callbacks=None, max_queue_size: int = 10, workers: int = 1,
                use_multiprocessing: bool = False):
        """Generates output predictions for the input samples, batch by batch.

        Args:
            x: inputs (arrays, a list / dict of arrays, a generator, a Sequence, a torch
                Dataset or DataLoader).
            batch_size: samples per batch (default 32).
            verbose: 0 silent, 1 progress bar.
            steps: number of batches (default: all the data; required for a plain
                generator).
            callbacks: callbacks receiving the predict hooks.
            max_queue_size, workers, use_multiprocessing: for generators and Sequences.

        Returns:
            A numpy array (a list of arrays for several outputs).
        """
        verbose = _verbosity(verbose)
        runner = self._predict_runner()
        data = EpochIterator(runner.data_spec(), x, batch_size=batch_size, steps=steps,
                             workers=workers, use_multiprocessing=use_multiprocessing,
                             max_queue_size=max_queue_size, with_targets=False)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=data.num_batches)
        parallel = self._distributed(runner, callback_list, "predict", (data, "x"))
        with data:
            result = self._predict_loop(parallel or runner, data, callback_list)
        if parallel is not None:
            parallel.finish()
        return result

    def _predict_loop(self, runner: StepRunner, data: EpochIterator, callbacks: CallbackList):
        custom = OverriddenPredictStep(self.predict_step) if self._overrides("predict_step") \
            else None
        predict_step = custom.run if custom is not None else runner.predict_step
        callbacks.on_predict_begin()
        batch_hooks = callbacks.implements_batch_hooks("predict")
        chunks: List[List[torch.Tensor]] = []
        for step, batch in data.enumerate_batches():
            if batch_hooks:
                callbacks.on_predict_batch_begin(step, {"batch": step, "size": batch.size})
            outputs = predict_step(batch)
            chunks.append(outputs)
            if batch_hooks:  # the outputs are copied to numpy only if a callback reads them
                callbacks.on_predict_batch_end(step, LazyLogs(
                    functools.partial(_outputs_log, outputs), {"batch": step, "size": batch.size}))
        if not chunks:
            raise ValueError("Expected input data to be non-empty: `predict` received no "
                             "batches.")
        callbacks.on_predict_end()
        gather = getattr(runner, "gather_predictions", None)  # a process group's
        if gather is not None:
            outputs = gather(chunks, data)
        else:
            outputs = [torch.cat([c[i] for c in chunks]) for i in range(len(chunks[0]))]
        return self._pack_predictions(outputs, custom.structure if custom else None)

    def _pack_predictions(self, outputs: List[torch.Tensor], structure=None):
        arrays = [_to_numpy(o) for o in outputs]
        if structure is not None and not isinstance(structure, torch.Tensor):
            return pack_like(structure, arrays)  # a custom predict_step's structure
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
            if spec.check_batch_targets is not None:
                spec.check_batch_targets(ys)
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

        Under a ``torch.distributed`` process group of several processes (torchrun), every
        process passes the same global batch: each trains on its part, as in a distributed
        ``fit``, and the values returned are the whole batch's.

        Returns:
            The loss of the batch (computed before the update) or ``[loss, metrics...]``.
        """
        runner = self._runner()
        batch = self._single_batch(runner, x, y, sample_weight, class_weight)
        parallel = self._on_batch_steps(runner)
        if parallel is None:
            runner.plan(None)  # a long loop of these compiles as a long fit does
            return self._on_batch(self._train_function(runner), batch, reset_metrics,
                                  return_dict)
        # a process group: as one step of a distributed fit on the global batch `x`
        parallel.begin()
        try:
            result = self._on_batch((parallel.train_step, parallel.logs),
                                    parallel.local_batch(batch), reset_metrics, return_dict)
            parallel.end_epoch(False)  # moving statistics averaged: the ranks' models agree
        finally:
            parallel.finish()
        return result

    def _on_batch_steps(self, runner: StepRunner):
        """Under a ``torch.distributed`` process group of several processes, the distributed
        steps ``train_on_batch`` runs (each rank trains on its part of the batch, gradients
        all-reduced, logs reduced), kept while the trainable parameters stay the same;
        None in one process."""
        if not is_distributed():
            return None
        key = [id(p) for p in runner.params]
        kept = runner.__dict__.get("_on_batch_steps")
        if kept is None or kept[0] != key:
            kept = runner.__dict__["_on_batch_steps"] = (key, distributed.attach(
                self, runner, "fit", "train_on_batch"))
        return kept[1]

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
        return self._on_batch(self._test_function(runner), batch, reset_metrics, return_dict)

    def _on_batch(self, function: Tuple[Callable, Callable], batch: da.Batch,
                  reset_metrics: bool, return_dict: bool):
        step, logs = function
        if reset_metrics:
            self.reset_metrics()
        step(batch)
        result = logs()
        if reset_metrics:  # as Keras: a later call with reset_metrics=False starts afresh
            self.reset_metrics()
        return _results(result, self.metrics_names, return_dict)

    def predict_on_batch(self, x):
        """Predictions for a single batch, as numpy (a list for several outputs)."""
        runner = self._predict_runner()
        batch = self._single_batch(runner, x, None, None)
        if self._overrides("predict_step"):
            step = OverriddenPredictStep(self.predict_step)
            return self._pack_predictions(step.run(batch), step.structure)
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


TrainerMixin = Trainer  # the name before the split
