"""Every public name of keras-preprocessing 1.1's sequence, text and image modules (the
functions and classes they define; module imports such as ``np`` left out), and the
tf-keras dataset helpers where tf-keras exposes them."""
import subprocess
import sys

import pytest

import tkeras
from tkeras.preprocessing import image, sequence, text

KERAS_PREPROCESSING_1_1 = {
    sequence: ["pad_sequences", "make_sampling_table", "skipgrams", "TimeseriesGenerator",
               "timeseries_generator_from_json"],
    text: ["text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer",
           "tokenizer_from_json", "maketrans"],
    image: [
        # affine_transformations
        "flip_axis", "random_rotation", "random_shift", "random_shear", "random_zoom",
        "apply_channel_shift", "random_channel_shift", "apply_brightness_shift",
        "random_brightness", "transform_matrix_offset_center", "apply_affine_transform",
        # utils
        "validate_filename", "save_img", "load_img", "list_pictures", "array_to_img",
        "img_to_array",
        # generator and iterators
        "ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator",
        "DataFrameIterator", "BatchFromFilesMixin",
    ],
}


@pytest.mark.parametrize("module", list(KERAS_PREPROCESSING_1_1), ids=lambda m: m.__name__)
def test_keras_preprocessing_names_exist(module):
    missing = [n for n in KERAS_PREPROCESSING_1_1[module] if not hasattr(module, n)]
    assert not missing


def test_iterators_are_sequences():
    for cls in (image.Iterator, image.NumpyArrayIterator, image.DirectoryIterator,
                image.DataFrameIterator, sequence.TimeseriesGenerator):
        assert issubclass(cls, tkeras.utils.Sequence), cls


def test_dataset_helpers_exposed_like_tf_keras():
    for name in ("image_dataset_from_directory", "text_dataset_from_directory",
                 "timeseries_dataset_from_array"):
        assert getattr(tkeras.utils, name) is getattr(tkeras.preprocessing, name)


def test_import_does_not_load_pillow_or_scipy():
    code = ("import sys, tkeras, tkeras.preprocessing.image; "
            "print(sorted(m for m in ('PIL', 'scipy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
