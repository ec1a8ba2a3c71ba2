"""The Keras backend ``K``, over torch.

``from tkeras import backend as K``: configuration (floatx, epsilon, image_data_format,
the learning phase), the tensor functions that custom layers, losses and metrics use, and
the graph functions of Keras 2 (``placeholder``, ``function``, ``gradients``, ...).

Every tensor function here also accepts symbolic tensors (``KerasTensor``): called on one,
it returns a symbolic tensor recorded in the graph (see ``tkeras.backend.dispatch``).
``tkeras.backend.ops`` holds the same functions without that dispatch (the layers use it).
"""
from . import dispatch as _symbolic
from .config import (  # noqa: F401
    clear_session,
    config_dir,
    dtype_name,
    epsilon,
    floatx,
    get_uid,
    image_data_format,
    learning_phase,
    normalize_data_format,
    reset_uids,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    set_learning_phase,
    torch_dtype,
    unique_object_name,
)
from .graph import *  # noqa: F403
from .graph import gradients as _gradients
from .ops import *  # noqa: F403
from .ops import __all__ as _ops_all

# Functions that take or return no tensors (static shapes, host reads, variable creation)
# stay as they are; every other K function records a node on symbolic tensors: ``shape``
# of a symbolic tensor is a symbolic int32 tensor (Keras 2's ``tf.shape``), and a random
# draw whose ``shape`` holds one (``K.random_normal((K.shape(z)[0], 2))``) is a node.
_NOT_SYMBOLIC = {
    "epsilon", "floatx", "set_epsilon", "set_floatx", "learning_phase", "set_learning_phase",
    "is_tensor", "is_keras_tensor", "is_sparse", "int_shape", "ndim", "dtype",
    "cast_to_floatx", "variable", "constant", "zeros", "ones", "eye", "get_value",
    "set_value", "batch_get_value", "batch_set_value", "eval", "count_params", "arange",
    "random_normal_variable", "random_uniform_variable",
}
_symbolic.wrap_backend(globals(), [n for n in _ops_all if n not in _NOT_SYMBOLIC])
gradients = _symbolic.symbolic_dispatch(_gradients, "gradients")
del _ops_all, _gradients
