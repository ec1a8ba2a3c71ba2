"""sequence and text beyond the keras_reference cases: arguments, errors, randomness."""
import json
import random

import numpy as np
import pytest

from tkeras.preprocessing import sequence, text
from tkeras.preprocessing.sequence import (TimeseriesGenerator, make_sampling_table,
                                           pad_sequences, skipgrams)
from tkeras.preprocessing.text import Tokenizer, hashing_trick, one_hot
from tkeras.utils import Sequence, TkerasDeprecationWarning


def test_pad_sequences_strings_and_errors():
    out = pad_sequences([["a", "bb"], ["ccc"]], dtype=object, value="<pad>")
    assert out.tolist() == [["a", "bb"], ["<pad>", "ccc"]]
    out = pad_sequences([["a"], []], maxlen=2, dtype="<U5", value="-", padding="post")
    assert out.tolist() == [["a", "-"], ["-", "-"]]
    with pytest.raises(ValueError, match="`dtype` int32 is not compatible with `value`'s type"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match='Truncating type "middle" not understood'):
        pad_sequences([[1]], truncating="middle")
    with pytest.raises(ValueError, match="`sequences` must be a list of iterables. Found "
                                         "non-iterable: 3"):
        pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="Shape of sample \\(3,\\) of sequence at position 1 is "
                                         "different from expected shape \\(2,\\)"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


def test_make_sampling_table_and_skipgrams():
    table = make_sampling_table(6, sampling_factor=0.1)
    rank = np.array([1, 1, 2, 3, 4, 5], dtype=float)
    f = 0.1 * (rank * (np.log(rank) + 0.577) + 0.5 - 1 / (12 * rank))
    np.testing.assert_allclose(table, np.minimum(1, np.sqrt(f)))
    couples, labels = skipgrams([1, 2, 0, 3], vocabulary_size=5, window_size=1,
                                negative_samples=0, shuffle=False)
    assert couples == [[1, 2], [2, 1]] and labels == [1, 1]  # 0 is a non-word
    random.seed(0)
    couples, labels = skipgrams([1, 2, 3, 4], 10, window_size=2, negative_samples=1.0, seed=5,
                                categorical=True)
    assert len(couples) == len(labels) == 2 * 10
    positives = [c for c, lab in zip(couples, labels) if lab == [0, 1]]
    assert sorted(positives) == sorted([[1, 2], [1, 3], [2, 1], [2, 3], [2, 4], [3, 1], [3, 2],
                                        [3, 4], [4, 2], [4, 3]])
    assert all(1 <= c[1] <= 9 for c, lab in zip(couples, labels) if lab == [1, 0])
    again = skipgrams([1, 2, 3, 4], 10, window_size=2, negative_samples=0, seed=5)
    assert again == skipgrams([1, 2, 3, 4], 10, window_size=2, negative_samples=0, seed=5)
    kept, _ = skipgrams([1, 2, 3], 4, sampling_table=np.zeros(4), negative_samples=0)
    assert kept == []


def test_timeseries_generator_arguments():
    data = np.arange(20).reshape(20, 1)
    gen = TimeseriesGenerator(data, data * 10, length=4, sampling_rate=2, stride=3,
                              start_index=1, end_index=15, batch_size=2, reverse=True)
    assert isinstance(gen, Sequence) and len(gen) == 2
    x, y = gen[0]
    np.testing.assert_array_equal(x[..., 0], [[3, 1], [6, 4]])
    np.testing.assert_array_equal(y[:, 0], [50, 80])
    np.random.seed(0)
    shuffled = TimeseriesGenerator(data, data, length=3, shuffle=True, batch_size=5)
    x, y = shuffled[0]
    np.random.seed(0)
    rows = np.random.randint(3, 20, size=5)
    np.testing.assert_array_equal(y[:, 0], rows)
    np.testing.assert_array_equal(x[:, -1, 0], rows - 1)
    with pytest.raises(ValueError, match="Data and targets have to be of same length. Data "
                                         "length is 20 while target length is 3"):
        TimeseriesGenerator(data, data[:3], length=3)
    with pytest.raises(ValueError, match="`start_index\\+length=25 > end_index=19` is "
                                         "disallowed"):
        TimeseriesGenerator(data, data, length=5, start_index=20)
    restored = sequence.timeseries_generator_from_json(gen.to_json())
    assert len(restored) == len(gen)
    np.testing.assert_array_equal(restored[1][0], gen[1][0])
    assert json.loads(gen.to_json())["class_name"] == "TimeseriesGenerator"


