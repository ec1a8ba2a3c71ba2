"""Data preprocessing of Keras 2: ``sequence``, ``text`` and ``image`` (keras-preprocessing
1.1's API, as Keras 2.3.1 re-exports it) and tf-keras 2.x's dataset helpers
(``image_dataset_from_directory``, ``text_dataset_from_directory``,
``timeseries_dataset_from_array``). Pillow and scipy are imported only when used."""
from . import image, sequence, text  # noqa: F401
from ..utils.dataset_utils import (image_dataset_from_directory,  # noqa: F401
                                   text_dataset_from_directory, timeseries_dataset_from_array)
