"""Every public name of Keras 2.3.1's modules exists in the matching tkeras module.

The lists were written from Keras 2.3.1's sources (git tag 2.3.1 of keras-team/keras):
the names each module defines, and for the package ``__init__`` files and ``models.py``
the names they import from Keras itself. Left out: the helpers those modules import for
their own use: ``K``, ``has_arg``, ``to_list`` in models.py; ``K``, ``interfaces`` in
optimizers.py; ``K``, ``losses_utils`` in losses.py; ``K``, ``Layer``, ``losses_utils``,
``metrics_utils`` in metrics.py; ``to_list``, ``to_categorical``, ``has_arg``,
``Sequential``, ``losses`` in wrappers/scikit_learn.py.
"""
import importlib

import pytest

KERAS_2_3_1 = {
    "keras.utils": [
        'CustomObjectScope', 'GeneratorEnqueuer', 'H5Dict', 'HDF5Matrix', 'OrderedEnqueuer',
        'Progbar', 'Sequence', 'conv_utils', 'convert_all_kernels_in_model',
        'custom_object_scope', 'data_utils', 'deserialize_keras_object', 'generic_utils',
        'get_custom_objects', 'get_file', 'get_source_inputs', 'io_utils', 'losses_utils',
        'metrics_utils', 'model_to_dot', 'multi_gpu_model', 'normalize', 'np_utils',
        'plot_model', 'print_summary', 'serialize_keras_object', 'to_categorical'
    ],
    "keras.models": [
        'Input', 'InputLayer', 'Model', 'Sequential', 'clone_model', 'load_model',
        'model_from_config', 'model_from_json', 'model_from_yaml', 'save_model'
    ],
    "keras.engine": [
        'Input', 'InputLayer', 'InputSpec', 'Layer', 'Model', 'get_source_inputs'
    ],
    "keras.optimizers": [
        'Adadelta', 'Adagrad', 'Adam', 'Adamax', 'Nadam', 'Optimizer', 'RMSprop', 'SGD',
        'TFOptimizer', 'adadelta', 'adagrad', 'adam', 'adamax', 'clip_norm', 'deserialize',
        'deserialize_keras_object', 'get', 'nadam', 'rmsprop', 'serialize',
        'serialize_keras_object', 'sgd'
    ],
    "keras.losses": [
        'BinaryCrossentropy', 'CategoricalCrossentropy', 'CategoricalHinge', 'Hinge',
        'Huber', 'KLD', 'KLDivergence', 'LogCosh', 'Loss', 'LossFunctionWrapper', 'MAE',
        'MAPE', 'MSE', 'MSLE', 'MeanAbsoluteError', 'MeanAbsolutePercentageError',
        'MeanSquaredError', 'MeanSquaredLogarithmicError', 'Poisson',
        'SparseCategoricalCrossentropy', 'SquaredHinge', 'binary_crossentropy',
        'categorical_crossentropy', 'categorical_hinge', 'cosine', 'cosine_proximity',
        'cosine_similarity', 'deserialize', 'deserialize_keras_object', 'get', 'hinge',
        'huber_loss', 'is_categorical_crossentropy', 'kld', 'kullback_leibler_divergence',
        'logcosh', 'mae', 'mape', 'mean_absolute_error', 'mean_absolute_percentage_error',
        'mean_squared_error', 'mean_squared_logarithmic_error', 'mse', 'msle', 'poisson',
        'serialize', 'serialize_keras_object', 'sparse_categorical_crossentropy',
        'squared_hinge'
    ],
    "keras.metrics": [
        'AUC', 'Accuracy', 'BaseMeanIoU', 'BinaryAccuracy', 'BinaryCrossentropy',
        'CategoricalAccuracy', 'CategoricalCrossentropy', 'CategoricalHinge',
        'CosineSimilarity', 'FalseNegatives', 'FalsePositives', 'Hinge', 'KLDivergence',
        'LogCoshError', 'MAE', 'MAPE', 'MSE', 'MSLE', 'Mean', 'MeanAbsoluteError',
        'MeanAbsolutePercentageError', 'MeanIoU', 'MeanMetricWrapper', 'MeanSquaredError',
        'MeanSquaredLogarithmicError', 'Metric', 'Poisson', 'Precision', 'Recall', 'Reduce',
        'RootMeanSquaredError', 'SensitivityAtSpecificity', 'SensitivitySpecificityBase',
        'SparseCategoricalAccuracy', 'SparseCategoricalCrossentropy',
        'SparseTopKCategoricalAccuracy', 'SpecificityAtSensitivity', 'SquaredHinge', 'Sum',
        'TopKCategoricalAccuracy', 'TrueNegatives', 'TruePositives', 'accuracy',
        'binary_accuracy', 'binary_crossentropy', 'categorical_accuracy',
        'categorical_crossentropy', 'categorical_hinge', 'clone_metric', 'clone_metrics',
        'cosine', 'cosine_proximity', 'cosine_similarity', 'deserialize',
        'deserialize_keras_object', 'get', 'hinge', 'kullback_leibler_divergence',
        'logcosh', 'mae', 'mape', 'mean_absolute_error', 'mean_absolute_percentage_error',
        'mean_squared_error', 'mean_squared_logarithmic_error', 'mse', 'msle', 'poisson',
        'serialize', 'serialize_keras_object', 'sparse_categorical_accuracy',
        'sparse_categorical_crossentropy', 'sparse_top_k_categorical_accuracy',
        'squared_hinge', 'top_k_categorical_accuracy'
    ],
    "keras.layers": [
        'Activation', 'ActivityRegularization', 'Add', 'AlphaDropout',
        'AtrousConvolution1D', 'AtrousConvolution2D', 'Average', 'AveragePooling1D',
        'AveragePooling2D', 'AveragePooling3D', 'AvgPool1D', 'AvgPool2D', 'AvgPool3D',
        'BatchNormalization', 'Bidirectional', 'Concatenate', 'Conv1D', 'Conv2D',
        'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose', 'ConvLSTM2D', 'ConvLSTM2DCell',
        'ConvRecurrent2D', 'Convolution1D', 'Convolution2D', 'Convolution3D', 'Cropping1D',
        'Cropping2D', 'Cropping3D', 'CuDNNGRU', 'CuDNNLSTM', 'Deconvolution2D',
        'Deconvolution3D', 'Dense', 'DepthwiseConv2D', 'Dot', 'Dropout', 'ELU', 'Embedding',
        'Flatten', 'GRU', 'GRUCell', 'GaussianDropout', 'GaussianNoise',
        'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalAveragePooling3D',
        'GlobalAvgPool1D', 'GlobalAvgPool2D', 'GlobalAvgPool3D', 'GlobalMaxPool1D',
        'GlobalMaxPool2D', 'GlobalMaxPool3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
        'GlobalMaxPooling3D', 'Highway', 'Input', 'InputLayer', 'InputSpec', 'LSTM',
        'LSTMCell', 'Lambda', 'Layer', 'LeakyReLU', 'LocallyConnected1D',
        'LocallyConnected2D', 'Masking', 'MaxPool1D', 'MaxPool2D', 'MaxPool3D',
        'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'Maximum', 'MaxoutDense', 'Minimum',
        'Multiply', 'PReLU', 'Permute', 'RNN', 'ReLU', 'Recurrent', 'RepeatVector',
        'Reshape', 'SeparableConv1D', 'SeparableConv2D', 'SimpleRNN', 'SimpleRNNCell',
        'Softmax', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D',
        'StackedRNNCells', 'Subtract', 'ThresholdedReLU', 'TimeDistributed', 'UpSampling1D',
        'UpSampling2D', 'UpSampling3D', 'ZeroPadding1D', 'ZeroPadding2D', 'ZeroPadding3D',
        'add', 'average', 'concatenate', 'deserialize', 'deserialize_keras_object', 'dot',
        'maximum', 'minimum', 'multiply', 'serialize', 'subtract'
    ],
    "keras.wrappers.scikit_learn": [
        'BaseWrapper', 'KerasClassifier', 'KerasRegressor'
    ],
    "keras.datasets.mnist": [
        'load_data'
    ],
    "keras.datasets.fashion_mnist": [
        'load_data'
    ],
    "keras.datasets.cifar10": [
        'load_data'
    ],
    "keras.datasets.cifar100": [
        'load_data'
    ],
    "keras.datasets.imdb": [
        'get_word_index', 'load_data'
    ],
    "keras.datasets.reuters": [
        'get_word_index', 'load_data'
    ],
    "keras.datasets.boston_housing": [
        'load_data'
    ],
}


@pytest.mark.parametrize("module", sorted(KERAS_2_3_1))
def test_every_keras_2_3_1_public_name_exists(module):
    tk_module = importlib.import_module("t" + module)
    missing = [name for name in KERAS_2_3_1[module] if not hasattr(tk_module, name)]
    assert missing == [], f"t{module} lacks {missing}"


def test_the_lists_are_not_empty():
    assert sum(len(v) for v in KERAS_2_3_1.values()) > 300


def test_keras_2_3_1_submodules_are_attributes_of_the_package():
    import tkeras
    for name in ("datasets", "wrappers", "legacy", "utils", "models", "engine", "optimizers",
                 "losses", "metrics", "layers"):
        assert hasattr(tkeras, name), name
    assert tkeras.wrappers.scikit_learn.KerasClassifier.__name__ == "KerasClassifier"