def test_hashing_and_one_hot():
    out = hashing_trick("a b a", 7, hash_function=lambda w: ord(w))
    assert out == [ord("a") % 6 + 1, ord("b") % 6 + 1, ord("a") % 6 + 1]
    words = one_hot("The cat, the CAT!", 20)
    assert len(words) == 4 and words[0] == words[2] and words[1] == words[3]
    assert all(1 <= w <= 19 for w in words)
    assert hashing_trick("a b", 5) == [hash("a") % 4 + 1, hash("b") % 4 + 1]
    with pytest.raises(ValueError, match="`hash_function` must be None, 'md5' or a callable"):
        hashing_trick("a", 5, hash_function="sha1")


def test_tokenizer_lists_char_level_and_generators():
    tok = Tokenizer(oov_token="?", num_words=4)
    tok.fit_on_texts([["Hello", "World"], ["hello"]])  # lists of tokens are lower-cased
    assert tok.word_index == {"?": 1, "hello": 2, "world": 3}
    assert list(tok.sequences_to_texts_generator([[2, 3, 9]])) == ["hello world ?"]
    chars = Tokenizer(char_level=True, lower=False)
    chars.fit_on_texts(["abA"])
    assert chars.word_index == {"a": 1, "b": 2, "A": 3}
    with pytest.warns(TkerasDeprecationWarning, match="`nb_words` argument in `Tokenizer` "
                                                      "has been renamed `num_words`"):
        assert Tokenizer(nb_words=3).num_words == 3
    with pytest.raises(TypeError, match="Unrecognized keyword arguments: {'bogus': 1}"):
        Tokenizer(bogus=1)
    with pytest.raises(ValueError, match="Specify a dimension \\(`num_words` argument\\), or fit "
                                         "on some text data first"):
        Tokenizer().texts_to_matrix(["a"])
    with pytest.raises(ValueError, match="Fit the Tokenizer on some data before using tfidf"):
        Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(ValueError, match="Unknown vectorization mode:"):
        tok.sequences_to_matrix([[1]], mode="onehot")
    config = tok.get_config()
    assert json.loads(config["word_index"]) == tok.word_index
    restored = text.tokenizer_from_json(tok.to_json(indent=2))
    assert restored.word_index == tok.word_index and restored.index_word == tok.index_word
    assert restored.texts_to_sequences(["hello there"]) == [[2, 1]]
    with pytest.raises(ValueError, match="Expected the JSON of `Tokenizer.to_json\\(\\)`"):
        text.tokenizer_from_json("[1, 2]")


def test_tokenizer_document_count_argument_feeds_tfidf():
    tok = Tokenizer(document_count=4)
    tok.fit_on_texts(["a b", "a"])
    assert tok.document_count == 6
    # tfidf: (1 + log(count)) * log(1 + documents / (1 + documents containing the word))
    expected = (1 + np.log(2)) * np.log(1 + 6 / (1 + 2))
    np.testing.assert_allclose(tok.texts_to_matrix(["a a"], mode="tfidf")[0, 1], expected)


def test_analyzer_argument_of_tf_keras():
    def split_on_dash(t):
        return t.split("-")
    tok = Tokenizer(analyzer=split_on_dash)
    tok.fit_on_texts(["A-b-A", "c"])
    assert tok.word_index == {"A": 1, "b": 2, "c": 3}  # the analyzer alone decides
    assert tok.texts_to_sequences(["b-A-z"]) == [[2, 1]]
    assert "analyzer" not in tok.get_config()
    assert hashing_trick("x-y", 9, hash_function=len, analyzer=split_on_dash) == [2, 2]
    assert one_hot("x-y", 9, analyzer=split_on_dash) == [hash("x") % 8 + 1, hash("y") % 8 + 1]
