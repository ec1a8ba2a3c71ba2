"""The Keras datasets, downloaded on first use into ``~/.keras/datasets``, and a shipped set.

``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``, ``imdb``, ``reuters``,
``boston_housing``: Keras's seven datasets, from Keras's origins, verified by Keras's
pinned hashes, with Keras's parsing, shuffling, dtypes and shapes.
``digits``: the 1,797 8x8 images of the UCI handwritten digits, shipped inside the
package (no download), the demo's offline default.
"""
from . import boston_housing, cifar10, cifar100, digits, fashion_mnist, imdb, mnist, reuters

__all__ = ["boston_housing", "cifar10", "cifar100", "digits", "fashion_mnist", "imdb", "mnist",
           "reuters"]
