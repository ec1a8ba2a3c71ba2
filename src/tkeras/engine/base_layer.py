"""Layer: a ``torch.nn.Module`` with Keras's contract.

``__call__`` does the Keras work (symbolic dispatch, build from the first input shape,
input_spec checks, masks, the ``training`` flag, activity regularization) and then runs
``forward`` (which is ``call``): directly when torch's ``__call__`` would do nothing more,
through ``torch.nn.Module.__call__`` when hooks, ``module.compile()`` or jit tracing need it.

Around it: ``call_context`` (the per-thread call state and weight name scopes),
``base_layer_utils`` (inputs, masks, shapes, weight creation), ``shape_inference`` (symbolic
shapes found by running ``call`` on meta tensors), ``layer_nodes`` (the graph properties) and
``torch_internals`` (the torch state that decides whether ``forward`` can be called directly).
"""
from __future__ import annotations

import inspect
import re
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from .. import _warn
from ..backend import config
from ..backend.variables import KerasBuffer, to_numpy
from ..mixed_precision import policy as mp_policy
from ..mixed_precision.autocast import autocast_inputs, weights_in_compute_dtype
from ..saving.object_registration import Registry
from .base_layer_utils import (
    NO_MASK,
    as_build_shape,
    call_signature,
    class_property,
    collect_masks,
    convert_inputs,
    dedup,
    flags_as_keywords,
    list_to_shape,
    make_weight,
    set_masks,
    shape_structure,
    shape_to_list,
    short_shapes,
    spec_shapes,
    to_snake_case,
)
from .call_context import build_in_parent_scope, call_context, name_scope  # noqa: F401
from .call_errors import with_call_info
from .input_spec import InputSpec, assert_input_compatibility
from .keras_tensor import KerasTensor, Node, flatten, has_keras_tensor, map_structure
from .layer_nodes import LayerNodesMixin
from .shape_inference import (
    infer_outputs_by_running,
    keras_tensors_from_shapes,
    shape_leaves_to_kt,
    swap_module_to_meta,
    symbolic_mask,
)
from .torch_internals import runs_plain_forward

_ALLOWED_KWARGS = {"input_dim", "input_shape", "batch_input_shape", "batch_size", "weights",
                   "activity_regularizer", "autocast", "implementation", "dynamic"}

_CTX = call_context()


# ------------------------------------------------------------------ the Layer

LAYER_REGISTRY = Registry("layer")
"""Keras class names -> tkeras classes, filled as layer modules are imported."""


def register_layer_alias(name: str, cls: type) -> None:
    """Lets configs that use an old Keras name (``Convolution2D``) load as ``cls``."""
    LAYER_REGISTRY[name] = cls


