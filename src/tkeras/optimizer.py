"""``from keras.optimizer import Adam``: the singular module name seed 001 uses."""
from .optimizers import *  # noqa: F403
from .optimizers import Optimizer  # noqa: F401
