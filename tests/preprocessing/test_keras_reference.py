"""Every keras_reference/preprocessing case (to_categorical and normalize are in
tests/utils/test_np_utils.py)."""
import json
import warnings

import numpy as np
import pytest

from tests.conftest import load_case, ref_path
from tkeras.preprocessing.image import ImageDataGenerator
from tkeras.preprocessing.sequence import TimeseriesGenerator, pad_sequences
from tkeras.preprocessing.text import (Tokenizer, hashing_trick, text_to_word_sequence,
                                       tokenizer_from_json)


def _json(name):
    with open(ref_path("preprocessing", name)) as f:
        return json.load(f)


PAD = _json("pad_sequences.json")
TOK = _json("tokenizer.json")
TEXT = _json("text_functions.json")


@pytest.mark.parametrize("case", PAD["cases"], ids=lambda c: json.dumps(c["kwargs"]))
def test_pad_sequences(case):
    out = pad_sequences(PAD["sequences"], **case["kwargs"])
    assert out.dtype == np.dtype(case["output_dtype"])
    assert list(out.shape) == case["output_shape"]
    np.testing.assert_array_equal(out, np.asarray(case["output"], dtype=case["output_dtype"]))


def test_pad_sequences_vectors():
    case = PAD["vector_case"]
    out = pad_sequences(case["sequences"], **case["kwargs"])
    assert out.dtype == np.dtype(case["output_dtype"]) and list(out.shape) == case["output_shape"]
    np.testing.assert_array_equal(out, case["output"])


def _fitted(case):
    tok = Tokenizer(**case["kwargs"])
    tok.fit_on_texts(TOK["texts"])
    return tok


@pytest.mark.parametrize("case", TOK["cases"], ids=lambda c: json.dumps(c["kwargs"]))
def test_tokenizer_vocabulary(case):
    tok = _fitted(case)
    # ordered fields: Keras's iteration order
    assert [list(kv) for kv in tok.word_counts.items()] == case["word_counts"]
    assert [list(kv) for kv in tok.word_index.items()] == case["word_index"]
    assert [list(kv) for kv in tok.index_word.items()] == case["index_word"]
    # Keras iterates word_docs in the order of a set of strings (salted per process)
    assert dict(tok.word_docs) == {k: v for k, v in case["word_docs"]}
    assert dict(tok.index_docs) == {k: v for k, v in case["index_docs"]}
    assert tok.document_count == case["document_count"]


@pytest.mark.parametrize("case", TOK["cases"], ids=lambda c: json.dumps(c["kwargs"]))
def test_tokenizer_outputs(case):
    tok = _fitted(case)
    assert tok.texts_to_sequences(TOK["texts"]) == case["texts_to_sequences"]
    assert tok.texts_to_sequences(TOK["unseen_texts"]) == case["texts_to_sequences_unseen"]
    assert list(tok.texts_to_sequences_generator(TOK["texts"])) == case["texts_to_sequences"]
    assert tok.sequences_to_texts(case["texts_to_sequences"]) == case["sequences_to_texts"]
    rows = TOK["texts"] + TOK["unseen_texts"]
    for mode, expected in case["texts_to_matrix"].items():
        np.testing.assert_allclose(tok.texts_to_matrix(rows, mode=mode), expected, rtol=1e-12,
                                   err_msg=mode)


@pytest.mark.parametrize("case", TOK["cases"], ids=lambda c: json.dumps(c["kwargs"]))
def test_tokenizer_to_json(case):
    tok = _fitted(case)
    mine, keras = json.loads(tok.to_json()), json.loads(case["to_json"])
    assert mine["class_name"] == keras["class_name"] == "Tokenizer"
    assert list(mine["config"]) == list(keras["config"])
    for key, value in keras["config"].items():
        if key in ("word_counts", "word_index", "index_word"):
            assert mine["config"][key] == value, key  # same text, same order
        elif key in ("word_docs", "index_docs"):
            assert json.loads(mine["config"][key]) == json.loads(value), key
        else:
            assert mine["config"][key] == value, key
    back = tokenizer_from_json(case["to_json"])
    assert back.texts_to_sequences(TOK["unseen_texts"]) == case["texts_to_sequences_unseen"]
    np.testing.assert_allclose(back.texts_to_matrix(TOK["texts"], mode="tfidf"),
                               case["texts_to_matrix"]["tfidf"][:len(TOK["texts"])], rtol=1e-12)


def test_tokenizer_fit_on_sequences():
    case = TOK["fit_on_sequences_case"]
    tok = Tokenizer(num_words=case["num_words"])
    tok.fit_on_sequences(case["sequences"])
    assert tok.document_count == case["document_count"]
    assert dict(tok.index_docs) == {k: v for k, v in case["index_docs"]}
    for mode, expected in case["sequences_to_matrix"].items():
        np.testing.assert_allclose(tok.sequences_to_matrix(case["sequences"], mode=mode),
                                   expected, rtol=1e-12, err_msg=mode)


@pytest.mark.parametrize("case", TEXT["text_to_word_sequence"],
                         ids=lambda c: json.dumps(c["kwargs"]))
def test_text_to_word_sequence(case):
    assert [text_to_word_sequence(t, **case["kwargs"]) for t in TEXT["texts"]] == case["outputs"]


@pytest.mark.parametrize("case", TEXT["hashing"], ids=lambda c: f"n={c['n']}")
def test_hashing_trick_md5(case):
    assert case["function"] == "hashing_trick"
    assert [hashing_trick(t, case["n"], **case["kwargs"]) for t in TEXT["texts"]] == \
        case["outputs"]


def test_timeseries_generator():
    arrays, meta = load_case("preprocessing", "timeseries_generator.npz")
    assert len(meta["cases"]) == 5
    for case in meta["cases"]:
        gen = TimeseriesGenerator(arrays["data"], arrays["targets"], **case["kwargs"])
        assert len(gen) == case["len"]
        for i, (kx, ky) in enumerate(case["batches"]):
            x, y = gen[i]
            np.testing.assert_array_equal(x, arrays[kx])
            np.testing.assert_array_equal(y, arrays[ky])


def test_image_standardize():
    arrays, meta = load_case("preprocessing", "image_standardize.npz")
    assert len(meta["cases"]) == 8
    for i, case in enumerate(meta["cases"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the implied-flag warnings of Keras
            gen = ImageDataGenerator(**case["kwargs"])
        for flag, value in case["effective_flags"].items():
            assert getattr(gen, flag) == value, (i, flag)
        if case["fit_input"]:
            gen.fit(arrays[case["fit_input"]])
        for stat, attr in (("mean", "mean"), ("std", "std"),
                           ("zca_whitening_matrix", "zca_whitening_matrix")):
            if stat in case:
                np.testing.assert_allclose(getattr(gen, attr), arrays[case[stat]], rtol=1e-4,
                                           atol=1e-5, err_msg=f"case {i} {stat}")
        out = gen.standardize(np.copy(arrays[case["input"]]))
        np.testing.assert_allclose(out, arrays[case["output"]], rtol=1e-4, atol=1e-4,
                                   err_msg=f"case {i}")
