"""Tensor functions of the Keras backend ``K``, on torch tensors.

``from tkeras import backend as K`` gives the functions that Keras 2 custom layers,
losses and metrics call (``K.dot``, ``K.batch_dot``, ``K.sum``, ``K.dropout``, ...), with
tf.keras 2 semantics. Every function accepts torch tensors, numpy arrays, Python
numbers and lists (converted by one helper, ``_as_tensor``: floats become ``floatx()``)
and returns torch tensors, so autograd flows through them. Nothing here reads a tensor's
value on the host except the explicit host reads ``get_value`` / ``eval`` /
``batch_get_value`` / ``print_tensor``.

This module gathers the functions of the topic modules beside it, so that
``from tkeras.backend import ops`` and ``from .ops import *`` see all of ``K``:

* ``variables``: tensors, variables and values (``variable``, ``constant``,
  ``get_value``, ``set_value``, ``int_shape``, ``cast``, ``update_add``, ...);
* ``math_ops``: reductions, element-wise math and comparisons;
* ``shape_ops``: ``dot`` / ``batch_dot``, ``reshape``, ``concatenate``, ``tile``, ...;
* ``control_flow_ops``: ``switch``, ``in_train_phase``, ``map_fn``, ``foldl``, ...;
* ``nn_ops``: activations, ``bias_add``, ``dropout``, batch normalization,
  cross-entropies;
* ``random_ops``: the seeded generators and ``random_*``;
* ``conv_ops``: convolutions, pooling and unshared-weight convolutions;
* ``array_ops``: padding, resizing, ``slice`` and ``size``;
* ``rnn_ops`` / ``ctc_ops``: ``rnn`` and the CTC loss and decoders;
* ``conversion``: the shared conversion helpers (not part of ``K``).

Differences from TensorFlow that follow from torch:
* ``shape(x)`` is ``x.shape`` (a ``torch.Size`` of ints), not a tensor.
* ``variable(...)`` is a plain leaf tensor (``requires_grad=False``) carrying
  ``_keras_name`` (``"<name>:0"``) and ``constraint`` attributes.
* Seeded random functions draw from one ``torch.Generator`` per (seed, device): successive
  calls give a reproducible sequence of *different* values, as TF's seeded stateful ops
  do. ``clear_session()`` restarts these sequences. Unseeded calls use torch's global RNG
  (``torch.manual_seed`` / ``tkeras.utils.set_random_seed`` condition them).
"""
from __future__ import annotations

from .config import (  # noqa: F401 - part of K
    epsilon, floatx, learning_phase, set_epsilon, set_floatx, set_learning_phase,
)
from .array_ops import *  # noqa: F401,F403
from .control_flow_ops import *  # noqa: F401,F403
from .conv_ops import *  # noqa: F401,F403
from .ctc_ops import *  # noqa: F401,F403
from .rnn_ops import *  # noqa: F401,F403
from .control_flow_ops import register_training_flag_provider  # noqa: F401 - used by the engine
from .conversion import (  # noqa: F401 - used by activations, constraints, initializers, ...
    Axis, ShapeLike, TensorLike, _as_operand, _as_tensor, _default_device,
)
from .math_ops import *  # noqa: F401,F403
from .nn_ops import *  # noqa: F401,F403
from .random_ops import *  # noqa: F401,F403
from .random_ops import reset_seeded_generators  # noqa: F401 - used by utils.set_random_seed
from .shape_ops import *  # noqa: F401,F403
from .variables import *  # noqa: F401,F403

__all__ = [
    # configuration (re-exported from config)
    "epsilon", "floatx", "set_epsilon", "set_floatx", "learning_phase", "set_learning_phase",
    # conversion, variables and values
    "is_tensor", "is_keras_tensor", "is_sparse", "to_dense", "int_shape", "shape", "ndim",
    "dtype", "cast", "cast_to_floatx", "variable", "constant", "zeros", "ones", "eye",
    "zeros_like", "ones_like", "identity", "get_value", "set_value", "batch_get_value",
    "batch_set_value", "eval", "count_params", "update", "update_add", "update_sub",
    "moving_average_update", "print_tensor",
    # linear algebra
    "dot", "batch_dot", "transpose", "gather",
    # reductions
    "sum", "mean", "max", "min", "prod", "std", "var", "any", "all", "argmax", "argmin",
    "logsumexp", "cumsum", "cumprod",
    # element-wise
    "square", "sqrt", "abs", "exp", "log", "pow", "clip", "maximum", "minimum", "round",
    "sign", "sin", "cos", "equal", "not_equal", "greater", "greater_equal", "less",
    "less_equal",
    # shapes
    "concatenate", "stack", "reshape", "permute_dimensions", "expand_dims", "squeeze",
    "repeat", "repeat_elements", "tile", "flatten", "batch_flatten", "reverse", "arange",
    "one_hot",
    # control flow and higher-order
    "switch", "in_train_phase", "in_test_phase", "stop_gradient", "map_fn", "foldl", "foldr",
    # nn
    "relu", "elu", "sigmoid", "hard_sigmoid", "softmax", "softplus", "softsign", "tanh",
    "l2_normalize", "bias_add", "dropout", "in_top_k", "batch_normalization",
    "normalize_batch_in_training", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    # padding, resizing, slicing
    "temporal_padding", "spatial_2d_padding", "spatial_3d_padding", "resize_images",
    "resize_volumes", "slice", "size",
    # convolutions and pooling
    "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose", "separable_conv1d",
    "separable_conv2d", "depthwise_conv2d", "pool2d", "pool3d", "local_conv1d",
    "local_conv2d",
    # recurrence and CTC
    "rnn", "ctc_label_dense_to_sparse", "ctc_batch_cost", "ctc_decode",
    # random
    "random_normal", "random_uniform", "random_bernoulli", "random_binomial",
    "truncated_normal", "random_normal_variable", "random_uniform_variable",
]
