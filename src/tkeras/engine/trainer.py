"""The training API of Model (compile / fit / evaluate / predict ...): see the training issue."""
from __future__ import annotations


class TrainerMixin:
    """Mixed into ``Model``; holds compile, fit, evaluate, predict and their variants."""
