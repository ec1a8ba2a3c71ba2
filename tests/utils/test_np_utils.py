import json

import numpy as np
import pytest

from conftest import load_case, ref_path
from tkeras.utils import (
    normalize,
    np_utils,  # Keras 2 path: keras.utils.np_utils
    to_categorical,
)


def test_to_categorical_matches_keras():
    with open(ref_path("preprocessing", "to_categorical.json")) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        out = np_utils.to_categorical(case["labels"], **case["kwargs"])
        assert out.dtype == np.dtype(case["output_dtype"])
        assert out.shape == tuple(case["output_shape"])
        np.testing.assert_array_equal(out, np.array(case["output"]))


def test_to_categorical_rejects_out_of_range():
    with pytest.raises(ValueError, match="outside the valid range of \\[0, 3\\)"):
        to_categorical([0, 3], num_classes=3)


def test_normalize_matches_keras():
    arrays, meta = load_case("preprocessing", "normalize.npz")
    for case in meta["cases"]:
        out = normalize(arrays[case["input"]], **case["kwargs"])
        np.testing.assert_allclose(out, arrays[case["output"]], rtol=1e-6, atol=1e-7)
