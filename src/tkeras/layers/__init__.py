"""tkeras.layers: every Keras layer, grouped in modules as Keras 2 groups them."""
from ..engine.base_layer import Layer  # noqa: F401
from ..engine.input_layer import Input, InputLayer  # noqa: F401
from ..engine.input_spec import InputSpec  # noqa: F401

# Keras 1 argument names (output_dim, init, nb_filter, border_mode, ...), converted with
# Keras 2.3.1's deprecation warning: one mechanism, tkeras.legacy.interfaces.
from ..legacy import interfaces as _legacy_interfaces
from ..saving.layer_serialization import deserialize_layer as deserialize  # noqa: F401
from ..saving.layer_serialization import serialize_layer as serialize  # noqa: F401
from ..saving.object_registration import deserialize_keras_object  # noqa: F401
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
from .legacy import *  # noqa: F403  (Keras 1 layers: MaxoutDense, Highway, Atrous*)
from .legacy_recurrent import *  # noqa: F403  (Recurrent, ConvRecurrent2D)
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

_legacy_interfaces.install()
