"""Calling a model as Keras 2 did: the call is valid when the model's layers accept the
input (Keras 2.x checked only each layer's own input_spec), as the Keras 2.3.1 ACGAN
example relies on; genuinely incompatible inputs raise the first layer's error."""
import numpy as np
import pytest
import torch

from tkeras import Model, Sequential, layers

LATENT = 100


def _acgan_generator_stack():
    """The generator stack of the Keras 2.3.1 ACGAN example (mnist_acgan.py)."""
    cnn = Sequential()
    cnn.add(layers.Dense(3 * 3 * 384, input_dim=LATENT, activation="relu"))
    cnn.add(layers.Reshape((3, 3, 384)))
    cnn.add(layers.Conv2DTranspose(192, 5, strides=1, padding="valid", activation="relu",
                                   kernel_initializer="glorot_normal"))
    cnn.add(layers.BatchNormalization())
    cnn.add(layers.Conv2DTranspose(96, 5, strides=2, padding="same", activation="relu",
                                   kernel_initializer="glorot_normal"))
    cnn.add(layers.BatchNormalization())
    cnn.add(layers.Conv2DTranspose(1, 5, strides=2, padding="same", activation="tanh",
                                   kernel_initializer="glorot_normal"))
    return cnn


def test_acgan_generator_runs_on_the_embedding_product_of_shape_1_by_100():
    cnn = _acgan_generator_stack()
    latent = layers.Input(shape=(LATENT,))
    image_class = layers.Input(shape=(1,), dtype="int32")
    cls = layers.Embedding(10, LATENT, embeddings_initializer="glorot_normal")(image_class)
    h = layers.multiply([latent, cls])
    assert h.shape == (None, 1, LATENT)
    fake_image = cnn(h)  # symbolic call on (None, 1, 100)
    assert fake_image.shape == (None, 28, 28, 1)
    generator = Model([latent, image_class], fake_image)

    rng = np.random.RandomState(0)
    noise = rng.uniform(-1, 1, (4, LATENT)).astype("float32")
    labels = rng.randint(0, 10, (4, 1))
    images = generator.predict([noise, labels], verbose=0)
    assert images.shape == (4, 28, 28, 1)
    # the stack on its own, eagerly, on the same (batch, 1, 100) product
    table = generator.get_layer(index=2).get_weights()[0]
    product = (noise * table[labels[:, 0]])[:, None, :]
    np.testing.assert_allclose(cnn.predict(product, verbose=0), images, rtol=1e-5, atol=1e-5)


def test_a_sequential_built_with_input_dim_accepts_inputs_its_layers_accept():
    model = Sequential([layers.Dense(8, input_dim=LATENT), layers.Dense(2)])
    assert model(layers.Input((1, LATENT))).shape == (None, 1, 2)
    x = np.random.RandomState(1).standard_normal((3, 1, LATENT)).astype("float32")
    out = model(x)
    assert out.shape == (3, 1, 2)
    np.testing.assert_allclose(out.detach().numpy()[:, 0], model(x[:, 0]).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make_input", [lambda: layers.Input((50,)),
                                        lambda: torch.zeros(3, 50),
                                        lambda: layers.Input((1, 50))],
                         ids=["symbolic", "eager", "symbolic_rank3"])
def test_incompatible_inputs_raise_the_first_layers_keras_error(make_input):
    model = Sequential([layers.Dense(8, input_dim=LATENT), layers.Dense(2)])
    x = make_input()
    shape = tuple(x.shape) if isinstance(x, torch.Tensor) else x.shape
    with pytest.raises(ValueError) as err:
        model(x)
    expected = ('Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of '
                f"input shape to have value {LATENT}, but received input with shape {shape}")
    # an eager call adds tf-keras's "Exception encountered when calling layer ..." context
    assert expected in str(err.value).splitlines()


def test_a_functional_model_checks_its_layers_not_its_input_shape():
    inputs = layers.Input((4,))
    model = Model(inputs, layers.Dense(2)(inputs))
    assert model.input_spec is None  # as Keras 2's Network: its Input layer has no spec
    assert model(layers.Input((3, 4))).shape == (None, 3, 2)
    with pytest.raises(ValueError, match=r'layer "dense.*" is incompatible with the layer: '
                                         r"expected axis -1 of input shape to have value 4"):
        model(torch.zeros(2, 5))


def test_a_layer_with_several_inputs_follows_each_calls_training_flag():
    class Flag(layers.Layer):
        def call(self, inputs, training=None):
            a, b = inputs
            return a + b + (1.0 if training else 0.0)

    x, y = layers.Input((2,)), layers.Input((2,))
    model = Model([x, y], Flag()([x, y]))
    zeros = torch.zeros(1, 2)
    for training, expected in ((True, 1.0), (False, 0.0), (True, 1.0), (None, 0.0)):
        out = model([zeros, zeros], training=training)
        np.testing.assert_array_equal(out.numpy(), np.full((1, 2), expected))
