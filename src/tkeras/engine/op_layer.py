"""Op layers: the nodes that ``K`` functions, Python operators, losses and metrics record
when they are called on symbolic tensors (tf-keras's ``TFOpLambda``), and the layers that
put ``add_loss`` / ``add_metric`` of a symbolic tensor into a functional model.

``K.mean(y)`` on a ``KerasTensor`` makes an ``OpLayer(function="mean")`` and calls it on
``y``: the node keeps the call's arguments (other symbolic tensors, numbers, axes...), the
output's shape and dtype come from running the function on meta-device tensors. In a
config the function is its table name (``tkeras.backend.dispatch.lookup_function``), so
such models load without code; a plain Python callable (a ``map_fn`` body, a ``switch``
branch) is saved as a Lambda saves its function, under the same safe-mode rule.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Optional

import torch

from ..backend import config
from ..backend import dispatch as _symbolic
from .base_layer import Layer
from .keras_tensor import KerasTensor, flatten, has_keras_tensor, map_structure, meta_tensor, pack_like

# ---------------------------------------------------------------- callables in arguments

_CALLABLE_MARK = "__callable__:"  # "__callable__:i" stands for the layer's i-th callable


def _is_plain_callable(v: Any) -> bool:
    return callable(v) and not isinstance(v, (torch.Tensor, KerasTensor, type))


# ---------------------------------------------------------------- the op layer

_GRAPH_FORMS: Dict[str, Callable] = {"shape": _symbolic.shape_tensor}


class OpLayer(Layer):
    """A ``K`` function, operator, loss or metric applied to symbolic tensors.

    Args:
        function: the function's table name (``"mean"``, ``"operator.add"``,
            ``"losses.mean_squared_error"``) or a Python callable.
        callables: callables passed as arguments to the function (restored into the
            call where the node's arguments hold ``"__callable__:i"``).
    """

    def __init__(self, function: Any, callables: Optional[List[Callable]] = None, **kwargs):
        key: Optional[str]
        if isinstance(function, str):
            fn, key = _symbolic.lookup_function(function), function
        elif callable(function):
            fn, key = function, _symbolic.function_name(function)
        else:
            raise TypeError(f"OpLayer expects a function or a function name. Received: {function!r}")
        if "name" not in kwargs or kwargs["name"] is None:
            label = key or str(getattr(fn, "__name__", None) or getattr(fn, "name", None) or "lambda")
            kwargs["name"] = config.unique_object_name("k." + label.replace("<", "").replace(">", ""))
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.function = fn
        # What the node computes: the function, except that K.shape in a graph gives a
        # tensor (tf.shape's int32), not the torch.Size it returns on a tensor.
        self._compute = _GRAPH_FORMS.get(key, fn) if key else fn
        self.symbol = key
        self.callables = list(callables or [])
        self.built = True

    # ------------------------------------------------------------ running

    def _bind(self, args: tuple, kwargs: dict):
        def put(v):
            if isinstance(v, str) and v.startswith(_CALLABLE_MARK):
                return self.callables[int(v[len(_CALLABLE_MARK):])]
            if isinstance(v, (list, tuple)):
                return type(v)(put(x) for x in v)
            if isinstance(v, dict):
                return {k: put(x) for k, x in v.items()}
            return v
        return tuple(put(a) for a in args), put(kwargs)

    def call(self, *args, **kwargs):  # (no named first parameter: K.rnn has `inputs=`)
        if self.callables:
            args, kwargs = self._bind(args, kwargs)
        return self._compute(*args, **kwargs)

    def _eager_call(self, inputs, rest: tuple, kwargs: dict):
        if self.callables:
            (inputs, *rest), kwargs = self._bind((inputs,) + tuple(rest), kwargs)
        return self._compute(inputs, *rest, **kwargs)

    def eager_function(self, args: tuple, kwargs: dict):
        """``(function, args, kwargs)`` computing this node without the Layer call
        machinery (an op layer has no weights, masks or training flag), the constant
        arguments prepared once: callables put back, an index decoded. A planned graph
        (``functional.run_steps``) calls it with the node's argument templates."""
        if self.callables:
            args, kwargs = self._bind(args, kwargs)
        if self.symbol == "operator.getitem":  # recorded as (x,) {"key": ...}
            key = args[1] if len(args) > 1 else kwargs["key"]
            return _symbolic.index, (args[0], _symbolic.decode_index(key)), {}
        fn = getattr(self._compute, "__wrapped__", self._compute)
        try:  # recorded as (x,) {"y": ...}: positional again where the signature allows
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except (TypeError, ValueError):
            return fn, args, kwargs
        return fn, bound.args, bound.kwargs

    def compute_output_spec(self, *args, **kwargs):
        return _infer(self, args, kwargs)

    # ------------------------------------------------------------ config

    def get_config(self) -> Dict[str, Any]:
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.symbol is not None:
            cfg["function"] = self.symbol
        else:
            cfg.update(_function_config(self.function))
        if self.callables:
            cfg["callables"] = [_function_config(c) for c in self.callables]
        return cfg

    @classmethod
    def from_config(cls, config_: Dict[str, Any], custom_objects=None):
        cfg = dict(config_)
        function = cfg.pop("function")
        if "function_type" in cfg:
            function = _load_function(function, cfg.pop("function_type"), cfg.pop("module", None),
                                      custom_objects)
        callables = [_load_function(c["function"], c["function_type"], c.get("module"),
                                    custom_objects) for c in cfg.pop("callables", [])]
        return cls(function, callables=callables, **cfg)


def _function_config(fn: Callable) -> Dict[str, Any]:
    name = _symbolic.function_name(fn)
    if name is not None:
        return {"function": name, "function_type": "table", "module": None}
    from .. import losses
    if isinstance(fn, losses.Loss):  # a loss object called on symbolic tensors: its config
        return {"function": losses.serialize(fn), "function_type": "loss", "module": None}
    from ..utils.generic_utils import serialize_function
    value, kind, module = serialize_function(fn)
    return {"function": value, "function_type": kind, "module": module}


def _load_function(value, kind: str, module, custom_objects) -> Callable:
    if kind == "table":
        return _symbolic.lookup_function(value)
    if kind == "loss":
        from .. import losses
        return losses.deserialize(value, custom_objects=custom_objects)
    from ..utils.generic_utils import deserialize_function
    return deserialize_function(value, kind, module, custom_objects, "function")


# ---------------------------------------------------------------- shape inference

_IN_PLACE = {"update", "update_add", "update_sub", "moving_average_update"}
_SAME_AS_FIRST = {"print_tensor"}


def _infer(layer: OpLayer, args: tuple, kwargs: dict):
    """Output KerasTensors of ``layer.function(*args, **kwargs)``: meta tensors stand for
    the symbolic ones (twice, with different sizes for the unknown dimensions), and real
    tensors among the arguments become meta copies, so nothing is computed or changed."""
    if layer.symbol in _IN_PLACE:
        var = args[0]
        return KerasTensor(tuple(var.shape), config.dtype_name(var.dtype))
    if layer.symbol == "gradients":
        variables = flatten([list(args[1:]), kwargs])
        return [KerasTensor(tuple(v.shape), v.dtype if isinstance(v, KerasTensor)
                            else config.dtype_name(v.dtype)) for v in variables]
    if layer.symbol in _SAME_AS_FIRST and isinstance(args[0], KerasTensor):
        return KerasTensor(args[0].shape, args[0].dtype)
    if layer.symbol == "shape":  # Keras 2's tf.shape: an int32 tensor, the static sizes known
        return KerasTensor((len(args[0].shape),), "int32", inferred_value=tuple(args[0].shape))
    if layer.symbol == "operator.getitem" and isinstance(getattr(args[0], "inferred_value", None), tuple):
        key = _symbolic.decode_index(args[1] if len(args) > 1 else kwargs["key"])
        if isinstance(key, (int, slice)):  # part of a shape: its known sizes too
            value = args[0].inferred_value[key]
            if isinstance(key, int):
                return KerasTensor((), args[0].dtype, inferred_value=(value,))
            return KerasTensor((len(value),), args[0].dtype, inferred_value=value)
    results = []
    for fill, device in ((83, "meta"), (89, "meta")):
        results.append(_run_with(layer, args, kwargs, fill, device))
    if results[0] is None:
        results = [_run_with(layer, args, kwargs, fill, "cpu") for fill in (2, 3)]
        if results[0] is None:
            raise layer._last_inference_error
    flat_a, flat_b = flatten(results[0]), flatten(results[1])
    outs = []
    for a, b in zip(flat_a, flat_b):
        if isinstance(a, torch.Tensor):
            shape = tuple(None if da != db else da for da, db in zip(a.shape, b.shape)) \
                if a.dim() == b.dim() else tuple(a.shape)
            outs.append(KerasTensor(shape, config.dtype_name(a.dtype)))
        else:
            outs.append(a)
    if layer.symbol == "ctc_decode":  # the decoded lengths depend on the values
        outs[:-1] = [KerasTensor((None, None), t.dtype) for t in outs[:-1]]
    return pack_like(results[0], outs)


def _run_with(layer: OpLayer, args: tuple, kwargs: dict, fill: int, device: str):
    def conv(t):
        if isinstance(t, KerasTensor):
            return meta_tensor(t, fill, device)
        if isinstance(t, torch.Tensor):
            return t.detach().to(device) if device == "meta" else t.detach().cpu()
        return t

    call_args = map_structure(conv, list(args))
    call_kwargs = map_structure(conv, dict(kwargs))
    try:
        with torch.no_grad():
            return layer._eager_call(call_args[0], tuple(call_args[1:]), call_kwargs)
    except Exception as e:  # noqa: BLE001 - reported if no device works
        layer._last_inference_error = e
        return None


# ---------------------------------------------------------------- recording


def _bound_arguments(fn: Callable, args: tuple, kwargs: dict):
    """(first argument, the others by name) when the signature allows, else as given."""
    try:
        sig = inspect.signature(fn)
        bound = sig.bind(*args, **kwargs)
    except (TypeError, ValueError):
        return args, kwargs
    params = sig.parameters
    names = list(bound.arguments)
    if not names or any(params[n].kind in (params[n].VAR_POSITIONAL, params[n].POSITIONAL_ONLY)
                        for n in names):
        return args, kwargs
    first = names[0]
    rest = {}
    for n in names[1:]:
        if params[n].kind == params[n].VAR_KEYWORD:
            rest.update(bound.arguments[n])
        else:
            rest[n] = bound.arguments[n]
    return (bound.arguments[first],), rest


def record_op(name: Optional[str], fn: Callable, args: tuple, kwargs: dict):
    """Records ``fn(*args, **kwargs)`` as an op node and returns its symbolic output(s).

    Args:
        name: the function's table name, or None for a plain callable.
        fn: the function.
        args: positional arguments (holding symbolic tensors somewhere).
        kwargs: keyword arguments.
    """
    if not has_keras_tensor([list(args), kwargs]):
        return NotImplemented
    if name == "operator.getitem":
        args = (args[0], _symbolic.encode_index(args[1]))
    args, kwargs = _bound_arguments(fn, args, kwargs)
    callables: List[Callable] = []

    def take(v):
        if _is_plain_callable(v):
            callables.append(v)
            return f"{_CALLABLE_MARK}{len(callables) - 1}"
        return v

    args = tuple(map_structure(take, list(args)))
    kwargs = map_structure(take, dict(kwargs))
    layer = OpLayer(fn, callables=callables)
    return layer(*args, **kwargs)


_symbolic.register_symbolic_recorder(record_op)


def op_layer_for(fn: Callable, *args, **kwargs):
    """Applies any function to symbolic tensors as one op node: ``op_layer_for(np_fn, x)``.

    A table function (``K``, operators, losses, metrics) is saved by name; another
    callable is saved as a Lambda saves its function.
    """
    return record_op(_symbolic.function_name(fn), fn, args, kwargs)


# ---------------------------------------------------------------- add_loss / add_metric


class AddLoss(Layer):
    """Adds its input (a symbolic loss of a functional model) to the losses of each call;
    a non-scalar loss is averaged. Returns its input unchanged.

    Args:
        unconditional: kept for tf-keras configs.
    """

    def __init__(self, unconditional: bool = False, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.unconditional = unconditional
        self.built = True

    def call(self, inputs):
        self.add_loss(inputs if inputs.dim() == 0 else torch.mean(inputs))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> Dict[str, Any]:
        cfg = super().get_config()
        cfg["unconditional"] = self.unconditional
        return cfg


class AddMetric(Layer):
    """Tracks its input (a symbolic value of a functional model) as a metric: its mean over
    the batches of an epoch is logged as ``metric_name``. Returns its input unchanged.

    Args:
        aggregation: ``"mean"`` (``None`` means the same).
        metric_name: the name in the logs.
    """

    def __init__(self, aggregation: Optional[str] = "mean", metric_name: Optional[str] = None,
                 **kwargs):
        if aggregation not in (None, "mean"):
            raise ValueError('`add_metric` of a symbolic tensor supports aggregation="mean". '
                             f"Received: aggregation={aggregation!r}")
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.aggregation = aggregation
        self.metric_name = metric_name or self.name
        from .. import metrics as metrics_module
        self.__dict__["_metric"] = metrics_module.Mean(name=self.metric_name)
        self.built = True

    @property
    def graph_metric(self):
        return self.__dict__["_metric"]

    def call(self, inputs):
        if inputs.device.type != "meta":
            metric = self.__dict__["_metric"]
            metric.update_state(inputs.detach())
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> Dict[str, Any]:
        cfg = super().get_config()
        cfg.update({"aggregation": self.aggregation, "metric_name": self.metric_name})
        return cfg


def graph_metrics(model) -> List[Any]:
    """The metric objects of the ``AddMetric`` layers of a model (in layer order)."""
    return [layer.graph_metric for layer in model._flatten_layers() if isinstance(layer, AddMetric)]


def add_symbolic_loss(model, loss: KerasTensor) -> None:
    """``model.add_loss(symbolic)`` for a functional model: an ``AddLoss`` node in its graph."""
    _require_graph(model, "add_loss")
    model._add_graph_side_output(AddLoss()(loss))


def add_symbolic_metric(model, value: KerasTensor, name: Optional[str] = None,
                        aggregation: Optional[str] = "mean") -> None:
    """``model.add_metric(symbolic, name=..., aggregation="mean")`` for a functional model."""
    _require_graph(model, "add_metric")
    if name is None:
        raise ValueError("Please provide a name for your metric, e.g. "
                         "`model.add_metric(inputs, name='mean_activation')`.")
    model._add_graph_side_output(AddMetric(aggregation=aggregation, metric_name=name)(value))


def _require_graph(model, what: str) -> None:
    if not getattr(model, "_is_graph_network", False):
        raise ValueError(f"`{what}` of a symbolic tensor works on functional models (built from "
                         f"`Input` and layer calls). Received it on {type(model).__name__} "
                         f"{model.name!r}; call `self.{what}` inside `call()` with real tensors "
                         "instead.")
