"""The tkeras engine: Layer, the symbolic graph, Model, Sequential."""
from ..utils.layer_utils import get_source_inputs  # noqa: F401
from . import k_function, op_layer  # noqa: F401 - symbolic K calls record op nodes
from .base_layer import LAYER_REGISTRY, Layer, register_layer_alias  # noqa: F401
from .functional import Functional  # noqa: F401
from .input_layer import Input, InputLayer  # noqa: F401
from .input_spec import InputSpec  # noqa: F401
from .keras_tensor import KerasTensor, Node, is_keras_tensor  # noqa: F401
from .sequential import Sequential  # noqa: F401
from .training import Model  # noqa: F401
