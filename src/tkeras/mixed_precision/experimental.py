"""Keras 2.3's ``keras.mixed_precision.experimental`` names."""
from .loss_scale_optimizer import LossScaleOptimizer
from .policy import Policy, global_policy, policy_scope
from .policy import set_global_policy as set_policy

__all__ = ["Policy", "global_policy", "set_policy", "policy_scope", "LossScaleOptimizer"]