class Layer(LayerNodesMixin, nn.Module):
    """Base class of all tkeras layers: a ``torch.nn.Module`` with Keras's contract.

    Subclasses implement ``build(input_shape)`` (create weights with ``add_weight``),
    ``call(inputs, ...)`` and, optionally, ``compute_output_shape``, ``compute_mask``
    and ``get_config``.

    Args:
        trainable: whether the layer's weights are updated in training.
        name: the layer's name; unique automatic names (``dense``, ``dense_1``, ...) otherwise.
        dtype: the dtype of the weights and computations (default: floatx).
        input_shape / batch_input_shape / batch_size / input_dim: the input shape, for
            the first layer of a Sequential model.
        activity_regularizer: a regularizer applied to the output.

    Example:
        >>> class MyLayer(Layer):
        ...     def __init__(self, output_dim, **kwargs):
        ...         self.output_dim = output_dim
        ...         super(MyLayer, self).__init__(**kwargs)
        ...     def build(self, input_shape):
        ...         self.kernel = self.add_weight(name="kernel",
        ...             shape=(input_shape[1], self.output_dim), initializer="uniform")
        ...         super(MyLayer, self).build(input_shape)
        ...     def call(self, x):
        ...         return K.dot(x, self.kernel)
        ...     def compute_output_shape(self, input_shape):
        ...         return (input_shape[0], self.output_dim)
    """

    _keras_module = "keras.layers"
    # Whether fit's automatic compiling (compile(jit_compile=None), step_runner.plan) may
    # compile a model holding this layer: False where tracing unrolls a Python loop over
    # time (the RNN layers), which compiles for minutes and runs no faster.
    _auto_compile = True
    # set for each subclass by __init_subclass__ (and for Layer at the end of this module)
    _accepts_training: bool
    _accepts_mask: bool
    _overrides_compute_mask: bool
    _initial_weights: Optional[List[Any]]  # the `weights=` argument, set once built

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LAYER_REGISTRY.add_class(cls)
        if "call" in cls.__dict__:
            cls.forward = cls.__dict__["call"]  # torch's __call__ goes straight to call
        elif "forward" in cls.__dict__:
            cls.call = cls.__dict__["forward"]  # a torch-style layer that defines forward
        accepts_training, accepts_mask, _, _ = call_signature(cls.call)
        cls._accepts_training = accepts_training
        cls._accepts_mask = accepts_mask
        cls._overrides_compute_mask = cls.compute_mask is not Layer.compute_mask

    def __new__(cls, *args, **kwargs):
        # nn.Module's bookkeeping exists before any subclass __init__ runs, so Keras 2
        # layers that set attributes before calling super().__init__() work.
        obj = super().__new__(cls)
        nn.Module.__init__(obj)
        obj.__dict__["_layer_initialized"] = False
        return obj

    def __init__(self, trainable: bool = True, name: Optional[str] = None, dtype=None,
                 dynamic: bool = False, **kwargs):
        unknown = set(kwargs) - _ALLOWED_KWARGS
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r} "
                            f"(passed to layer {type(self).__name__})")
        d = self.__dict__
        d["_layer_initialized"] = True
        d["_trainable"] = bool(trainable)
        if name is None:
            name = config.unique_object_name(to_snake_case(type(self).__name__))
        elif not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        d["_name"] = name
        self._set_dtype_policy(dtype)
        d["built"] = d.get("built", False)
        d.setdefault("input_spec", None)
        d.setdefault("supports_masking", False)
        d["_inbound_nodes"] = []
        d["_outbound_nodes"] = []
        d["_own_weights"] = []
        d["_weight_regularizers"] = []
        d["_callable_losses"] = []
        d["_call_losses"] = []
        d["_spec_checked"] = None
        d["_build_input_shape"] = None
        d["stateful"] = d.get("stateful", False)
        d["dynamic"] = dynamic
        self.training = False  # Keras semantics: inference unless told otherwise
        if "activity_regularizer" in kwargs:
            from .. import regularizers
            d["_activity_regularizer"] = regularizers.get(kwargs["activity_regularizer"])
        else:
            d.setdefault("_activity_regularizer", None)
        self._init_input_shape(kwargs)
        d["_initial_weights"] = kwargs.get("weights")
        d["autocast"] = kwargs.get("autocast", True)

    def _init_input_shape(self, kwargs: Dict[str, Any]) -> None:
        if "batch_input_shape" in kwargs and kwargs["batch_input_shape"] is not None:
            self._batch_input_shape = tuple(kwargs["batch_input_shape"])
        elif "input_shape" in kwargs and kwargs["input_shape"] is not None:
            shape = kwargs["input_shape"]
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            self._batch_input_shape = (kwargs.get("batch_size"),) + shape
        elif "input_dim" in kwargs and kwargs["input_dim"] is not None:
            self._batch_input_shape = (kwargs.get("batch_size"), kwargs["input_dim"])

    # -------------------------------------------------------------- attributes

    @property
    def name(self) -> str:
        return self.__dict__.get("_name") or to_snake_case(type(self).__name__)

    def _set_dtype_policy(self, dtype) -> None:
        """The layer's dtype policy (``dtype``: None, a dtype, a policy name, a ``Policy``
        or its config); floating inputs are cast to its compute dtype, weights are made in
        its variable dtype and, under a mixed policy, read cast to the compute dtype."""
        d = self.__dict__
        policy = mp_policy.get_policy(dtype)
        d["_dtype_policy"] = policy
        d["_dtype"] = policy.variable_dtype
        d["_torch_dtype"] = config.torch_dtype(policy.variable_dtype)
        compute = config.torch_dtype(policy.compute_dtype)
        # the same object when not mixed: the input cast test costs nothing extra
        d["_compute_torch_dtype"] = d["_torch_dtype"] if compute is d["_torch_dtype"] else compute
        d["_casts_weights"] = mp_policy.is_mixed(policy)
        if d["_casts_weights"]:
            d["_run_forward"] = self._run_forward_with_cast_weights
        else:
            d.pop("_run_forward", None)

    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights (the policy's variable dtype), as in tf-keras."""
        return self.__dict__.get("_dtype") or config.floatx()

    @property
    def dtype_policy(self) -> "mp_policy.Policy":
        """The layer's ``tkeras.mixed_precision.Policy``."""
        return self.__dict__["_dtype_policy"]

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations and outputs."""
        return self.__dict__["_dtype_policy"].compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights."""
        return self.dtype

    @property
    def activity_regularizer(self):
        return self.__dict__.get("_activity_regularizer")

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        from .. import regularizers
        self.__dict__["_activity_regularizer"] = regularizers.get(value)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, nn.Parameter):
            self._adopt_parameter(name, value)
            return
        if isinstance(value, KerasBuffer):
            self._adopt_buffer(name, value)
            return
        if isinstance(value, (list, tuple)) and value and any(isinstance(v, nn.Module) for v in value):
            # Keras tracks lists of layers; torch needs a ModuleList to see them.
            modules = [v for v in value if isinstance(v, nn.Module)]
            nn.Module.__setattr__(self, f"_tracked_{name}", nn.ModuleList(modules))
            object.__setattr__(self, name, value)
            return
        nn.Module.__setattr__(self, name, value)

    def _adopt_parameter(self, name: str, param: nn.Parameter) -> None:
        """``self.kernel = self.add_weight(...)``: register the weight under the attribute name."""
        params = self.__dict__.get("_parameters")
        if params is not None:
            for key, p in list(params.items()):
                if p is param and key != name:
                    del params[key]
        nn.Module.__setattr__(self, name, param)

    def _adopt_buffer(self, name: str, buffer: KerasBuffer) -> None:
        """``self.moving_mean = self.add_weight(..., synchronization="ON_READ")``: the
        buffer weight is registered under the attribute name."""
        buffers = self.__dict__["_buffers"]
        for key, b in list(buffers.items()):
            if b is buffer and key != name:
                del buffers[key]
        self.__dict__.pop(name, None)
        self.__dict__["_parameters"].pop(name, None)
        self.__dict__["_modules"].pop(name, None)
        buffers[name] = buffer

    def __getattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            values = d.get(store)
            if values is not None and name in values:
                return values[name]
        prop = class_property(type(self), name)
        if prop is not None:
            # A Keras property raised AttributeError (e.g. `layer.input` of a shared layer):
            # surface its own message instead of "has no attribute".
            return prop.fget(self)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # -------------------------------------------------------------- trainable

    @property
    def trainable(self) -> bool:
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        for layer in self._flatten_layers(include_self=True):
            layer.__dict__["_trainable"] = value
            for w in layer._own_weights:
                w.requires_grad_(value and w._keras_trainable)

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True) -> Iterator["Layer"]:
        """This layer and its sublayers (depth first, attribute order, no repeats)."""
        seen = set()
        stack = [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if layer is not self or include_self:
                yield layer
            if layer is not self and not recursive:
                continue
            children = [m for m in layer._direct_sublayers() if id(m) not in seen]
            stack.extend(reversed(children))

    def _direct_sublayers(self) -> List["Layer"]:
        """Sublayers in tracking order; plain torch modules inside are not Keras layers."""
        out = []
        for m in self._modules.values():
            if isinstance(m, Layer):
                out.append(m)
            elif isinstance(m, (nn.ModuleList, nn.Sequential)):
                out.extend(x for x in m if isinstance(x, Layer))
            elif isinstance(m, nn.ModuleDict):
                out.extend(x for x in m.values() if isinstance(x, Layer))
        return out

    # -------------------------------------------------------------- weights

    def add_weight(self, name: Optional[str] = None, shape=None, dtype=None, initializer=None,
                   regularizer=None, trainable: Optional[bool] = None, constraint=None,
                   **kwargs) -> torch.Tensor:
        """Creates a weight, registers it with torch and returns it.

        Args:
            name: the weight's name (``kernel``); its Keras name, ``weight.name``, is
                ``<scope>/kernel:0``.
            shape: its shape in Keras's layout.
            dtype: its dtype (default: the layer's variable dtype).
            initializer: name, Initializer or callable ``f(shape, dtype=None)``.
            regularizer: name, Regularizer or callable; its value is in ``layer.losses``.
            trainable: whether the optimizer updates it (default True).
            constraint: applied after each optimizer update.
            synchronization: ``"ON_READ"`` (with ``trainable=False``) makes state that is
                read, not trained (BatchNormalization's moving statistics): it is kept as a
                module buffer (``KerasBuffer``) instead of a parameter.
            experimental_autocast: False keeps the weight in its own dtype inside the
                call under a mixed precision policy (default: read cast to the compute dtype).

        Returns:
            A ``KerasWeight`` (a ``torch.nn.Parameter``), or a ``KerasBuffer`` for
            ``synchronization="ON_READ"``.
        """
        from .. import regularizers
        if shape is None:
            shape = ()
        shape = tuple(int(d) for d in (shape if isinstance(shape, (list, tuple, torch.Size)) else (shape,)))
        if any(d is None or d < 0 for d in shape):
            raise ValueError(f"Layer {self.name}: cannot create weight {name!r} with an undefined or "
                             f"negative dimension: shape={shape}")
        name = name or f"weight_{len(self._own_weights)}"
        param = make_weight(self, name, shape, dtype, initializer, trainable, constraint, kwargs)
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._weight_regularizers.append((param, reg))
        key = re.sub(r"[^0-9a-zA-Z_]", "_", name)
        while key in self._parameters or key in self._modules or key in self._buffers or \
                (key in self.__dict__):
            key = key + "_"
        if isinstance(param, KerasBuffer):
            self._buffers[key] = param
        else:
            nn.Module.register_parameter(self, key, param)
        self._own_weights.append(param)
        return param

    add_variable = add_weight

    @property
    def trainable_weights(self) -> List[nn.Parameter]:
        if not self.trainable:
            return []
        own = [w for w in self._own_weights if w._keras_trainable]
        children = [w for c in self._direct_sublayers() for w in c.trainable_weights]
        return dedup(own + children)

    @property
    def non_trainable_weights(self) -> List[nn.Parameter]:
        if self.trainable:
            own = [w for w in self._own_weights if not w._keras_trainable]
            children = [w for c in self._direct_sublayers() for w in c.non_trainable_weights]
        else:
            own = [w for w in self._own_weights if w._keras_trainable] + \
                  [w for w in self._own_weights if not w._keras_trainable]
            children = [w for c in self._direct_sublayers() for w in c.weights]
        return dedup(own + children)

    @property
    def weights(self) -> List[nn.Parameter]:
        """trainable_weights + non_trainable_weights, each in creation order."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def variables(self) -> List[nn.Parameter]:
        return self.weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    def get_weights(self) -> List[np.ndarray]:
        """The weights as numpy arrays, in Keras's order and shapes."""
        return [to_numpy(w, copy=True) for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Sets the weights from numpy arrays in Keras's order and shapes."""
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight list of '
                f"length {len(weights)}, but the layer was expecting {len(params)} weights. "
                f"Provided weights: {short_shapes(weights)}")
        for p, w in zip(params, weights):
            arr = np.asarray(w)
            if tuple(arr.shape) != tuple(p.shape):
                raise ValueError(
                    f'Layer {self.name} weight shape {tuple(p.shape)} is not compatible with '
                    f"provided weight shape {tuple(arr.shape)} (weight {getattr(p, '_keras_name', '')!r}).")
        with torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(torch.as_tensor(np.asarray(w), dtype=p.dtype, device=p.device))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name}, but the "
                             "layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    def constraint_pairs(self) -> List[Tuple[nn.Parameter, Any]]:
        """(weight, constraint) for every constrained weight of this layer and its sublayers."""
        return [(w, w._keras_constraint) for layer in self._flatten_layers()
                for w in layer._own_weights if w._keras_constraint is not None]

    # -------------------------------------------------------------- losses

    def add_loss(self, losses, inputs=None) -> None:
        """Adds loss tensors (or zero-argument callables) to the layer's ``losses``."""
        for loss in (losses if isinstance(losses, (list, tuple)) else [losses]):
            if loss is None:
                continue
            if isinstance(loss, KerasTensor):  # a functional model's symbolic loss
                from .op_layer import add_symbolic_loss
                add_symbolic_loss(self, loss)
                continue
            if callable(loss) and not isinstance(loss, torch.Tensor):
                self._callable_losses.append(loss)
                continue
            if not isinstance(loss, torch.Tensor):
                loss = torch.as_tensor(loss, dtype=config.torch_dtype())
            self._call_losses.append(loss)
            _CTX.losses.append(loss)

    @property
    def losses(self) -> List[torch.Tensor]:
        """Regularization losses of the weights, plus losses added in the latest call."""
        out: List[torch.Tensor] = []
        for layer in self._flatten_layers():
            out.extend(reg(w) for w, reg in layer._weight_regularizers)
            out.extend(torch.as_tensor(fn()) for fn in layer._callable_losses)
            out.extend(layer._call_losses)
        return out

    def weight_regularization_pairs(self) -> List[Tuple[nn.Parameter, Any]]:
        return [pair for layer in self._flatten_layers() for pair in layer._weight_regularizers]

    @property
    def updates(self):
        return []

    @property
    def metrics(self):
        return []

    # -------------------------------------------------------------- build / call

    def build(self, input_shape) -> None:
        """Creates the weights; Keras 2 layers end with ``super().build(input_shape)``."""
        self._build_input_shape = input_shape
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)  # subclasses get forward = call directly

    def _maybe_build(self, input_shapes, own_scope: bool = True) -> None:
        if self.built:
            return
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, spec_shapes(input_shapes), self.name)
        with name_scope(self.name if own_scope else None, owner=self):
            self.build(as_build_shape(input_shapes))
        self.built = True
        if self._build_input_shape is None:
            self._build_input_shape = as_build_shape(input_shapes)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        if _CTX.meta_swaps is not None:  # built during a meta-device run
            swap_module_to_meta(self, _CTX.meta_swaps)

    def __call__(self, *args, **kwargs):
        if not self.__dict__.get("_layer_initialized", False):
            raise RuntimeError(f"Layer {type(self).__name__} was called before its __init__ "
                               "called super().__init__().")
        if args:
            inputs, rest = args[0], args[1:]
            if type(inputs) is torch.Tensor and not rest and not kwargs:
                return self._eager_call(inputs, (), {})  # the common case, kept short
        elif "inputs" in kwargs:
            inputs, rest = kwargs.pop("inputs"), ()
        else:
            raise ValueError(f"Layer {self.name} was called without an input.")
        if rest and (self._accepts_training or self._accepts_mask):
            rest, kwargs = flags_as_keywords(type(self).call, rest, kwargs)
        if has_keras_tensor(inputs) or has_keras_tensor(kwargs) or has_keras_tensor(list(rest)):
            return self._symbolic_call(inputs, rest, kwargs)
        return self._eager_call(inputs, rest, kwargs)

    # .............................................................. eager

    def _eager_call(self, inputs, rest: tuple, kwargs: dict):
        d = self.__dict__
        if not isinstance(inputs, torch.Tensor):
            inputs = convert_inputs(inputs, None)
            if d["autocast"] and d["_compute_torch_dtype"].is_floating_point:
                inputs = autocast_inputs(inputs, d["_compute_torch_dtype"])
        elif inputs.dtype is not d["_compute_torch_dtype"] and d["autocast"] \
                and inputs.is_floating_point() and d["_compute_torch_dtype"].is_floating_point \
                and inputs.device.type != "meta":
            inputs = inputs.to(d["_compute_torch_dtype"])
        if not d["built"]:
            self._maybe_build(shape_structure(inputs))
        spec = d["input_spec"]
        if spec is not None:
            # (a compiled step checks at trace time and leaves the shape cache alone: its
            # graph would guard on the cache, which eager calls with other shapes rewrite)
            checked = d["_spec_checked"]
            if torch.compiler.is_compiling() or checked is None or checked[0] is not spec \
                    or type(inputs) is not torch.Tensor or inputs.shape != checked[1]:
                self._check_input_spec(spec, inputs)
        ctx = _CTX
        if ctx.depth and not kwargs and not rest and type(inputs) is torch.Tensor \
                and not self._overrides_compute_mask and d["_activity_regularizer"] is None \
                and getattr(inputs, "_keras_mask", None) is None:
            # A plain tensor inside an outer layer call (a model's step): the outer call has
            # set the training flag and collects losses; no mask comes in or goes out.
            if d["_call_losses"]:
                d["_call_losses"] = []
            if self._accepts_training:
                kwargs = {"training": ctx.training}
            return self._run_forward(inputs, rest, kwargs)
        training = kwargs.get("training") if kwargs else None
        if training is None:
            training = ctx.training
            if training is None:
                phase = config.learning_phase_if_set()
                training = bool(phase) if phase is not None else d["training"]
        if self._accepts_training:
            kwargs["training"] = training
        elif kwargs:
            kwargs.pop("training", None)
        input_masks = kwargs.pop("mask", NO_MASK) if kwargs else NO_MASK
        if input_masks is NO_MASK:
            input_masks = collect_masks(inputs)
        if self._accepts_mask and input_masks is not None:
            kwargs["mask"] = input_masks
        if d["_call_losses"]:
            d["_call_losses"] = []
        outer_training, outer_depth = ctx.training, ctx.depth
        if outer_depth == 0:
            ctx.losses = []
        ctx.training, ctx.depth = training, outer_depth + 1
        try:
            outputs = self._run_forward(inputs, rest, kwargs)
        finally:
            ctx.training, ctx.depth = outer_training, outer_depth
        if d["_activity_regularizer"] is not None:
            self._add_activity_loss(outputs)
        if self._overrides_compute_mask or input_masks is not None:
            if self._produces_mask(input_masks):
                set_masks(outputs, self.compute_mask(inputs, input_masks))
        return outputs

    def _run_forward(self, inputs, rest: tuple, kwargs: dict):
        """``forward``, directly or through torch's ``__call__`` when it has work to do.
        An exception inside is raised again naming this layer (see ``call_errors``)."""
        try:
            if runs_plain_forward(self.__dict__):
                return self.forward(inputs, *rest, **kwargs)
            return nn.Module.__call__(self, inputs, *rest, **kwargs)
        except Exception as e:
            error = with_call_info(self, e, inputs, rest, kwargs)
            if error is e:
                raise
            raise error from e

    def _run_forward_with_cast_weights(self, inputs, rest: tuple, kwargs: dict):
        """``_run_forward`` of a layer with a mixed policy (its instance's ``_run_forward``,
        so float32 layers run theirs unchanged): the weights read in the compute dtype."""
        if id(self) in _CTX.cast_layers:
            return Layer._run_forward(self, inputs, rest, kwargs)
        with weights_in_compute_dtype(self, _CTX.cast_layers):
            return Layer._run_forward(self, inputs, rest, kwargs)

    def _check_input_spec(self, spec, inputs) -> None:
        """input_spec check; a single spec against a single tensor takes a short path."""
        d = self.__dict__
        if isinstance(inputs, torch.Tensor) and isinstance(spec, InputSpec) and spec.shape is None \
                and not spec.allow_last_axis_squeeze:
            ndim = inputs.dim()
            if (spec.ndim is None or ndim == spec.ndim) and \
                    (spec.min_ndim is None or ndim >= spec.min_ndim) and \
                    (spec.max_ndim is None or ndim <= spec.max_ndim):
                shape = inputs.shape
                if all(v is None or (-ndim <= a < ndim and shape[a] == v) for a, v in spec.axes.items()):
                    if not torch.compiler.is_compiling():
                        d["_spec_checked"] = (spec, shape)  # the next call like this skips it
                    return
        assert_input_compatibility(spec, spec_shapes(shape_structure(inputs)), d["_name"])

    def _produces_mask(self, input_masks) -> bool:
        return self._overrides_compute_mask or \
            (input_masks is not None and self.supports_masking)

    def _add_activity_loss(self, outputs) -> None:
        for out in flatten(outputs):
            if isinstance(out, torch.Tensor) and out.device.type != "meta":
                batch = out.shape[0] if out.dim() else 1
                self.add_loss(self._activity_regularizer(out) / batch)

    # .............................................................. symbolic

    def _symbolic_call(self, inputs, rest: tuple, kwargs: dict):
        if not self.built:
            self._maybe_build(shape_structure(inputs))
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, self._spec_input_shapes(inputs), self.name)
        outputs = self.compute_output_spec(inputs, *rest, **kwargs)
        Node(self, call_args=(inputs,) + tuple(rest), call_kwargs=kwargs, outputs=outputs)
        return outputs

    def _spec_input_shapes(self, inputs) -> List[tuple]:
        """The input shapes, in ``input_spec``'s order, of a symbolic call."""
        return spec_shapes(shape_structure(inputs))

    def compute_output_spec(self, inputs, *args, **kwargs):
        """Output KerasTensor(s) (with masks) for symbolic inputs; records no node."""
        input_masks = kwargs.get("mask", NO_MASK)
        if input_masks is NO_MASK or input_masks is None:
            input_masks = collect_masks(inputs)
        if self._uses_compute_output_shape() and not kwargs.get("mask"):
            shapes = self.compute_output_shape(shape_structure(inputs))
            outputs = keras_tensors_from_shapes(shapes, self.compute_dtype)
        else:
            outputs = infer_outputs_by_running(self, inputs, args, kwargs)
        if self._produces_mask(input_masks):
            masks = self._symbolic_mask(inputs, input_masks)
            set_masks(outputs, masks)
        return outputs

    def _uses_compute_output_shape(self) -> bool:
        """Symbolic shapes come from compute_output_shape when the layer defines it."""
        return type(self).compute_output_shape is not Layer.compute_output_shape

    def _symbolic_mask(self, inputs, input_masks):
        if type(self).compute_mask is Layer.compute_mask:
            return input_masks  # masks pass through unchanged
        return symbolic_mask(self, inputs, input_masks)

    def compute_output_shape(self, input_shape):
        """Output shape(s) for an input shape; by default found by running ``call`` on meta tensors."""
        inputs = map_structure(lambda s: KerasTensor(s), shape_leaves_to_kt(input_shape))
        out = infer_outputs_by_running(self, inputs, (), {})
        return map_structure(lambda t: t.shape, out)

    def compute_mask(self, inputs, mask=None):
        """The output mask; by default the input mask when ``supports_masking``, else None."""
        if not self.supports_masking:
            return None
        return mask

    # -------------------------------------------------------------- config

    def get_config(self) -> Dict[str, Any]:
        config_ = {"name": self.name, "trainable": self.trainable}
        if hasattr(self, "_batch_input_shape"):
            config_["batch_input_shape"] = list(self._batch_input_shape)
        config_["dtype"] = mp_policy.serialize(self.dtype_policy)
        if self._activity_regularizer is not None and type(self).get_config is Layer.get_config:
            from .. import regularizers
            config_["activity_regularizer"] = regularizers.serialize(self._activity_regularizer)
        init_params = inspect.signature(type(self).__init__).parameters
        if type(self).get_config is Layer.get_config:
            extra = [p for p in init_params if p not in ("self", "trainable", "name", "dtype",
                                                          "dynamic", "args", "kwargs")]
            if extra:
                raise NotImplementedError(
                    f"Layer {type(self).__name__} has arguments {extra} in `__init__` and therefore "
                    "must override `get_config()`.")
        return config_

    @classmethod
    def from_config(cls, config: Dict[str, Any]):
        return cls(**config)

    def get_build_config(self):
        if self._build_input_shape is not None:
            return {"input_shape": shape_to_list(self._build_input_shape)}
        return None

    def build_from_config(self, build_config) -> None:
        shape = build_config.get("input_shape") if build_config else None
        if shape is not None and not self.built:
            self._maybe_build(list_to_shape(shape))

    # -------------------------------------------------------------- torch conversions

    def _apply(self, fn, recurse: bool = True):
        """``nn.Module._apply`` (behind ``.to()``, ``.double()``, ``.half()``, ``.cuda()``,
        ...), then two Keras-side updates: buffer weights replaced by torch get their
        ``KerasBuffer`` wrapper and Keras attributes back, and a conversion of the floating
        dtype (``.double()``) makes it the layer's dtype policy, so inputs are cast to it."""
        before = dict(self._buffers)
        super()._apply(fn, recurse)
        self._rewrap_buffer_weights(before)
        probe = fn(torch.empty(0, dtype=self.__dict__["_torch_dtype"]))
        if isinstance(probe, torch.Tensor) and probe.is_floating_point() \
                and probe.dtype is not self.__dict__["_torch_dtype"]:
            self._set_dtype_policy(config.dtype_name(probe.dtype))
        return self

    def _rewrap_buffer_weights(self, before: Dict[str, Any]) -> None:
        buffers = self._buffers
        replaced = {}
        for key, old in before.items():
            new = buffers.get(key)
            if isinstance(old, KerasBuffer) and new is not old and new is not None:
                wrapped = new if isinstance(new, KerasBuffer) else KerasBuffer(new)
                wrapped.__dict__.update(old.__dict__)
                buffers[key] = wrapped
                replaced[id(old)] = wrapped
        if replaced:
            d = self.__dict__
            d["_own_weights"] = [replaced.get(id(w), w) for w in d["_own_weights"]]
            d["_weight_regularizers"] = [(replaced.get(id(w), w), r)
                                         for w, r in d["_weight_regularizers"]]

    def __prepare_scriptable__(self):
        """``torch.jit.script`` calls this first: Keras layers run Python that TorchScript
        cannot compile, so the error says what works instead."""
        raise TypeError(
            f'torch.jit.script cannot compile the tkeras layer "{self.name}" '
            f"({type(self).__name__}): Keras layers run Python (symbolic calls, masks, the "
            "training flag) that TorchScript does not support. Use "
            "torch.jit.trace(model, (x,)), torch.export.export(model, (x,)), "
            "torch.onnx.export(model, (x,)) or torch.compile(model) instead.")

    # -------------------------------------------------------------- misc

    def extra_repr(self) -> str:
        return f"name={self.name!r}"

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} object: name={self.name!r}>"

    def reset_states(self, states=None):
        for layer in self._flatten_layers(include_self=False):
            if hasattr(layer, "reset_states") and getattr(layer, "stateful", False):
                layer.reset_states()


Layer._accepts_training, Layer._accepts_mask = False, False
Layer._overrides_compute_mask = False



def warn(message: str) -> None:
    import warnings
    warnings.warn(message, _warn.TkerasWarning, stacklevel=3)
