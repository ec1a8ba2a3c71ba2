"""``tkeras.utils.set_random_seed(seed)`` seeds Python's ``random``, numpy and torch in one
call (Keras 2's ``tf.keras.utils.set_random_seed``): draws, initial weights, dropout masks
and a whole training run repeat after re-seeding, and change with another seed."""
import random

import numpy as np
import pytest
import torch

import tkeras
from tkeras import backend as K
from tkeras import layers


def draws_of_every_generator():
    """One draw from each generator set_random_seed conditions."""
    return {
        "random": [random.random() for _ in range(3)] + [random.randint(0, 10 ** 9)],
        "numpy": np.concatenate([np.random.rand(3), np.random.randn(2),
                                 np.random.permutation(20).astype(float)]),
        "torch": torch.cat([torch.rand(3), torch.randn(2), torch.randperm(20).float()]),
        "K_unseeded": K.random_normal((4,)),
        "K_seeded": K.random_uniform((4,), seed=11),
    }


def assert_same_draws(a, b):
    assert a["random"] == b["random"]
    np.testing.assert_array_equal(a["numpy"], b["numpy"])
    for key in ("torch", "K_unseeded", "K_seeded"):
        assert torch.equal(a[key], b[key]), key


def test_reseeding_repeats_every_generator():
    tkeras.utils.set_random_seed(1234)
    first = draws_of_every_generator()
    draws_of_every_generator()  # move every generator on
    tkeras.utils.set_random_seed(1234)
    assert_same_draws(first, draws_of_every_generator())


def test_another_seed_gives_other_draws():
    tkeras.utils.set_random_seed(1)
    a = draws_of_every_generator()
    tkeras.utils.set_random_seed(2)
    b = draws_of_every_generator()
    assert a["random"] != b["random"]
    assert not np.array_equal(a["numpy"], b["numpy"])
    assert not torch.equal(a["torch"], b["torch"])
    assert not torch.equal(a["K_unseeded"], b["K_unseeded"])


def test_seed_matches_seeding_each_library_by_hand():
    """set_random_seed(s) is random.seed(s) + np.random.seed(s) + torch.manual_seed(s)."""
    tkeras.utils.set_random_seed(77)
    ours = (random.random(), np.random.rand(4), torch.rand(4))
    random.seed(77)
    np.random.seed(77)
    torch.manual_seed(77)
    assert ours[0] == random.random()
    np.testing.assert_array_equal(ours[1], np.random.rand(4))
    assert torch.equal(ours[2], torch.rand(4))


def test_seeded_backend_sequences_restart():
    """K's seeded functions give successive different draws; set_random_seed restarts them."""
    tkeras.utils.set_random_seed(0)
    first, second = K.random_normal((5,), seed=3), K.random_normal((5,), seed=3)
    assert not torch.equal(first, second)
    tkeras.utils.set_random_seed(0)
    assert torch.equal(first, K.random_normal((5,), seed=3))


def initial_weights_of_fresh_layers(seed):
    tkeras.utils.set_random_seed(seed)
    model = tkeras.Sequential([
        layers.Conv2D(3, 2, input_shape=(5, 5, 2)), layers.Flatten(),
        layers.Dense(4, kernel_initializer="he_normal"),
    ])
    lstm = layers.LSTM(3)
    lstm.build((None, 4, 2))
    return model.get_weights() + lstm.get_weights()


def test_initial_weights_repeat_with_the_seed():
    a = initial_weights_of_fresh_layers(42)
    b = initial_weights_of_fresh_layers(42)
    c = initial_weights_of_fresh_layers(43)
    assert len(a) == len(b) == 7
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    kernels = [i for i, w in enumerate(a) if w.ndim > 1]
    assert kernels and all(not np.array_equal(a[i], c[i]) for i in kernels)


def dropout_output(seed, layer_cls=layers.Dropout):
    tkeras.utils.set_random_seed(seed)
    x = torch.ones(8, 50)
    return layer_cls(0.5)(x, training=True)


def test_dropout_masks_repeat_with_the_seed():
    a, b, c = dropout_output(5), dropout_output(5), dropout_output(6)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # a real dropout mask: zeros and 1 / (1 - 0.5) = 2
    assert set(torch.unique(a).tolist()) == {0.0, 2.0}


def test_backend_dropout_mask_repeats_with_the_seed():
    def mask(seed):
        tkeras.utils.set_random_seed(seed)
        return K.dropout(torch.ones(400), 0.25)

    a = mask(9)
    assert torch.equal(a, mask(9))
    assert not torch.equal(a, mask(10))


def trained_weights(seed):
    tkeras.utils.set_random_seed(seed)
    rng = np.random.default_rng(0)  # the same data every time
    x = rng.normal(size=(40, 6)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = tkeras.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                               layers.Dropout(0.3), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
    return model.get_weights()


def test_a_training_run_repeats_with_the_seed():
    a, b = trained_weights(3), trained_weights(3)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a[0], trained_weights(4)[0])


@pytest.mark.parametrize("seed", [1.5, "1", None])
def test_a_seed_that_is_not_an_integer_is_a_value_error(seed):
    with pytest.raises(ValueError, match="Expected `seed` argument to be an integer"):
        tkeras.utils.set_random_seed(seed)
