"""The Keras backend ``K``, over torch.

``from tkeras import backend as K``: configuration (floatx, epsilon, image_data_format,
the learning phase) and the tensor functions that custom layers, losses and metrics use.
"""
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
from .ops import *  # noqa: F403
