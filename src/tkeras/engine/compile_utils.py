"""What ``compile`` sets up: the losses and metrics of each output, and the loss means.

``CompiledLoss`` turns ``compile(loss=..., loss_weights=...)`` into one loss object per
output and computes the total loss of a batch (per-output losses times their weights,
plus the regularization losses) while keeping device-side running means of the values
logged as ``loss`` and ``<output>_loss``. ``CompiledMetrics`` turns ``metrics`` /
``weighted_metrics`` into ``Metric`` objects per output, named as Keras names them.
Names are resolved to objects once, at ``compile``; what depends on the outputs (their
names for subclassed models, the kind of ``'accuracy'``) is settled on the first batch.
"""
from __future__ import annotations

import copy
import inspect
from typing import Any, Dict, List, Optional, Sequence, Tuple, cast

import torch

from .. import losses as losses_module
from .. import metrics as metrics_module
from ..backend.variables import to_numpy
from ..saving.object_registration import serialize_keras_object

Tensors = List[torch.Tensor]


# ------------------------------------------------------------------ structure per output

def _check_dict_keys(spec: Dict[str, Any], output_names: Sequence[str], what: str) -> None:
    unknown = [k for k in spec if k not in output_names]
    if unknown:
        raise ValueError(f"Unknown entries in {what} dictionary: {unknown}. Only expected "
                         f"following keys: {list(output_names)}")


def losses_per_output(loss: Any, output_names: Sequence[str]) -> List[Any]:
    """``compile(loss=...)`` as one identifier (or None) per output.

    Args:
        loss: one loss for every output, a list (one per output) or a dict by output name.
        output_names: the model's output names.
    """
    n = len(output_names)
    if isinstance(loss, dict):
        _check_dict_keys(loss, output_names, "loss")
        return [loss.get(name) for name in output_names]
    if isinstance(loss, (list, tuple)):
        if len(loss) != n:
            raise ValueError(
                "When passing a list as loss, it should have one entry per model outputs. "
                f"The model has {n} outputs, but you passed loss={list(loss)!r}")
        return list(loss)
    return [loss] * n


def loss_weights_per_output(loss_weights: Any,
                            output_names: Sequence[str]) -> List[Optional[float]]:
    """``compile(loss_weights=...)`` as one float (or None) per output."""
    n = len(output_names)
    if loss_weights is None:
        return [None] * n
    if isinstance(loss_weights, dict):
        _check_dict_keys(loss_weights, output_names, "loss_weights")
        return [loss_weights.get(name) for name in output_names]
    if isinstance(loss_weights, (list, tuple)):
        if len(loss_weights) != n:
            raise ValueError(
                "When passing a list as loss_weights, it should have one entry per model "
                f"output. The model has {n} outputs, but you passed "
                f"loss_weights={list(loss_weights)!r}")
        return list(loss_weights)
    if isinstance(loss_weights, (int, float)):
        return [loss_weights] * n
    raise TypeError("Could not interpret `loss_weights` argument: expected a list or a dict. "
                    f"Received: {loss_weights!r}")


def metrics_per_output(metrics: Any, output_names: Sequence[str], what: str) -> List[List[Any]]:
    """``compile(metrics=...)`` as a list of metric identifiers per output.

    A flat list applies to every output (Metric objects are copied for each extra
    output); a list of lists with one list per output, or a dict by output name, gives
    each output its own metrics.
    """
    n = len(output_names)
    if metrics is None:
        return [[] for _ in range(n)]
    if isinstance(metrics, dict):
        _check_dict_keys(metrics, output_names, what)
        return [_as_list(metrics.get(name)) for name in output_names]
    if not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    if n > 1 and len(metrics) == n and all(isinstance(m, (list, tuple)) or m is None
                                           for m in metrics):
        return [_as_list(m) for m in metrics]
    per_output = [list(metrics)]
    for _ in range(n - 1):
        per_output.append([copy.deepcopy(m) if isinstance(m, metrics_module.Metric) else m
                           for m in metrics])
    return per_output


def _as_list(x: Any) -> List[Any]:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


# ------------------------------------------------------------------ resolving objects

