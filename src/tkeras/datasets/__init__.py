"""Small datasets shipped with tkeras (no download needed).

``tkeras.datasets.digits``: the 1,797 8x8 images of the UCI handwritten digits set.
"""
from . import digits

__all__ = ["digits"]
