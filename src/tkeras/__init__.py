"""tkeras: the Keras 2 API, implemented natively on PyTorch.

    import tkeras as keras
"""
__version__ = "0.1.0"

# Before torch loads: let MKL's SGEMM use AVX-512 where the CPU has it (see tkeras._gemm;
# TKERAS_GEMM=default opts out). Must stay above every import of torch.
from ._gemm import prefer_fast_gemm as _prefer_fast_gemm

_prefer_fast_gemm()

# Keep freed tensor memory in the process for the next step instead of faulting it in
# again (see tkeras._malloc; TKERAS_MALLOC=default opts out).
from ._malloc import keep_freed_memory as _keep_freed_memory

_keep_freed_memory()

# isort: off
# The order matters: utils must load before callbacks (utils -> engine -> trainer -> callbacks).
from . import backend  # noqa: F401
from . import utils  # noqa: F401
from . import optimizers  # noqa: F401
from . import mixed_precision  # noqa: F401
from . import activations  # noqa: F401
from . import initializers  # noqa: F401
from . import regularizers  # noqa: F401
from . import constraints  # noqa: F401
from . import losses  # noqa: F401
from . import metrics  # noqa: F401
from . import engine, layers, models  # noqa: F401
from . import callbacks, datasets, legacy, wrappers  # noqa: F401
from . import preprocessing  # noqa: F401
from . import applications  # noqa: F401
# isort: on
from .engine.input_layer import Input  # noqa: F401
from .engine.sequential import Sequential  # noqa: F401
from .engine.training import Model  # noqa: F401