def get_loss_object(identifier: Any) -> Optional[losses_module.Loss]:
    """A ``Loss`` for a name, config, function, ``Loss`` class or instance (None stays None)."""
    if identifier is None:
        return None
    obj = losses_module.get(identifier)
    if inspect.isclass(obj) and issubclass(obj, losses_module.Loss):
        obj = obj()
    if isinstance(obj, losses_module.Loss):
        return obj
    if callable(obj):
        name = getattr(obj, "__name__", None) or type(obj).__name__
        return losses_module.LossFunctionWrapper(obj, name=name)
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")


def _loss_function(loss: Optional[losses_module.Loss]):
    if isinstance(loss, losses_module.LossFunctionWrapper):
        return loss.fn
    return None


def _is_binary_crossentropy(loss) -> bool:
    return isinstance(loss, losses_module.BinaryCrossentropy) or \
        _loss_function(loss) is losses_module.binary_crossentropy


def _is_sparse_crossentropy(loss) -> bool:
    return isinstance(loss, losses_module.SparseCategoricalCrossentropy) or \
        _loss_function(loss) is losses_module.sparse_categorical_crossentropy


_ACCURACY = ("accuracy", "acc")
_CROSSENTROPY = ("crossentropy", "ce")


def _resolve_generic(name: str, y_true: torch.Tensor, y_pred: torch.Tensor, loss) -> Any:
    """Keras's choice for ``'accuracy'`` / ``'crossentropy'``: binary when the output has
    one unit or the loss is the binary cross-entropy, sparse when the loss is the sparse
    cross-entropy or the labels are class indices, categorical otherwise."""
    last_pred = y_pred.shape[-1] if y_pred.dim() else 1
    last_true = y_true.shape[-1] if y_true.dim() else 1
    binary = last_pred == 1 or _is_binary_crossentropy(loss)
    sparse = _is_sparse_crossentropy(loss) or y_true.dim() < y_pred.dim() or \
        (last_true == 1 and last_pred > 1)
    if name.lower() in _ACCURACY:
        if binary:
            return metrics_module.binary_accuracy
        return metrics_module.sparse_categorical_accuracy if sparse \
            else metrics_module.categorical_accuracy
    if binary:
        return metrics_module.binary_crossentropy
    return metrics_module.sparse_categorical_crossentropy if sparse \
        else metrics_module.categorical_crossentropy


class NamedMetricFunction:
    """A metric function and the name it is logged under (what the user wrote)."""

    __slots__ = ("fn", "name")

    def __init__(self, fn, name: str):
        self.fn = fn
        self.name = name


def resolve_metric(identifier: Any) -> Any:
    """Resolves one ``compile(metrics=...)`` entry once, at ``compile``.

    Returns ``'acc'`` / ``'accuracy'`` / ``'crossentropy'`` / ``'ce'`` unchanged (their
    function depends on the outputs), a ``Metric`` object, or a ``NamedMetricFunction``.
    Unknown names raise ``ValueError`` here.
    """
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY + _CROSSENTROPY:
        return identifier
    if isinstance(identifier, metrics_module.Metric):
        return identifier
    if not isinstance(identifier, (str, dict)) and not callable(identifier):
        raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
    obj = metrics_module.get(identifier)
    if inspect.isclass(obj) and issubclass(obj, metrics_module.Metric):
        obj = obj()
    if isinstance(obj, metrics_module.Metric):
        return obj
    if isinstance(obj, losses_module.Loss):
        return metrics_module.MeanMetricWrapper(_LossAsMetric(obj), name=obj.name)
    if not callable(obj):
        raise ValueError(f"Metric should be a callable, received: {identifier!r}")
    name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", None)
    if name is None:
        raise ValueError(f"Metric should be a callable with a name, received: {identifier!r}")
    return NamedMetricFunction(obj, name)


