"""Text preprocessing of Keras 2 (keras-preprocessing 1.1's ``text`` module): ``Tokenizer``,
``text_to_word_sequence``, ``one_hot``, ``hashing_trick`` and ``tokenizer_from_json``."""
from __future__ import annotations

import json
import warnings
from collections import OrderedDict, defaultdict
from hashlib import md5
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Union

import numpy as np

from .._warn import TkerasDeprecationWarning

__all__ = ["text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer",
           "tokenizer_from_json", "maketrans"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
maketrans = str.maketrans


def text_to_word_sequence(text: str, filters: str = DEFAULT_FILTERS, lower: bool = True,
                          split: str = " ") -> List[str]:
    """Splits a text into words: every character of ``filters`` becomes ``split``, then
    the text is split on ``split`` and empty pieces are dropped.

    Args:
        text: the text.
        filters: characters to remove (default: punctuation, tabs and newlines).
        lower: lower-case the text first.
        split: the separator.

    Returns:
        The list of words.

    Example:
        >>> text_to_word_sequence("The dog barks; the fox runs!")
        ['the', 'dog', 'barks', 'the', 'fox', 'runs']
    """
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


def hashing_trick(text: str, n: int, hash_function: Union[None, str, Callable[[str], int]] = None,
                  filters: str = DEFAULT_FILTERS, lower: bool = True, split: str = " ",
                  analyzer: Optional[Callable[[str], List[str]]] = None) -> List[int]:
    """Hashes the words of a text to indices in ``[1, n - 1]`` (0 stays free for padding).

    Args:
        text: the text.
        n: size of the hashing space.
        hash_function: ``None`` (Python's ``hash``, salted per process), ``"md5"``
            (stable: ``int(md5(word).hexdigest(), 16)``) or a callable ``str -> int``.
        filters, lower, split: as ``text_to_word_sequence``.
        analyzer: a function splitting the text into words instead (tf-keras 2.x's).

    Returns:
        ``hash(word) % (n - 1) + 1`` for each word.
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(word: str) -> int:
            return int(md5(word.encode()).hexdigest(), 16)
    elif not callable(hash_function):
        raise ValueError("`hash_function` must be None, 'md5' or a callable. Received: "
                         f"hash_function={hash_function!r}")
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split) \
        if analyzer is None else analyzer(text)
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(text: str, n: int, filters: str = DEFAULT_FILTERS, lower: bool = True,
            split: str = " ", analyzer: Optional[Callable[[str], List[str]]] = None) -> List[int]:
    """``hashing_trick`` with Python's ``hash``: word indices in ``[1, n - 1]`` (not stable
    across processes unless PYTHONHASHSEED is set)."""
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower, split=split,
                         analyzer=analyzer)


class Tokenizer:
    """Turns texts into sequences of word indices or into vectors.

    Words are indexed by descending count (ties in the order first seen), from 1; the
    ``oov_token``, when given, is index 1. ``num_words`` keeps only indices below it in
    the sequences and matrices (``word_index`` stays complete).

    Args:
        num_words: keep the ``num_words - 1`` most frequent words in outputs.
        filters: characters removed from the texts.
        lower: lower-case the texts.
        split: word separator.
        char_level: index characters instead of words.
        oov_token: token that replaces out-of-vocabulary words in ``texts_to_sequences``.
        document_count: initial document count (used when restoring a tokenizer).
        analyzer: a function splitting a text into words, used instead of
            ``text_to_word_sequence`` (tf-keras 2.x's argument; not in the config).

    Example:
        >>> tok = Tokenizer(num_words=10)
        >>> tok.fit_on_texts(["the cat sat", "the dog"])
        >>> tok.texts_to_sequences(["the dog sat"])
        [[1, 4, 3]]
    """

    def __init__(self, num_words: Optional[int] = None, filters: str = DEFAULT_FILTERS,
                 lower: bool = True, split: str = " ", char_level: bool = False,
                 oov_token: Optional[str] = None, document_count: int = 0,
                 analyzer: Optional[Callable[[str], List[str]]] = None, **kwargs):
        if "nb_words" in kwargs:
            warnings.warn("The `nb_words` argument in `Tokenizer` has been renamed `num_words`.",
                          TkerasDeprecationWarning, stacklevel=2)
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
        self.word_counts: Dict[str, int] = OrderedDict()
        self.word_docs: Dict[str, int] = defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.index_docs: Dict[int, int] = defaultdict(int)
        self.word_index: Dict[str, int] = {}
        self.index_word: Dict[int, str] = {}
        self.analyzer = analyzer

    def _tokens(self, text) -> List[str]:
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return list(text)
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[Union[str, List[str]]]) -> None:
        """Updates the vocabulary from texts (strings, or lists of tokens).

        Args:
            texts: the texts.
        """
        for text in texts:
            self.document_count += 1
            seq = self._tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in dict.fromkeys(seq):  # documents containing each word
                self.word_docs[w] += 1
        counts = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)  # stable
        vocabulary = [] if self.oov_token is None else [self.oov_token]
        vocabulary.extend(w for w, _ in counts)
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in list(self.word_docs.items()):
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences: Iterable[Iterable[int]]) -> None:
        """Updates the document frequencies (for ``tfidf``) from index sequences.

        Args:
            sequences: lists of word indices.
        """
        sequences = list(sequences)
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts) -> List[List[int]]:
        """Each text as a list of word indices (see ``num_words`` and ``oov_token``)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts) -> Iterator[List[int]]:
        """Yields ``texts_to_sequences``' sequences one text at a time."""
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            vect = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None:
                    if num_words and i >= num_words:
                        if oov_index is not None:
                            vect.append(oov_index)
                    else:
                        vect.append(i)
                elif self.oov_token is not None:
                    vect.append(oov_index)
            yield vect

    def sequences_to_texts(self, sequences) -> List[str]:
        """Each sequence of indices back to a space-joined text."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences) -> Iterator[str]:
        """Yields ``sequences_to_texts``' texts one sequence at a time."""
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for num in seq:
                word = self.index_word.get(num)
                if word is not None:
                    if num_words and num >= num_words:
                        if oov_index is not None:
                            words.append(self.index_word[oov_index])
                    else:
                        words.append(word)
                elif self.oov_token is not None:
                    words.append(self.index_word[oov_index])
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode: str = "binary") -> np.ndarray:
        """``sequences_to_matrix`` of ``texts_to_sequences(texts)``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode: str = "binary") -> np.ndarray:
        """A ``(len(sequences), num_words)`` matrix.

        Args:
            sequences: lists of word indices.
            mode: ``"binary"`` (presence), ``"count"``, ``"freq"`` (count / length) or
                ``"tfidf"`` (``(1 + log(count)) * log(1 + documents / (1 + docs with word))``).

        Returns:
            A float64 array; indices ``>= num_words`` are ignored.
        """
        if mode not in ("binary", "count", "freq", "tfidf"):
            raise ValueError("Unknown vectorization mode:", mode)
        if not self.num_words:
            if not self.word_index:
                raise ValueError("Specify a dimension (`num_words` argument), or fit on some "
                                 "text data first.")
            num_words = len(self.word_index) + 1
        else:
            num_words = self.num_words
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        x = np.zeros((len(sequences), num_words))
        for i, seq in enumerate(sequences):
            if not seq:
                continue
            counts: Dict[int, int] = defaultdict(int)
            for j in seq:
                if j < num_words:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[i][j] = c
                elif mode == "freq":
                    x[i][j] = c / len(seq)
                elif mode == "binary":
                    x[i][j] = 1
                else:
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[i][j] = (1 + np.log(c)) * idf
        return x

    def get_config(self) -> dict:
        """The tokenizer's arguments and state; the dictionaries as JSON strings."""
        return {
            "num_words": self.num_words, "filters": self.filters, "lower": self.lower,
            "split": self.split, "char_level": self.char_level, "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs) -> str:
        """The configuration as a JSON string (``tokenizer_from_json`` reads it).

        Args:
            **kwargs: passed to ``json.dumps``.
        """
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """Rebuilds a ``Tokenizer`` from ``Tokenizer.to_json()`` (plain JSON; no code runs).

    Args:
        json_string: the JSON string.

    Returns:
        The tokenizer.
    """
    payload = json.loads(json_string)
    if not isinstance(payload, dict) or not isinstance(payload.get("config"), dict):
        raise ValueError("Expected the JSON of `Tokenizer.to_json()`: an object with a "
                         f"'config' object. Received: {json_string[:100]!r}")
    config = dict(payload["config"])
    word_counts = json.loads(config.pop("word_counts"))
    word_docs = json.loads(config.pop("word_docs"))
    index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
    index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(word_counts)
    tokenizer.word_docs = defaultdict(int, word_docs)
    tokenizer.index_docs = defaultdict(int, index_docs)
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer
