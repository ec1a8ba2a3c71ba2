"""Sequence preprocessing of Keras 2 (keras-preprocessing 1.1's ``sequence`` module):
``pad_sequences``, ``skipgrams``, ``make_sampling_table`` and ``TimeseriesGenerator``."""
from __future__ import annotations

import json
import random
from typing import Any, List, Optional, Sequence as SequenceType, Tuple

import numpy as np

from ..utils.data_utils import Sequence

__all__ = ["pad_sequences", "make_sampling_table", "skipgrams", "TimeseriesGenerator",
           "timeseries_generator_from_json"]


def _is_str_dtype(dtype) -> bool:
    try:
        return np.issubdtype(dtype, np.str_)
    except TypeError:
        return False


def pad_sequences(sequences, maxlen: Optional[int] = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pads sequences to the same length.

    Args:
        sequences: a list of sequences (lists or arrays; every element may itself be a
            vector of a fixed shape).
        maxlen: length of the result; the longest sequence's length when None.
        dtype: dtype of the result (``object`` or a str dtype pads strings).
        padding: ``"pre"`` or ``"post"``: where the padding goes.
        truncating: ``"pre"`` or ``"post"``: which end of a longer sequence is cut.
        value: the padding value (a float, or a string with ``dtype=object``).

    Returns:
        An array of shape ``(len(sequences), maxlen) + sample_shape``.

    Example:
        >>> pad_sequences([[1, 2], [3]], maxlen=3)
        array([[0, 1, 2], [0, 0, 3]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    lengths = []
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError:
            raise ValueError("`sequences` must be a list of iterables. Found non-iterable: "
                             f"{x}") from None
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    sample_shape: Tuple[int, ...] = ()
    for s in sequences:  # the first non-empty sequence fixes the element shape
        if len(s) > 0:
            sample_shape = np.asarray(s).shape[1:]
            break
    if isinstance(value, str) and dtype is not object and not _is_str_dtype(dtype):
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
                         "You should set `dtype=object` for variable length strings.")
    out = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for idx, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} "
                             f"is different from expected shape {sample_shape}")
        if padding == "post":
            out[idx, :len(trunc)] = trunc
        else:
            out[idx, -len(trunc):] = trunc
    return out


def make_sampling_table(size: int, sampling_factor: float = 1e-5) -> np.ndarray:
    """The word2vec sampling probabilities of the words of rank ``0 .. size - 1``.

    Word frequencies are assumed to follow Zipf's law; entry ``i`` is the probability of
    keeping the i-th most common word (for ``skipgrams``' ``sampling_table``).

    Args:
        size: number of words.
        sampling_factor: the word2vec sampling factor.

    Returns:
        A float array of length ``size``.
    """
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence: SequenceType[int], vocabulary_size: int, window_size: int = 4,
              negative_samples: float = 1.0, shuffle: bool = True, categorical: bool = False,
              sampling_table: Optional[np.ndarray] = None,
              seed: Optional[int] = None) -> Tuple[List[List[int]], list]:
    """Skip-gram pairs of a sequence of word indices (index 0 is a non-word and skipped).

    Positive pairs ``(word, word in its window)`` get label 1, negative pairs ``(word,
    random word)`` label 0. Randomness comes from Python's ``random`` module, as in Keras.

    Args:
        sequence: word indices.
        vocabulary_size: the largest word index + 1.
        window_size: half-width of the window.
        negative_samples: negatives per positive (0: none).
        shuffle: shuffle the pairs (pairs and labels with the same seed).
        categorical: labels as ``[0, 1]`` / ``[1, 0]`` instead of 1 / 0.
        sampling_table: keep-probability per word index (see ``make_sampling_table``).
        seed: seed of the shuffle.

    Returns:
        ``(couples, labels)``.
    """
    couples: List[List[int]] = []
    labels: list = []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        start, stop = max(0, i - window_size), min(len(sequence), i + window_size + 1)
        for j in range(start, stop):
            if j == i or not sequence[j]:
                continue
            couples.append([wi, sequence[j]])
            labels.append([0, 1] if categorical else 1)
    if negative_samples > 0:
        n_negative = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, vocabulary_size - 1)]
                    for i in range(n_negative)]
        labels += ([[1, 0]] if categorical else [0]) * n_negative
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(10e6))
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels


