"""tkeras.utils: seeds, custom objects, downloads, HDF5 data, layer and numpy utilities.

``losses_utils`` and ``metrics_utils`` (Keras 2.3.1's submodules) import on first use:
``from tkeras.utils import losses_utils``.
"""
import random as _random

import numpy as _np
import torch as _torch

from .._warn import TkerasDeprecationWarning, TkerasWarning  # noqa: F401
from ..saving.object_registration import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from . import conv_utils, data_utils, generic_utils, io_utils, layer_utils, np_utils  # noqa: F401
from .data_utils import GeneratorEnqueuer, OrderedEnqueuer, Sequence, SequenceEnqueuer  # noqa: F401

# tf-keras 2.x's dataset helpers (issue 12)
from .dataset_utils import (  # noqa: F401
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from .file_utils import get_file, validate_file  # noqa: F401
from .generic_utils import Progbar  # noqa: F401
from .io_utils import H5Dict, HDF5Matrix  # noqa: F401
from .layer_utils import convert_all_kernels_in_model, get_source_inputs, print_summary  # noqa: F401
from .np_utils import normalize, to_categorical  # noqa: F401
from .vis_utils import model_to_dot, plot_model  # noqa: F401


def set_random_seed(seed: int) -> None:
    """Seeds Python's ``random``, numpy and torch (all devices) in one call.

    The reproducibility recipe of Keras 2 (PYTHONHASHSEED, ``np.random.seed``,
    ``random.seed``, the framework seed) in one line. For bit-exact runs on a GPU
    also call ``torch.use_deterministic_algorithms(True)``.
    """
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r}")
    _random.seed(seed)
    _np.random.seed(seed % (2 ** 32))
    _torch.manual_seed(seed)
    from ..backend import ops
    ops.reset_seeded_generators()


# Last: the engine imports parts of this package.
from ..engine.data_adapter import pack_x_y_sample_weight, unpack_x_y_sample_weight  # noqa: E402,F401
from .multi_gpu_utils import multi_gpu_model  # noqa: E402,F401


def __getattr__(name: str):
    # losses_utils / metrics_utils import tkeras.losses / metrics, which import utils.
    # (``from . import x`` would call this __getattr__ again: import a name of the submodule)
    import sys
    if name == "losses_utils":
        from .losses_utils import compute_weighted_loss  # noqa: F401
        return sys.modules[__name__ + ".losses_utils"]
    if name == "metrics_utils":
        from .metrics_utils import to_list  # noqa: F401
        return sys.modules[__name__ + ".metrics_utils"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
