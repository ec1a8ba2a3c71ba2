"""The word-index processing shared by imdb and reuters (Keras 2.3.1's, step by step)."""
from __future__ import annotations

import json
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .._warn import TkerasDeprecationWarning
from ._files import fetch


def pop_nb_words(kwargs: Dict[str, Any], num_words: Optional[int]) -> Optional[int]:
    """Keras 1's ``nb_words`` (with Keras's warning); any other extra keyword is a TypeError."""
    if "nb_words" in kwargs:
        warnings.warn("The `nb_words` argument in `load_data` has been renamed `num_words`.",
                      TkerasDeprecationWarning, stacklevel=3)
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
    return num_words


def shuffled(rng: np.random.RandomState, *arrays: np.ndarray) -> Tuple[np.ndarray, ...]:
    indices = np.arange(len(arrays[0]))
    rng.shuffle(indices)
    return tuple(a[indices] for a in arrays)


def add_offsets(xs: Sequence, start_char: Optional[int], index_from: int) -> List[List[int]]:
    """Shifts word indices by ``index_from`` and prepends ``start_char`` (when not None)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def remove_long_seq(maxlen: int, seqs: Sequence, labels: Sequence) -> Tuple[list, list]:
    """Keeps the sequences shorter than ``maxlen`` (strictly) and their labels."""
    kept = [(x, y) for x, y in zip(seqs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(xs: List[List[int]], num_words: Optional[int], skip_top: int,
                     oov_char: Optional[int]) -> List[List[int]]:
    """Words outside ``[skip_top, num_words)`` become ``oov_char`` (or are dropped if None)."""
    if not num_words:
        num_words = max(max(x) for x in xs if len(x)) if any(len(x) for x in xs) else 0
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(lists: Sequence[list]) -> np.ndarray:
    """A 1-D object array of lists (as the real, ragged data gives), whatever the lengths."""
    out = np.empty(len(lists), dtype=object)
    for i, x in enumerate(lists):
        out[i] = x
    return out


def load_word_index(path: str, key: str) -> Dict[str, int]:
    with open(fetch(path, key)) as f:
        return json.load(f)
