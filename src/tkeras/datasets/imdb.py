"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled by sentiment."""
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


def load_data(path: str = "imdb.npz", num_words: Optional[int] = None, skip_top: int = 0,
              maxlen: Optional[int] = None, seed: int = 113, start_char: Optional[int] = 1,
              oov_char: Optional[int] = 2, index_from: int = 3, **kwargs) -> Tuple[Split, Split]:
    """Loads the IMDB reviews as sequences of word indices (most frequent word: index 1).

    Args:
        path: where to cache the data (relative to ``~/.keras/datasets``).
        num_words: keep only the ``num_words`` most frequent words (others become ``oov_char``).
        skip_top: also treat the ``skip_top`` most frequent words as out of vocabulary.
        maxlen: drop the sequences of ``maxlen`` words or more (after ``start_char``).
        seed: seed of the shuffles (train and test are shuffled apart).
        start_char: index that marks the start of each sequence (None: no marker).
        oov_char: index of the words cut by ``num_words`` / ``skip_top`` (None: drop them).
        index_from: word indices are shifted by this much.
        **kwargs: ``nb_words``, Keras 1's name of ``num_words`` (with a warning).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x 1-D object arrays of lists of ints,
        y int arrays of 0 / 1. With ``maxlen``, train and test are filtered apart (tf-keras's
        fix: Keras 2.3.1 filtered them together and then split at the unfiltered length).

    Raises:
        ValueError: ``maxlen`` leaves no sequence in train or test.

    Example:
        >>> (x_train, y_train), _ = imdb.load_data(num_words=10000)  # doctest: +SKIP
    """
    num_words = pop_nb_words(kwargs, num_words)
    path = fetch(path, "imdb.npz")
    x_train, labels_train, x_test, labels_test = npz_arrays(path, "x_train", "y_train",
                                                           "x_test", "y_test")
    rng = np.random.RandomState(seed)
    x_train, labels_train = shuffled(rng, x_train, labels_train)
    x_test, labels_test = shuffled(rng, x_test, labels_test)
    x_train = add_offsets(x_train, start_char, index_from)
    x_test = add_offsets(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, "
                             "no sequence was kept. Increase maxlen.")
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])
    idx = len(x_train)
    return (object_array(xs[:idx]), labels[:idx]), (object_array(xs[idx:]), labels[idx:])


def get_word_index(path: str = "imdb_word_index.json") -> Dict[str, int]:
    """The dict mapping each word to its index (before ``index_from`` is added).

    Example:
        >>> index = imdb.get_word_index()  # doctest: +SKIP
        >>> index["the"]  # doctest: +SKIP
        1
    """
    return load_word_index(path, "imdb_word_index.json")