def resolve_metric_structure(spec: Any) -> Any:
    """``resolve_metric`` on every entry of a metrics argument (lists, per-output dicts)."""
    if spec is None:
        return None
    if isinstance(spec, dict) and not _is_object_config(spec):
        return {k: resolve_metric_structure(v) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [resolve_metric_structure(v) for v in spec]
    return resolve_metric(spec)


def _metric_base_name(resolved: Any) -> str:
    return resolved if isinstance(resolved, str) else resolved.name


def make_metric_object(resolved: Any, y_true: torch.Tensor, y_pred: torch.Tensor,
                       loss) -> metrics_module.Metric:
    """The ``Metric`` of a resolved entry for one output (generic accuracy / cross-entropy
    pick their function from the loss and the shapes)."""
    if isinstance(resolved, str):
        fn = _resolve_generic(resolved, y_true, y_pred, loss)
        return metrics_module.MeanMetricWrapper(fn, name=resolved)
    if isinstance(resolved, NamedMetricFunction):
        return metrics_module.MeanMetricWrapper(resolved.fn, name=resolved.name)
    return resolved


class _LossAsMetric:
    """A ``Loss`` object used as a metric: its per-sample values."""

    def __init__(self, loss: losses_module.Loss):
        self.loss = loss
        self.__name__ = loss.name or type(loss).__name__

    def __call__(self, y_true, y_pred):
        return self.loss.call(y_true, y_pred)


def match_dtype_and_rank(y_true: torch.Tensor, y_pred: torch.Tensor,
                         sample_weight: Optional[torch.Tensor]
                         ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Keras's alignment of targets and weights with a prediction: a ``(batch,)`` target or
    weight gets a trailing axis for a ``(batch, units)`` prediction; float targets take
    the prediction's dtype."""
    if y_true.dim() == 1 and y_pred.dim() == 2:
        y_true = y_true.unsqueeze(-1)
    if sample_weight is not None:
        if sample_weight.dim() == 1 and y_pred.dim() == 2:
            sample_weight = sample_weight.unsqueeze(-1)
        if sample_weight.dtype != y_pred.dtype and y_pred.is_floating_point():
            sample_weight = sample_weight.to(y_pred.dtype)
    if y_true.is_floating_point() and y_pred.is_floating_point() and y_true.dtype != y_pred.dtype:
        y_true = y_true.to(y_pred.dtype)
    return y_true, sample_weight


# ------------------------------------------------------------------ running means

class RunningMeans:
    """Running means of several scalar tensors, weighted by batch size, kept on the device.

    One update is one ``stack`` and one in-place add; the count is a Python number
    (batch sizes are known on the host), so nothing is read from the device.

    Args:
        names: the names of the values, in update order.
    """

    def __init__(self, names: Sequence[str]):
        self.names = list(names)
        self._sums: Optional[torch.Tensor] = None
        self._count = 0

    def update(self, values: Tensors, batch_size: int) -> None:
        if len(values) == 1:
            stacked = values[0].detach().reshape(1)
        else:
            stacked = torch.stack([v.detach().reshape(()) for v in values])
        sums = self._sums
        if sums is None or sums.device != stacked.device or sums.dtype != stacked.dtype:
            sums = self._sums = torch.zeros_like(stacked)
        sums.add_(stacked, alpha=batch_size)
        self._count += batch_size

    def results(self) -> torch.Tensor:
        """The means, a 1-d tensor (zeros before any update)."""
        if self._sums is None:
            return torch.zeros(len(self.names))
        return self._sums / max(self._count, 1)

    def reset(self) -> None:
        if self._sums is not None:
            self._sums.zero_()
        self._count = 0


class RunningMeanView:
    """One of the ``RunningMeans`` seen as a Keras ``Mean`` metric (``model.metrics`` lists
    these); its ``variables`` are Keras's ``[total, count]``."""

    _keras_class_name = "Mean"  # what saving records for it (.keras metric state)

    def __init__(self, means: RunningMeans, index: int):
        self._means = means
        self._index = index

    @property
    def name(self) -> str:
        return self._means.names[self._index]

    def result(self) -> torch.Tensor:
        return self._means.results()[self._index]

    def reset_state(self) -> None:
        self._means.reset()

    reset_states = reset_state

    @property
    def variables(self) -> Tensors:
        """``[total, count]`` (copies: the state itself is shared by all the loss means)."""
        means = self._means
        if means._sums is None:
            return [torch.zeros(()), torch.zeros(())]
        total = means._sums[self._index].detach().clone()
        return [total, torch.full((), float(means._count), dtype=total.dtype)]

    def get_weights(self):
        return [to_numpy(v) for v in self.variables]

    def set_weights(self, weights) -> None:
        """Sets ``[total, count]`` (the count is shared by all the loss means)."""
        total, count = (float(w) for w in weights)
        means = self._means
        if means._sums is None:
            means._sums = torch.zeros(len(means.names))
        with torch.no_grad():
            means._sums[self._index] = total
        means._count = int(count)

    def __repr__(self) -> str:
        return f"<Mean name={self.name!r}>"


# ------------------------------------------------------------------ the containers

class CompiledLoss:
    """The per-output losses of ``compile`` and the loss values logged during training.

    Args:
        loss: ``compile``'s ``loss`` argument.
        loss_weights: ``compile``'s ``loss_weights`` argument.
    """

    def __init__(self, loss: Any, loss_weights: Any = None):
        self._loss_spec = loss
        self._weights_spec = loss_weights
        self.built = False
        self.output_names: List[str] = []
        self.losses: List[Optional[losses_module.Loss]] = []
        self.weights: List[Optional[float]] = []
        self.means = RunningMeans(["loss"])
        self._per_output = False

    def resolve_names(self, output_names: Sequence[str]) -> None:
        """Checks the arguments against the outputs and resolves every loss (raises early)."""
        identifiers = losses_per_output(self._loss_spec, output_names)
        self.losses = [get_loss_object(i) for i in identifiers]
        self.weights = loss_weights_per_output(self._weights_spec, output_names)
        self.output_names = list(output_names)
        self._per_output = len(output_names) > 1
        names = ["loss"]
        if self._per_output:
            names += [f"{name}_loss" for name, loss in zip(output_names, self.losses)
                      if loss is not None]
        self.means = RunningMeans(names)
        self.built = True

    @property
    def metrics(self) -> List[RunningMeanView]:
        return [RunningMeanView(self.means, i) for i in range(len(self.means.names))]

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                 regularization_losses: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
        """Keras's ``compiled_loss(y, y_pred, sample_weight, regularization_losses=...)``:
        the total loss of a batch, tracked in the ``loss`` means (what a custom
        ``train_step`` calls).

        Args:
            y_true: the targets: a tensor, or a list / dict (by output name) with one per
                output.
            y_pred: the model's outputs (a tensor, list or dict).
            sample_weight: None, one weight tensor, or one per output.
            regularization_losses: loss tensors added to the total (``model.losses``).
        """
        preds = _flat(y_pred)
        if not self.built:
            self.resolve_names(default_output_names(len(preds)))
        ys = per_output(y_true, self.output_names, "y_true")
        sws = per_output(sample_weight, self.output_names, "sample_weight", share=True)
        regularization = None
        for loss in regularization_losses or ():
            loss = torch.as_tensor(loss)
            regularization = loss if regularization is None else regularization + loss
        return self.total(ys, preds, sws, regularization, required=False)

    def total(self, y_true: Sequence[Optional[torch.Tensor]], y_pred: Tensors,
              sample_weight: Sequence[Optional[torch.Tensor]],
              regularization: Optional[torch.Tensor] = None,
              track: bool = True, required: bool = True) -> torch.Tensor:
        """The total loss of a batch (weighted output losses + regularization): the fused
        step's entry, with every argument already a list aligned with the outputs.

        Args:
            y_true: targets, one per output (None where an output has no target).
            y_pred: the model's outputs.
            sample_weight: weights, one per output (or None).
            regularization: the summed regularization losses, or None.
            track: add the values to the running means.
            required: no loss at all is an error (training); else the total is 0, as
                tf-keras's container returns (evaluation, custom steps).
        """
        total, tracked, batch_size = self.total_and_tracked(y_true, y_pred, sample_weight,
                                                            regularization, required)
        if track:
            self.means.update(tracked, batch_size)
        return total

    def total_and_tracked(self, y_true: Sequence[Optional[torch.Tensor]], y_pred: Tensors,
                          sample_weight: Sequence[Optional[torch.Tensor]],
                          regularization: Optional[torch.Tensor] = None,
                          required: bool = True) -> Tuple[torch.Tensor, Tensors, int]:
        """``total``'s loss without touching the running means: ``(total, values,
        batch_size)``, where ``means.update(values, batch_size)`` records the batch (the
        compiled step returns them, so the host-side count stays out of its graph)."""
        total = None
        logged = []
        batch_size = 0
        for loss, weight, y_t, y_p, sw in zip(self.losses, self.weights, y_true, y_pred,
                                              sample_weight):
            if loss is None or y_t is None:
                continue
            y_t, sw = match_dtype_and_rank(y_t, y_p, sw)
            value = loss(y_t, y_p, sample_weight=sw)
            batch_size = batch_size or (y_t.shape[0] if y_t.dim() else 1)
            logged.append(value)
            weighted = value * weight if weight is not None else value
            total = weighted if total is None else total + weighted
        if not logged and any(loss is not None for loss in self.losses):
            raise ValueError("Target data is missing. Your model was compiled with "
                             f"loss={self._loss_spec!r}, and therefore expects target data to "
                             "be provided in `fit()` / `evaluate()`.")
        if regularization is not None:
            total = regularization if total is None else total + regularization
        if total is None and not required:
            total = torch.zeros((), device=y_pred[0].device if y_pred else None)
        if total is None:
            raise ValueError("The model cannot be trained: no loss to optimize. Pass a `loss` "
                             "argument to `compile()` (one per output) or add losses to the "
                             "model with `add_loss()`.")
        if not batch_size:
            batch_size = _batch_size(y_pred)
        return total, [total] + logged if self._per_output else [total], batch_size


def default_output_names(n: int) -> List[str]:
    """The output names of a model without an output graph: ``output_1``, ``output_2``..."""
    return [f"output_{i + 1}" for i in range(n)]


def _flat(structure: Any) -> List[Any]:
    if isinstance(structure, torch.Tensor):
        return [structure]
    if isinstance(structure, dict):
        return [structure[k] for k in sorted(structure)]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flat(item)]
    return [structure]


def _as_target_tensor(value: Any) -> Optional[torch.Tensor]:
    if value is None or isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(value)


def per_output(value: Any, output_names: Sequence[str], what: str,
               share: bool = False) -> List[Optional[torch.Tensor]]:
    """Targets or sample weights given as a tensor, a list or a dict (by output name), as
    one entry per output (None where none is given).

    Args:
        value: the structure.
        output_names: the model's output names.
        what: the argument's name, for errors.
        share: one tensor for several outputs applies to each (sample weights).
    """
    n = len(output_names)
    if value is None:
        return [None] * n
    if isinstance(value, dict):
        _check_dict_keys(value, output_names, what)
        return [_as_target_tensor(value.get(name)) for name in output_names]
    if isinstance(value, (list, tuple)):
        if n == 1 and len(value) != 1:
            return [_as_target_tensor(value)]  # one target written as nested lists
        flat = list(value)
        if len(flat) == 1 and n > 1 and share:
            flat = flat * n
        if len(flat) != n:
            raise ValueError(f"Expected one `{what}` entry per model output ({n}: "
                             f"{list(output_names)}), received {len(flat)}.")
        return [_as_target_tensor(v) for v in flat]
    if n != 1 and not share:
        raise ValueError(f"The model has {n} outputs {list(output_names)}: pass `{what}` as a "
                         "list or a dict with one entry per output.")
    return [_as_target_tensor(value)] * n


def _batch_size(tensors: Tensors) -> int:
    for t in tensors:
        if isinstance(t, torch.Tensor) and t.dim():
            return int(t.shape[0])
    return 1


class CompiledMetrics:
    """The ``metrics`` and ``weighted_metrics`` of ``compile``, as Metric objects per output.

    Names are resolved when the container is made (unknown names raise then); the
    Metric objects are made on the first batch, when the outputs' shapes are known.

    Args:
        metrics: ``compile``'s ``metrics`` argument.
        weighted_metrics: ``compile``'s ``weighted_metrics`` argument (these receive the
            sample weights; plain metrics only receive the outputs' masks).
        compiled_loss: the ``CompiledLoss`` of the same ``compile`` (its output names and
            losses settle what ``'accuracy'`` means when ``update_state`` builds).
    """

    def __init__(self, metrics: Any = None, weighted_metrics: Any = None,
                 compiled_loss: Optional[CompiledLoss] = None):
        self._compiled_loss = compiled_loss
        self._metrics_spec = resolve_metric_structure(metrics)
        self._weighted_spec = resolve_metric_structure(weighted_metrics)
        self.built = False
        self.output_names: List[str] = []
        self._planned: List[Tuple[int, Any, bool]] = []
        self._entries: List[Tuple[int, metrics_module.Metric, bool]] = []

    def resolve_names(self, output_names: Sequence[str]) -> None:
        """Maps the metrics onto the outputs, in Keras's order (per output: the metrics,
        then the weighted metrics)."""
        self.output_names = list(output_names)
        plain = metrics_per_output(self._metrics_spec, output_names, "metrics")
        weighted = metrics_per_output(self._weighted_spec, output_names, "weighted_metrics")
        self._planned = [(i, entry, is_weighted) for i in range(len(output_names))
                         for is_weighted, entries in ((False, plain[i]), (True, weighted[i]))
                         for entry in entries if entry is not None]
        self.built = False

    def _final_names(self, planned: Sequence[Tuple[int, Any, bool]],
                     base_names: Sequence[str]) -> List[str]:
        """Keras's names: ``<output>_<name>`` with several outputs, ``weighted_`` added to
        a weighted metric whose name is taken; two equal plain names are an error."""
        multi = len(self.output_names) > 1
        taken: set = set()
        names = []
        for (i, _, is_weighted), base in zip(planned, base_names):
            prefix = f"{self.output_names[i]}_" if multi else ""
            name = prefix + base
            if is_weighted and name in taken:
                name = prefix + "weighted_" + base
            elif name in taken:
                raise ValueError(f"Found two metrics with the same name: {name}. All the "
                                 "metrics added to the model need to have unique names.")
            taken.add(name)
            names.append(name)
        return names

    def expected_names(self) -> List[str]:
        """The metric names, known before the first batch."""
        return self._final_names(self._planned,
                                 [_metric_base_name(entry) for _, entry, _ in self._planned])

    def build(self, y_true: Sequence[Optional[torch.Tensor]], y_pred: Tensors,
              losses: Sequence[Optional[losses_module.Loss]]) -> None:
        """Creates the Metric objects from the first batch's targets and outputs."""
        planned = [p for p in self._planned if y_true[p[0]] is not None]
        # planned holds only outputs with targets
        objects = [make_metric_object(entry, cast(torch.Tensor, y_true[i]), y_pred[i],
                                      losses[i] if i < len(losses) else None)
                   for i, entry, _ in planned]
        for metric, name in zip(objects, self._final_names(planned, [m.name for m in objects])):
            metric.name = name
            metric.to(y_pred[0].device)
        self._entries = [(i, metric, is_weighted)
                         for (i, _, is_weighted), metric in zip(planned, objects)]
        self.built = True

    @property
    def metrics(self) -> List[metrics_module.Metric]:
        return [metric for _, metric, _ in self._entries]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Keras's ``compiled_metrics.update_state(y, y_pred, sample_weight)`` (what a
        custom ``train_step`` calls): structures as for ``CompiledLoss.__call__``; the
        metric objects are made on the first call."""
        preds = _flat(y_pred)
        if not self.built:
            if not self.output_names:
                names = self._compiled_loss.output_names if self._compiled_loss is not None \
                    and self._compiled_loss.built else default_output_names(len(preds))
                self.resolve_names(names)
        ys = per_output(y_true, self.output_names, "y_true")
        sws = per_output(sample_weight, self.output_names, "sample_weight", share=True)
        if not self.built:
            losses = self._compiled_loss.losses if self._compiled_loss is not None else []
            self.build(ys, preds, losses)
        self.update(ys, preds, sws)

    def update(self, y_true: Sequence[Optional[torch.Tensor]], y_pred: Tensors,
               sample_weight: Sequence[Optional[torch.Tensor]]) -> None:
        """Updates every metric with a batch (under ``no_grad``)."""
        if not self._entries:
            return
        aligned: Dict[int, Tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]] = {}
        with torch.no_grad():
            for i, metric, weighted in self._entries:
                if i not in aligned:
                    y_p = y_pred[i]
                    # entries exist only for outputs with targets (build)
                    y_t, sw = match_dtype_and_rank(cast(torch.Tensor, y_true[i]), y_p, sample_weight[i])
                    mask = getattr(y_p, "_keras_mask", None)
                    aligned[i] = (y_t, losses_module.apply_mask(None, mask),
                                  losses_module.apply_mask(sw, mask))
                y_t, mask_weight, full_weight = aligned[i]
                metric.update_state(y_t, y_pred[i],
                                    sample_weight=full_weight if weighted else mask_weight)

    def reset(self) -> None:
        for _, metric, _ in self._entries:
            metric.reset_state()


def _leaves(spec: Any) -> List[Any]:
    if isinstance(spec, dict):
        return [leaf for v in spec.values() for leaf in _leaves(v)]
    if isinstance(spec, (list, tuple)):
        return [leaf for v in spec for leaf in _leaves(v)]
    return [spec]


def check_losses(loss: Any) -> None:
    """Resolves every loss name once, so unknown names fail at ``compile``."""
    for identifier in _leaves(loss):
        get_loss_object(identifier)


def _is_builtin_loss(loss) -> bool:
    fn = _loss_function(loss)
    target = fn if fn is not None else loss
    module = getattr(type(target) if isinstance(target, losses_module.Loss) else target,
                     "__module__", None)
    return isinstance(module, str) and module.split(".")[:2] == losses_module.__name__.split(".")


def check_targets_against_outputs(y_true: Sequence[Optional[torch.Tensor]], outputs: Sequence[Any],
                                  losses: Sequence[Optional[losses_module.Loss]],
                                  output_names: Sequence[str], labels: bool = True) -> None:
    """Keras 2's checks of targets (shapes are static, nothing is read unless ``labels``): a
    target whose shape cannot match its output under a built-in loss, and (``labels``)
    sparse labels outside ``[0, classes)`` (a host read), raise a ValueError.

    Args:
        y_true: the target tensors, one per output (None where none).
        outputs: the outputs (anything with a ``shape``) or their shapes.
        losses: the loss of each output.
        output_names: the output names, for the message.
        labels: also check sparse labels against the number of classes.
    """
    for y, out, loss, name in zip(y_true, outputs, losses, output_names):
        if y is None or loss is None:
            continue
        shape = tuple(out.shape) if hasattr(out, "shape") else tuple(out)
        if _is_sparse_crossentropy(loss):
            if labels and shape and shape[-1] is not None:
                losses_module.check_sparse_labels(y, shape[-1])
            continue
        if not _is_builtin_loss(loss) or y.dim() != len(shape):
            continue
        for expected, got in zip(shape[1:], tuple(y.shape)[1:]):
            if expected is not None and expected != got:
                raise ValueError(
                    f"Error when checking target: expected {name} to have shape "
                    f"{shape[1:]} but got array with shape {tuple(y.shape)[1:]}.")


# ------------------------------------------------------------------ compile configs

def serialize_structure(spec: Any) -> Any:
    """``compile`` arguments in tf-keras's ``compile_config`` form: names stay names,
    functions become their names, objects become ``{"module", "class_name", "config"}``."""
    if isinstance(spec, dict) and not _is_object_config(spec):
        return {k: serialize_structure(v) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [serialize_structure(v) for v in spec]
    return serialize_keras_object(spec)


def deserialize_structure(spec: Any, kind: str) -> Any:
    """Inverse of ``serialize_structure`` for losses (``kind="loss"``) or metrics: object
    configs inside the structure become objects again; names are left for ``compile``."""
    if _is_object_config(spec):
        module = losses_module if kind == "loss" else metrics_module
        return module.deserialize(spec)
    if isinstance(spec, dict):
        return {k: deserialize_structure(v, kind) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [deserialize_structure(v, kind) for v in spec]
    return spec


def _is_object_config(spec: Any) -> bool:
    return isinstance(spec, dict) and "class_name" in spec and "config" in spec
