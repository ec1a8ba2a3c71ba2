"""Reuters newswires: 11,228 newswires labelled with 46 topics."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from ._files import fetch, npz_arrays
from ._sequences import (
    add_offsets,
    limit_vocabulary,
    load_word_index,
    object_array,
    pop_nb_words,
    remove_long_seq,
    shuffled,
)

Split = Tuple[np.ndarray, np.ndarray]


def load_data(path: str = "reuters.npz", num_words: Optional[int] = None, skip_top: int = 0,
              maxlen: Optional[int] = None, test_split: float = 0.2, seed: int = 113,
              start_char: Optional[int] = 1, oov_char: Optional[int] = 2, index_from: int = 3,
              **kwargs) -> Tuple[Split, Split]:
    """Loads the Reuters newswires as sequences of word indices, split as Keras splits them.

    Args:
        path: where to cache the data (relative to ``~/.keras/datasets``).
        num_words: keep only the ``num_words`` most frequent words (others become ``oov_char``).
        skip_top: also treat the ``skip_top`` most frequent words as out of vocabulary.
        maxlen: drop the sequences of ``maxlen`` words or more (after ``start_char``).
        test_split: fraction of the newswires kept for the test part.
        seed: seed of the shuffle.
        start_char: index that marks the start of each sequence (None: no marker).
        oov_char: index of the words cut by ``num_words`` / ``skip_top`` (None: drop them).
        index_from: word indices are shifted by this much.
        **kwargs: ``nb_words``, Keras 1's name of ``num_words`` (with a warning).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x 1-D object arrays of lists of ints,
        y int arrays of topics 0..45.

    Example:
        >>> (x_train, y_train), _ = reuters.load_data(num_words=10000)  # doctest: +SKIP
    """
    num_words = pop_nb_words(kwargs, num_words)
    path = fetch(path, "reuters.npz")
    xs, labels = npz_arrays(path, "x", "y")
    xs, labels = shuffled(np.random.RandomState(seed), xs, labels)
    xs = add_offsets(xs, start_char, index_from)
    if maxlen:
        xs, labels = remove_long_seq(maxlen, xs, labels)
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    labels = np.asarray(labels)
    idx = int(len(xs) * (1 - test_split))
    return (object_array(xs[:idx]), labels[:idx]), (object_array(xs[idx:]), labels[idx:])


def get_word_index(path: str = "reuters_word_index.json") -> Dict[str, int]:
    """The dict mapping each word to its index (before ``index_from`` is added)."""
    return load_word_index(path, "reuters_word_index.json")
