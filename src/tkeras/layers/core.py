"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda,
ActivityRegularization, Masking, SpatialDropout1D/2D/3D."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Optional, Sequence

import numpy as np
import torch

from .. import activations, constraints, initializers, regularizers
from ..backend import config as backend_config
from ..backend import linear_ops
from ..backend.random_ops import SeededRNG, dropout_mask
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from ..engine.keras_tensor import KerasTensor, flatten


def use_linear_layout_(weight: torch.Tensor) -> None:
    """Stores a Keras ``(input, units)`` kernel column-major: torch.nn.Linear's ``(units,
    input)`` memory layout. Matmuls and their gradients then run the BLAS kernels torch's
    Linear runs (measured ~3% faster on the W1 MLP on CPU) and ``kernel.t()`` is the
    contiguous weight torch's fused RNN ops take, with no copy. The shape, get_weights and
    set_weights stay Keras's; gradients and optimizer slots follow the layout.

    Args:
        weight: a 2-D parameter, rewritten in place.
    """
    with torch.no_grad():
        weight.data = weight.data.t().contiguous().t()


class Dense(Layer):
    """Densely connected layer: ``output = activation(dot(input, kernel) + bias)``.

    Args:
        units: dimensionality of the output.
        activation: activation function (name or callable); None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer / bias_initializer: initializers of the weights.
        kernel_regularizer / bias_regularizer / activity_regularizer: regularizers.
        kernel_constraint / bias_constraint: constraints applied after updates.

    Input shape:
        N-D tensor ``(batch_size, ..., input_dim)``.

    Output shape:
        N-D tensor ``(batch_size, ..., units)``.

    Example:
        >>> model = Sequential([Dense(32, input_shape=(16,))])
        >>> model.output_shape
        (None, 32)
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        units = int(units) if not isinstance(units, int) else units
        if units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive integer. "
                             f"Received: units={units}")
        self.units = units
        self.activation = activations.get(activation)
        self._act = activations.tensor_form(self.activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        last_dim = input_shape[-1]
        if last_dim is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be defined. "
                             f"Found None. Full input shape received: {tuple(input_shape)}")
        self.kernel = self.add_weight("kernel", shape=(last_dim, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        use_linear_layout_(self.kernel)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last_dim})
        self.built = True

    def call(self, inputs):
        params = self._parameters  # direct reads skip nn.Module.__getattr__ on the hot path
        kernel, bias = params.get("kernel"), params.get("bias")
        if kernel is None:  # replaced by a parametrization or a plain tensor
            kernel, bias = self.kernel, self.bias
        if inputs.dtype != kernel.dtype:
            inputs = inputs.to(kernel.dtype)
        act = self._act
        relu = act is torch.relu
        out = linear_ops.dense(inputs, kernel, bias, relu)  # oneDNN's GEMM where faster
        if out is not None:
            return out if relu or act is None else act(out)
        if bias is not None and inputs.dim() == 2:
            out = torch.addmm(bias, inputs, kernel)
        else:
            out = torch.matmul(inputs, kernel)
            if bias is not None:
                out = out + bias
        return out if act is None else act(out)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


class Activation(Layer):
    """Applies an activation function to the input.

    Args:
        activation: name of an activation function (``'relu'``) or a callable.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> Activation("relu")(np.array([[-1.0, 2.0]], "float32"))
        tensor([[0., 2.]])
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Sets input units to 0 with frequency ``rate`` during training, scaling the rest by
    ``1 / (1 - rate)``; the identity at inference.

    Args:
        rate: fraction of the input units to drop, in [0, 1].
        noise_shape: shape of the binary dropout mask that is broadcast over the input
            (None entries take the input's size), e.g. ``(batch, 1, features)``.
        seed: a seed for the dropout masks.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> Dropout(0.5)(np.ones((1, 4), "float32"))  # inference: unchanged
        tensor([[1., 1., 1., 1.]])
        >>> Dropout(0.5, seed=2)(np.ones((1, 4), "float32"), training=True)  # kept: scaled by 1 / 0.5
        tensor([[2., 2., 0., 2.]])
    """

    def __init__(self, rate: float, noise_shape=None, seed: Optional[int] = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value "
                             f"between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True
        self._rng = SeededRNG(seed)

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        return tuple(inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))

    def call(self, inputs, training=None):
        if not training or not 0.0 < self.rate < 1.0:
            return inputs
        mask = dropout_mask(self._noise_shape(inputs) or inputs.shape, self.rate, inputs.dtype,
                            inputs.device, self._rng.generator(inputs.device))
        return inputs * mask  # Keras's x * (1 / (1 - rate)) * keep_mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class _SpatialDropout(Dropout):
    """Drops whole feature maps: the mask has size 1 on the spatial axes."""

    _rank = 1

    def __init__(self, rate: float, data_format: Optional[str] = None, **kwargs):
        kwargs.pop("noise_shape", None)
        super().__init__(rate, **kwargs)
        self.data_format = backend_config.normalize_data_format(data_format) if self._rank > 1 \
            else "channels_last"
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _noise_shape(self, inputs):
        if self.data_format == "channels_first":
            return (inputs.shape[0], inputs.shape[1]) + (1,) * self._rank
        return (inputs.shape[0],) + (1,) * self._rank + (inputs.shape[-1],)

    def get_config(self):
        config = super().get_config()
        if self.data_format != "channels_last":
            # tf-keras writes no data_format; keep a non-default one so it round-trips
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Spatial 1D dropout: drops entire 1D feature maps. Input: ``(samples, timesteps, channels)``.

    Example:
        >>> SpatialDropout1D(0.5)(np.zeros((2, 5, 3), "float32"), training=True).shape
        torch.Size([2, 5, 3])
    """

    _rank = 1


class SpatialDropout2D(_SpatialDropout):
    """Spatial 2D dropout: drops entire 2D feature maps. Input: 4D, channels_last by default.

    Example:
        >>> SpatialDropout2D(0.5)(np.zeros((2, 4, 4, 3), "float32"), training=True).shape
        torch.Size([2, 4, 4, 3])
    """

    _rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Spatial 3D dropout: drops entire 3D feature maps. Input: 5D, channels_last by default.

    Example:
        >>> SpatialDropout3D(0.5)(np.zeros((1, 2, 4, 4, 3), "float32"), training=True).shape
        torch.Size([1, 2, 4, 4, 3])
    """

    _rank = 3


class Flatten(Layer):
    """Flattens the input, keeping the batch axis: ``(batch, ...) -> (batch, prod(...))``.

    Args:
        data_format: with ``channels_first`` the input is transposed to channels_last
            before flattening, so weights ported between formats keep their order.

    Example:
        >>> Flatten()(np.zeros((2, 3, 4), "float32")).shape
        torch.Size([2, 12])
    """

    def __init__(self, data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend_config.normalize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.permute(0, *range(2, inputs.dim()), 1)
        if inputs.dim() == 1:
            return inputs.unsqueeze(1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        size = None if any(d is None for d in rest) else int(np.prod(rest))
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes the input (without the batch axis) to ``target_shape``; one entry may be -1.

    Example:
        >>> Reshape((6, 4))(np.zeros((2, 2, 3, 4), "float32")).shape
        torch.Size([2, 6, 4])
    """

    def __init__(self, target_shape: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        if sum(1 for d in self.target_shape if d == -1) > 1:
            raise ValueError("There must be at most one unknown dimension (-1) in output_shape. "
                             f"Received: target_shape={self.target_shape}")

    def _fix_unknown_dimension(self, input_shape, output_shape):
        output_shape = list(output_shape)
        known = 1
        unknown = None
        for i, d in enumerate(output_shape):
            if d < 0:
                unknown = i
            else:
                known *= d
        original = int(np.prod(input_shape))
        if unknown is not None:
            if known == 0 or original % known != 0:
                raise ValueError(f"The total size of the tensor must be unchanged. Received: "
                                 f"input_shape={tuple(input_shape)}, target_shape={self.target_shape}")
            output_shape[unknown] = original // known
        elif original != known:
            raise ValueError(f"The total size of the tensor must be unchanged. Received: "
                             f"input_shape={tuple(input_shape)}, target_shape={self.target_shape}")
        return tuple(output_shape)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._fix_unknown_dimension(rest, self.target_shape)

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` is 1-indexed, e.g. ``Permute((2, 1))``.

    Example:
        >>> Permute((2, 1))(np.zeros((2, 3, 4), "float32")).shape
        torch.Size([2, 4, 3])
    """

    def __init__(self, dims: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of "
                             "indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={self.dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return inputs.permute((0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(Layer):
    """Repeats a 2D input ``n`` times: ``(batch, features) -> (batch, n, features)``.

    Example:
        >>> RepeatVector(3)(np.zeros((2, 4), "float32")).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class ActivityRegularization(Layer):
    """Adds ``l1 * sum(|x|) + l2 * sum(x^2)`` of its input (per batch sample) to the losses.

    Example:
        >>> layer = ActivityRegularization(l1=0.1)
        >>> layer(np.ones((2, 3), "float32")).shape
        torch.Size([2, 3])
        >>> layer.losses  # 0.1 * sum(|x|) / batch size
        [tensor(0.3000)]
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config


class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value``; downstream layers that
    support masking (RNNs, pooling) skip them.

    Input shape: ``(samples, timesteps, features)``.

    Example:
        >>> Masking(mask_value=0.0)(np.array([[[1.0], [0.0]]], "float32"))._keras_mask
        tensor([[ True, False]])
    """

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        return torch.any(inputs != self.mask_value, dim=-1)

    def call(self, inputs):
        keep = torch.any(inputs != self.mask_value, dim=-1, keepdim=True)
        return inputs * keep.to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


def _check_lambda_outputs(layer: "Lambda", outputs) -> None:
    """A Lambda's function must return tensors: a tensor, or a list / tuple / dict of them."""
    structured = isinstance(outputs, (list, tuple, dict)) and outputs
    leaves = flatten(outputs) if structured else [outputs]
    for leaf in leaves:
        if not isinstance(leaf, torch.Tensor):
            what = "returned" if leaf is outputs else f"returned {type(outputs).__name__} holding"
            shown = repr(leaf)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise TypeError(
                f'The function of Lambda layer "{layer.name}" must return a tensor, or a list, '
                f"tuple or dict of tensors, but it {what} an object of type "
                f"{type(leaf).__name__}: {shown}")


class Lambda(Layer):
    """Wraps an expression as a layer: ``Lambda(lambda x: x ** 2)``.

    Args:
        function: the function to apply; it receives the input (and ``mask`` / ``training``
            if it has such parameters) plus ``arguments``.
        output_shape: expected output shape (without the batch axis) or a function of the
            input shape; used only when the shape cannot be found by running the function.
        mask: a mask, or a function ``f(inputs, mask)`` computing the output mask.
        arguments: extra keyword arguments for ``function``.

    Example:
        >>> Lambda(lambda t: t * 2)(np.array([[1.0, 2.0]], "float32"))
        tensor([[2., 4.]])
    """

    def __init__(self, function: Callable, output_shape=None, mask=None,
                 arguments: Optional[Dict[str, Any]] = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda expects a callable `function`. Received: {function!r}")
        self.function = function
        self.arguments = arguments or {}
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_takes_mask = "mask" in params
        self._fn_takes_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        outputs = self.function(inputs, **kwargs)
        if not isinstance(outputs, torch.Tensor):
            _check_lambda_outputs(self, outputs)
        return outputs

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def _produces_mask(self, input_masks) -> bool:
        return self.mask is not None

    def _uses_compute_output_shape(self) -> bool:
        return False  # the function itself is the truth; output_shape is only a fallback

    def compute_output_spec(self, inputs, *args, **kwargs):
        try:
            return super().compute_output_spec(inputs, *args, **kwargs)
        except Exception:
            if self._output_shape is None:
                raise
            return KerasTensor(self.compute_output_shape(_shapes_of(inputs)), self.dtype)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch,) + tuple(self._output_shape)

    def get_config(self):
        from ..utils.generic_utils import serialize_function
        config = super().get_config()
        function, function_type, module = serialize_function(self.function)
        config.update({"function": function, "function_type": function_type, "module": module})
        if callable(self._output_shape):
            out, out_type, out_module = serialize_function(self._output_shape)
        else:
            out = list(self._output_shape) if self._output_shape else None
            out_type, out_module = "raw", None
        config.update({"output_shape": out, "output_shape_type": out_type,
                       "output_shape_module": out_module})
        if self.mask is not None:  # tf-keras writes the mask keys only for a mask
            if callable(self.mask):
                mask, mask_type, mask_module = serialize_function(self.mask)
            else:
                mask, mask_type, mask_module = self.mask, "raw", None
            config.update({"mask": mask, "mask_type": mask_type, "mask_module": mask_module})
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode: Optional[bool] = None):
        """Rebuilds a Lambda layer. Functions stored by name resolve through
        ``custom_objects``, registered objects and tkeras's own functions; stored bytecode
        loads only with ``safe_mode=False`` (None keeps the enclosing ``SafeModeScope``)."""
        from ..saving.object_registration import safe_mode_scope
        from ..utils.generic_utils import deserialize_function
        config = dict(config)
        where = f'of Lambda layer "{config.get("name", "lambda")}"'

        def load(key: str, type_key: str, module_key: str, default_type: str):
            value = config.pop(key, None)
            kind = config.pop(type_key, default_type)
            module = config.pop(module_key, None)
            if kind == "raw" or value is None:
                return tuple(value) if key == "output_shape" and isinstance(value, list) else value
            return deserialize_function(value, kind, module, custom_objects, f"`{key}` {where}")

        with safe_mode_scope(safe_mode):
            function = load("function", "function_type", "module", "function")
            output_shape = load("output_shape", "output_shape_type", "output_shape_module", "raw")
            mask = load("mask", "mask_type", "mask_module", "raw")
        return cls(function, output_shape=output_shape, mask=mask, **config)


def _shapes_of(inputs):
    if isinstance(inputs, (list, tuple)):
        return [_shapes_of(x) for x in inputs]
    return tuple(inputs.shape)
