"""Image preprocessing of Keras 2 (keras-preprocessing 1.1's ``image`` module).

Pillow (image files, brightness) and scipy (the faithful per-image affine transforms)
are optional and imported when first needed; ``ImageDataGenerator(batch_augment=True)``
transforms whole batches on torch instead of scipy.
"""
from .affine_transformations import (apply_affine_transform, apply_brightness_shift,  # noqa: F401
                                     apply_channel_shift, flip_axis, random_brightness,
                                     random_channel_shift, random_rotation, random_shear,
                                     random_shift, random_zoom, transform_matrix_offset_center)
from .batch_transforms import apply_transform_batch  # noqa: F401
from .dataframe_iterator import DataFrameIterator  # noqa: F401
from .directory_iterator import DirectoryIterator  # noqa: F401
from .image_data_generator import ImageDataGenerator  # noqa: F401
from .iterator import BatchFromFilesMixin, Iterator  # noqa: F401
from .numpy_array_iterator import NumpyArrayIterator  # noqa: F401
from .utils import (array_to_img, img_to_array, list_pictures, load_img, save_img,  # noqa: F401
                    validate_filename)
