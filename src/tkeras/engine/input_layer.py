"""InputLayer and Input(): the entry points of a functional graph."""
from __future__ import annotations

from typing import Optional, Sequence

from ..backend import config
from .base_layer import Layer
from .keras_tensor import KerasTensor, Node


def _check_shape(shape, what: str) -> tuple:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"{what} must be a tuple of integers (None for unknown sizes). "
                         f"Received: {what}={shape!r}") from None
    for d in dims:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 0):
            if hasattr(d, "__index__") and not isinstance(d, bool) and int(d) >= 0:
                continue
            raise ValueError(f"{what} must be a tuple of non-negative integers or None. "
                             f"Received: {what}={shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


class InputLayer(Layer):
    """The layer behind ``Input()``: it holds the model's input placeholder.

    Args:
        input_shape: shape without the batch axis, e.g. ``(784,)``.
        batch_size: fixed batch size, or None.
        dtype: dtype of the input (default floatx).
        name: its name (default ``input_1``, ``input_2``, ...).
        batch_input_shape: full shape including the batch axis (Keras 2 configs).

    Example:
        >>> InputLayer(input_shape=(3,)).output.shape
        (None, 3)
    """

    def __init__(self, input_shape=None, batch_size: Optional[int] = None, dtype=None,
                 input_tensor=None, sparse: bool = False, name: Optional[str] = None,
                 ragged: bool = False, batch_input_shape=None, type_spec=None,
                 optional: bool = False, **kwargs):
        if "batch_shape" in kwargs:
            batch_input_shape = kwargs.pop("batch_shape")
        if name is None:
            name = "input_" + str(config.get_uid("input"))
        if sparse or ragged:
            raise ValueError("tkeras does not support sparse or ragged inputs "
                             f"(Input {name!r} received sparse={sparse}, ragged={ragged}).")
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError("Only provide the `input_shape` or `batch_input_shape` argument to "
                             "InputLayer, not both.")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if input_tensor is not None:
            batch_input_shape = input_tensor.shape
        elif batch_input_shape is not None:
            batch_input_shape = _check_shape(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            batch_input_shape = (batch_size,) + _check_shape(input_shape, "shape")
        else:
            raise ValueError("An Input needs a shape: pass `shape=` (without the batch axis) or "
                             "`batch_shape=`.")
        self._batch_input_shape = tuple(batch_input_shape)
        self.sparse = False
        self.ragged = False
        self.optional = optional
        self.built = True
        self.is_placeholder = True
        tensor = KerasTensor(self._batch_input_shape, self.dtype, name=name)
        Node(self, call_args=(), outputs=tensor)

    @property
    def output_shape(self):
        # tf-keras reports an InputLayer's output shape as a list holding one shape.
        return [self._batch_input_shape]

    def get_build_config(self) -> None:
        """None: an input layer is built by construction."""
        return None

    def get_config(self):
        return {"batch_input_shape": list(self._batch_input_shape), "dtype": self.dtype,
                "sparse": False, "ragged": False, "name": self.name, "optional": self.optional}

    def count_params(self) -> int:
        return 0


def Input(shape: Optional[Sequence[Optional[int]]] = None, batch_size: Optional[int] = None,
          name: Optional[str] = None, dtype=None, sparse: bool = False, tensor=None,
          ragged: bool = False, batch_shape=None, **kwargs) -> KerasTensor:
    """A symbolic input for a functional model.

    Args:
        shape: the shape of one sample (no batch axis), e.g. ``(784,)`` or ``(None, 16)``.
        batch_size: optional fixed batch size.
        name: the input's name (used in dicts passed to fit / predict).
        dtype: its dtype, e.g. ``'int32'`` for token ids (default floatx).
        batch_shape: the full shape including the batch axis, instead of shape.

    Example:
        >>> x = Input(shape=(784,))
        >>> y = Dense(10, activation="softmax")(x)
        >>> model = Model(x, y)
    """
    if "batch_input_shape" in kwargs:
        batch_shape = kwargs.pop("batch_input_shape")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments to Input: {sorted(kwargs)}")
    if shape is None and batch_shape is None and tensor is None:
        raise ValueError("Please provide to Input a `shape` or a `tensor` or a `batch_shape` "
                         "argument. Note that `shape` does not include the batch dimension.")
    if shape is not None and batch_shape is not None:
        raise ValueError("Only provide the `shape` OR `batch_shape` argument to Input, not both "
                         f"at the same time. Received: shape={shape}, batch_shape={batch_shape}")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       batch_input_shape=batch_shape, input_tensor=tensor)
    return layer._inbound_nodes[0].outputs
