"""tkeras.layers: every Keras layer, grouped in modules as Keras 2 groups them."""
from ..engine.base_layer import Layer  # noqa: F401
from ..engine.input_layer import Input, InputLayer  # noqa: F401
from ..engine.input_spec import InputSpec  # noqa: F401
from ..saving.layer_serialization import deserialize_layer as deserialize  # noqa: F401
from ..saving.layer_serialization import serialize_layer as serialize  # noqa: F401
from .advanced_activations import *  # noqa: F403
from .convolutional import *  # noqa: F403
from .convolutional_recurrent import *  # noqa: F403
from .core import (  # noqa: F401
    Activation,
    ActivityRegularization,
    Dense,
    Dropout,
    Flatten,
    Lambda,
    Masking,
    Permute,
    RepeatVector,
    Reshape,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from .cudnn_recurrent import *  # noqa: F403
from .embeddings import *  # noqa: F403
from .local import *  # noqa: F403
from .merge import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .noise import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .preprocessing import *  # noqa: F403

# Layer families (one import line each):
from .recurrent import *  # noqa: F403
from .torch_wrapper import TorchModuleWrapper  # noqa: F401
from .wrappers import *  # noqa: F403
