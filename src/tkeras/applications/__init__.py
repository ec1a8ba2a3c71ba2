"""keras.applications: Keras's image classification models, with their ImageNet weights.

Every model of tf-keras 2.x, with the same layer names, order, shapes and parameter counts,
so Keras's published weight files load (``weights="imagenet"``) and code that looks layers
up by name works. Each family is also importable from its Keras 2 module path
(``tkeras.applications.vgg16.VGG16``) with that module's ``preprocess_input`` and
``decode_predictions``.

Example:
    >>> from tkeras.applications import ResNet50
    >>> model = ResNet50(weights=None, include_top=False, pooling="avg",
    ...                  input_shape=(64, 64, 3))
    >>> model.output_shape
    (None, 2048)
"""
from . import imagenet_utils  # noqa: F401
from .vgg16 import VGG16  # noqa: F401
from .vgg19 import VGG19  # noqa: F401
from .resnet import ResNet50, ResNet101, ResNet152  # noqa: F401
from .resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2  # noqa: F401
from . import resnet50  # noqa: F401
from .xception import Xception  # noqa: F401
from .inception_v3 import InceptionV3  # noqa: F401
from .inception_resnet_v2 import InceptionResNetV2  # noqa: F401
from .mobilenet import MobileNet  # noqa: F401
from .densenet import DenseNet121, DenseNet169, DenseNet201  # noqa: F401
from .nasnet import NASNetLarge, NASNetMobile  # noqa: F401
from .efficientnet import (  # noqa: F401
    EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4,
    EfficientNetB5, EfficientNetB6, EfficientNetB7,
)
from .efficientnet_v2 import (  # noqa: F401
    EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2, EfficientNetV2B3, EfficientNetV2L,
    EfficientNetV2M, EfficientNetV2S,
)
from .mobilenet_v2 import MobileNetV2  # noqa: F401
from .mobilenet_v3 import MobileNetV3Large, MobileNetV3Small  # noqa: F401
from .convnext import (  # noqa: F401
    ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge,
)
from .regnet import (  # noqa: F401
    RegNetX002, RegNetX004, RegNetX006, RegNetX008, RegNetX016, RegNetX032, RegNetX040,
    RegNetX064, RegNetX080, RegNetX120, RegNetX160, RegNetX320, RegNetY002, RegNetY004,
    RegNetY006, RegNetY008, RegNetY016, RegNetY032, RegNetY040, RegNetY064, RegNetY080,
    RegNetY120, RegNetY160, RegNetY320,
)