def _remove_long_seq(maxlen: int, seq, label):
    """Keeps the (sequence, label) pairs whose sequence is shorter than ``maxlen``."""
    kept = [(x, y) for x, y in zip(seq, label) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


class TimeseriesGenerator(Sequence):
    """Batches of windows over a time series (a ``tkeras.utils.Sequence``).

    Sample ``i`` is ``data[row - length:row:sampling_rate]`` with target ``targets[row]``,
    rows going from ``start_index + length`` to ``end_index`` by ``stride``.

    Args:
        data: indexable series (list or array), time on axis 0.
        targets: targets, as long as ``data``.
        length: window length in timesteps (before sampling).
        sampling_rate: step between the timesteps of a window.
        stride: step between consecutive windows.
        start_index, end_index: the part of ``data`` used (``end_index`` inclusive;
            ``len(data) - 1`` when None).
        shuffle: draw the rows of each batch at random (``np.random``).
        reverse: timesteps in reverse chronological order.
        batch_size: windows per batch.

    Example:
        >>> data = np.arange(50).reshape(50, 1)
        >>> gen = TimeseriesGenerator(data, data, length=10, sampling_rate=2, batch_size=2)
        >>> len(gen), gen[0][0].shape
        (20, (2, 5, 1))
    """

    def __init__(self, data, targets, length: int, sampling_rate: int = 1, stride: int = 1,
                 start_index: int = 0, end_index: Optional[int] = None, shuffle: bool = False,
                 reverse: bool = False, batch_size: int = 128):
        if len(data) != len(targets):
            raise ValueError("Data and targets have to be of same length. Data length is "
                             f"{len(data)} while target length is {len(targets)}")
        self.data = data
        self.targets = targets
        self.length = length
        self.sampling_rate = sampling_rate
        self.stride = stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"`start_index+length={self.start_index} > end_index="
                             f"{self.end_index}` is disallowed, as no part of the sequence "
                             "would be left to be used as current step.")

    def __len__(self) -> int:
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def __getitem__(self, index: int):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            i = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(i, min(i + self.batch_size * self.stride, self.end_index + 1),
                             self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        if self.reverse:
            return samples[:, ::-1, ...], targets
        return samples, targets

    def get_config(self) -> dict:
        """The generator's arguments, with ``data`` and ``targets`` as JSON strings."""
        def as_json(values, what):
            if isinstance(values, np.ndarray):
                values = values.tolist()
            try:
                return json.dumps(values)
            except TypeError:
                raise TypeError(f"{what} not JSON Serializable:", values) from None
        return {"data": as_json(self.data, "Data"),
                "targets": as_json(self.targets, "Targets"),
                "length": self.length, "sampling_rate": self.sampling_rate,
                "stride": self.stride, "start_index": self.start_index,
                "end_index": self.end_index, "shuffle": self.shuffle, "reverse": self.reverse,
                "batch_size": self.batch_size}

    def to_json(self, **kwargs) -> str:
        """The configuration as a JSON string (``timeseries_generator_from_json`` reads it)."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)


def timeseries_generator_from_json(json_string: str) -> TimeseriesGenerator:
    """Rebuilds a ``TimeseriesGenerator`` from ``to_json``'s string (JSON only).

    The stored ``start_index`` already includes ``length`` (Keras's ``get_config``);
    it is taken off here, so the generator round-trips (keras-preprocessing 1.1 added
    ``length`` a second time).
    """
    config = dict(json.loads(json_string).get("config"))
    config["data"] = json.loads(config.pop("data"))
    config["targets"] = json.loads(config.pop("targets"))
    config["start_index"] = config.get("start_index", 0) - config["length"]
    return TimeseriesGenerator(**config)
