"""``tkeras.mixed_precision``: dtype policies and loss scaling, as tf-keras 2.x has them.

    >>> from tkeras import mixed_precision
    >>> mixed_precision.set_global_policy("mixed_bfloat16")   # float32 weights, bf16 compute
    >>> model = Sequential([Input((8,)), Dense(16, activation="relu"), Dense(4),
    ...                     Activation("softmax", dtype="float32")])  # outputs in float32

Under a mixed policy a layer keeps its weights in float32 and, inside its call, reads them
cast to the compute dtype (gradients flow back to the float32 weights); floating inputs
are cast to the compute dtype on the way in, as Keras's autocast does.
``Keras 2.3``'s ``mixed_precision.experimental`` names (``set_policy``, ``Policy``,
``global_policy``, ``LossScaleOptimizer``) are in ``tkeras.mixed_precision.experimental``.
"""
from . import experimental  # noqa: F401
from .loss_scale_optimizer import LossScaleOptimizer
from .policy import Policy, global_policy, policy_scope, set_global_policy

__all__ = ["Policy", "global_policy", "set_global_policy", "policy_scope",
           "LossScaleOptimizer", "experimental"]
