"""Keras 1 argument names, converted with Keras 2.3.1's warning (keras/legacy/interfaces.py)."""
import numpy as np
import pytest

import tkeras
from tkeras import layers
from tkeras.utils import TkerasDeprecationWarning


def _converted(factory, message):
    with pytest.warns(TkerasDeprecationWarning) as record:
        obj = factory()
    texts = [str(w.message) for w in record]
    assert message in texts, texts
    return obj


def test_dense_keras1_arguments():
    dense = _converted(
        lambda: layers.Dense(output_dim=3, init="normal", W_regularizer="l2", b_regularizer="l1",
                             bias=True),
        'Update your `Dense` call to the Keras 2 API: `Dense(units=3, '
        'kernel_initializer="normal", kernel_regularizer="l2", bias_regularizer="l1", '
        'use_bias=True)`')
    assert dense.units == 3 and dense.use_bias is True
    assert type(dense.kernel_initializer).__name__ == "RandomNormal"
    assert dense.kernel_regularizer.l2 == pytest.approx(0.01)
    assert dense.bias_regularizer.l1 == pytest.approx(0.01)
    with pytest.raises(TypeError, match="For the `units` argument, the layer received both the "
                                        "legacy keyword argument `output_dim` and the Keras 2 "
                                        "keyword argument `units`. Stick to the latter!"):
        layers.Dense(units=4, output_dim=3)


def test_config_round_trip_has_no_legacy_names():
    dense = _converted(lambda: layers.Dense(output_dim=3, input_dim=2), "Update your `Dense` call "
                       "to the Keras 2 API: `Dense(input_dim=2, units=3)`")
    again = layers.Dense.from_config(dense.get_config())  # no warning: Keras 2 names only
    assert again.get_config() == dense.get_config()


def test_dropout_noise_and_spatial_dropout():
    assert _converted(lambda: layers.Dropout(p=0.3),
                      "Update your `Dropout` call to the Keras 2 API: `Dropout(rate=0.3)`").rate == 0.3
    assert _converted(lambda: layers.GaussianNoise(sigma=0.2),
                      "Update your `GaussianNoise` call to the Keras 2 API: "
                      "`GaussianNoise(stddev=0.2)`").stddev == 0.2
    assert _converted(lambda: layers.GaussianDropout(p=0.1),
                      "Update your `GaussianDropout` call to the Keras 2 API: "
                      "`GaussianDropout(rate=0.1)`").rate == 0.1
    layer = _converted(lambda: layers.SpatialDropout2D(p=0.2, dim_ordering="th"),
                       "Update your `SpatialDropout2D` call to the Keras 2 API: "
                       '`SpatialDropout2D(rate=0.2, data_format="channels_first")`')
    assert layer.data_format == "channels_first"


def test_conv2d_keras1_arguments():
    conv = _converted(
        lambda: layers.Convolution2D(8, 3, 5, border_mode="same", subsample=(2, 2),
                                     dim_ordering="th", init="he_normal", bias=False),
        'Update your `Conv2D` call to the Keras 2 API: `Conv2D(8, (3, 5), strides=(2, 2), '
        'padding="same", data_format="channels_first", kernel_initializer="he_normal", '
        'use_bias=False)`')
    assert conv.kernel_size == (3, 5) and conv.strides == (2, 2) and conv.padding == "same"
    assert conv.data_format == "channels_first" and conv.use_bias is False
    conv = _converted(lambda: layers.Conv2D(nb_filter=4, nb_row=2, nb_col=3),
                      "Update your `Conv2D` call to the Keras 2 API: "
                      "`Conv2D(kernel_size=(2, 3), filters=4)`")
    assert conv.filters == 4 and conv.kernel_size == (2, 3)
    with pytest.raises(ValueError, match="passing both `kernel_size` and `strides` as integer "
                                         "positional arguments"):
        layers.Conv2D(8, 3, 3, padding="same")
    assert tuple(conv.compute_output_shape((None, 6, 6, 1))) == (None, 5, 4, 4)


def test_conv1d_conv3d_separable_and_transpose():
    conv = _converted(
        lambda: layers.Convolution1D(nb_filter=4, filter_length=3, subsample_length=2,
                                     input_dim=5, input_length=9),
        "Update your `Conv1D` call to the Keras 2 API: `Conv1D(input_shape=(9, 5), filters=4, "
        "kernel_size=3, strides=2)`")
    assert tkeras.Sequential([conv]).output_shape == (None, 4, 4)
    conv = _converted(lambda: layers.Convolution3D(2, 3, 3, 3),
                      "Update your `Conv3D` call to the Keras 2 API: `Conv3D(2, (3, 3, 3))`")
    assert conv.kernel_size == (3, 3, 3)
    conv = _converted(lambda: layers.SeparableConv2D(4, 3, 3, init="zeros"),
                      "Update your `SeparableConv2D` call to the Keras 2 API: "
                      '`SeparableConv2D(4, (3, 3), depthwise_initializer="zeros", '
                      'pointwise_initializer="zeros")`')
    assert type(conv.pointwise_initializer).__name__ == "Zeros"
    conv = _converted(lambda: layers.Deconvolution2D(3, 2, 2, output_shape=(None, 8, 8, 3)),
                      "Update your `Conv2DTranspose` call to the Keras 2 API: "
                      "`Conv2DTranspose(3, (2, 2))`")
    assert conv.kernel_size == (2, 2)


