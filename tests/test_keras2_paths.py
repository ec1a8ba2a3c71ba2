"""Keras 2 scripts import from Keras 2's module paths; they must keep working."""
import importlib

import pytest

PATHS = {
    "tkeras.engine.topology": ["Layer", "Input", "InputLayer", "InputSpec"],
    "tkeras.engine": ["Layer", "Model", "Sequential", "Input", "InputSpec"],
    "tkeras.layers.core": ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute",
                           "RepeatVector", "Lambda", "ActivityRegularization", "Masking",
                           "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"],
    "tkeras.layers.merge": ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                            "Concatenate", "Dot", "add", "concatenate", "dot"],
    "tkeras.layers.convolutional": ["Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose",
                                    "SeparableConv2D", "Cropping2D", "UpSampling2D", "ZeroPadding2D"],
    "tkeras.layers.pooling": ["MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D"],
    "tkeras.layers.local": ["LocallyConnected1D", "LocallyConnected2D"],
    "tkeras.layers.recurrent": ["RNN", "SimpleRNN", "GRU", "LSTM", "LSTMCell", "GRUCell"],
    "tkeras.layers.convolutional_recurrent": ["ConvLSTM2D"],
    "tkeras.layers.embeddings": ["Embedding"],
    "tkeras.layers.normalization": ["BatchNormalization"],
    "tkeras.layers.advanced_activations": ["LeakyReLU", "PReLU", "ELU", "ThresholdedReLU",
                                           "Softmax", "ReLU"],
    "tkeras.layers.noise": ["GaussianNoise", "GaussianDropout", "AlphaDropout"],
    "tkeras.layers.wrappers": ["TimeDistributed", "Bidirectional"],
    "tkeras.utils.np_utils": ["to_categorical", "normalize"],
    "tkeras.utils.generic_utils": ["CustomObjectScope", "custom_object_scope", "get_custom_objects"],
    "tkeras.utils.layer_utils": ["print_summary", "count_params"],
    "tkeras.utils.vis_utils": ["plot_model", "model_to_dot"],
    "tkeras.optimizer": ["Adam", "SGD"],
    "tkeras.optimizers": ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"],
    "tkeras.models": ["Model", "Sequential", "model_from_json", "model_from_yaml"],
}


@pytest.mark.parametrize("module", sorted(PATHS))
def test_keras2_module_path_imports(module):
    mod = importlib.import_module(module)
    missing = [name for name in PATHS[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lacks {missing}"


def test_import_tkeras_as_keras():
    import tkeras as keras
    from tkeras import backend as K
    assert keras.layers.Dense and keras.models.Sequential and keras.Model and keras.Input
    assert K.floatx() == "float32" and K.epsilon() == 1e-7