def test_pooling_upsampling_padding_cropping():
    pool = _converted(lambda: layers.MaxPooling1D(pool_length=3, stride=2, border_mode="same"),
                      "Update your `MaxPooling1D` call to the Keras 2 API: "
                      '`MaxPooling1D(pool_size=3, strides=2, padding="same")`')
    assert pool.pool_size == (3,) and pool.strides == (2,) and pool.padding == "same"
    pool = _converted(lambda: layers.AveragePooling2D((2, 2), dim_ordering="tf"),
                      "Update your `AveragePooling2D` call to the Keras 2 API: "
                      '`AveragePooling2D((2, 2), data_format="channels_last")`')
    assert pool.data_format == "channels_last"
    assert _converted(lambda: layers.GlobalMaxPooling2D(dim_ordering="th"),
                      "Update your `GlobalMaxPooling2D` call to the Keras 2 API: "
                      '`GlobalMaxPooling2D(data_format="channels_first")`'
                      ).data_format == "channels_first"
    up = _converted(lambda: layers.UpSampling1D(length=3),
                    "Update your `UpSampling1D` call to the Keras 2 API: `UpSampling1D(size=3)`")
    assert tkeras.Sequential([tkeras.Input((4, 2)), up]).output_shape == (None, 12, 2)
    with pytest.warns(TkerasDeprecationWarning, match="no longer.*accepts dict types"):
        pad = layers.ZeroPadding2D(padding={"top_pad": 1, "right_pad": 2})
    assert pad.padding == ((1, 0), (0, 2))
    crop = _converted(lambda: layers.Cropping2D(((1, 1), (2, 2)), dim_ordering="th"),
                      "Update your `Cropping2D` call to the Keras 2 API: "
                      '`Cropping2D(((1, 1), (..., data_format="channels_first")`')
    assert crop.data_format == "channels_first"


def test_recurrent_embedding_batchnorm_prelu():
    lstm = _converted(
        lambda: layers.LSTM(output_dim=4, inner_init="orthogonal", inner_activation="sigmoid",
                            dropout_W=0.1, dropout_U=0.2, consume_less="gpu",
                            forget_bias_init="one", input_dim=3, input_length=5),
        'Update your `LSTM` call to the Keras 2 API: `LSTM(input_dim=3, input_length=5, '
        'unit_forget_bias=True, units=4, recurrent_initializer="orthogonal", '
        'recurrent_activation="sigmoid", dropout=0.1, recurrent_dropout=0.2, '
        'implementation=2)`')
    assert (lstm.units, lstm.dropout, lstm.recurrent_dropout, lstm.implementation) == (4, 0.1, 0.2, 2)
    assert tkeras.Sequential([lstm]).input_shape == (None, 5, 3)
    with pytest.warns(TkerasDeprecationWarning, match="The `dropout` argument is no longer support "
                                                      "in `Embedding`"):
        layers.Embedding(10, 4, dropout=0.2)
    bn = _converted(lambda: layers.BatchNormalization(mode=0, beta_init="ones"),
                    'Update your `BatchNormalization` call to the Keras 2 API: '
                    '`BatchNormalization(beta_initializer="ones")`')
    assert type(bn.beta_initializer).__name__ == "Ones"
    with pytest.raises(TypeError, match="`mode=1` and `mode=2` are no longer supported"):
        layers.BatchNormalization(mode=1)
    prelu = _converted(lambda: layers.PReLU(init="ones"),
                       'Update your `PReLU` call to the Keras 2 API: `PReLU(alpha_initializer="ones")`')
    assert type(prelu.alpha_initializer).__name__ == "Ones"


def test_model_input_output_and_generator_methods():
    inp = tkeras.Input((2,))
    with pytest.warns(TkerasDeprecationWarning, match="Update your `Model` call to the Keras 2 "
                                                      "API: `Model"):
        model = tkeras.Model(input=inp, output=layers.Dense(1)(inp))
    model.compile("sgd", "mse")

    def batches():
        while True:
            yield np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    with pytest.warns(TkerasDeprecationWarning) as record:
        history = model.fit_generator(batches(), samples_per_epoch=3, nb_epoch=2, verbose=0)
    texts = " ".join(str(w.message) for w in record)
    assert "The semantics of the Keras 2 argument `steps_per_epoch`" in texts
    assert "Update your `fit_generator` call to the Keras 2 API" in texts
    assert len(history.history["loss"]) == 2


def test_keras1_style_add_weight_in_a_custom_layer():
    class Keras1Dense(layers.Layer):
        def build(self, input_shape):
            self.W = self.add_weight((input_shape[-1], 2), "ones", name="W")
            self.built = True

        def call(self, x):
            return x @ self.W

    layer = Keras1Dense()
    out = layer(np.full((1, 3), 2.0, "float32"))
    np.testing.assert_allclose(out.detach().numpy(), [[6.0, 6.0]])
    assert layer.W._keras_name.endswith("/W:0") and tuple(layer.W.shape) == (3, 2)
