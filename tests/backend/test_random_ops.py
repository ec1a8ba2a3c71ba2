"""Tests of the seeded generators in tkeras.backend.random_ops: ``seeded_generator`` (the
generators K's seeded functions share per (seed, device)) and ``SeededRNG`` (the generator
a seeded layer owns). Expected draws come from torch generators seeded by hand."""
import numpy as np
import pytest
import torch

from tkeras import backend as K
from tkeras.backend import ops, random_ops
from tkeras.backend.random_ops import SeededRNG, seeded_generator
from tkeras.layers import AlphaDropout, Dropout, GaussianNoise, SpatialDropout1D


def hand_seeded(seed, device="cpu"):
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def keep_mask(shape, rate, gen):
    """Keras's ``uniform >= rate`` as a CPU dropout mask draws it (``dropout_mask``): the
    generator's full-range 64-bit draws, read as consecutive int32 ``v`` (little-endian
    halves), are the uniforms ``(v + 2^31) / 2^32``; here computed in numpy float64."""
    n = int(np.prod(shape))
    words = torch.empty((n + 1) // 2, dtype=torch.int64).random_(-2 ** 63, None, generator=gen)
    v = words.numpy().view("<i4")[:n].astype(np.float64)
    return torch.from_numpy(((v + 2.0 ** 31) / 2.0 ** 32 >= rate).reshape(shape)).float()


# ------------------------------------------------------------------ seeded_generator

def test_seeded_generator_is_one_object_per_seed_and_device_until_clear_session():
    K.clear_session()
    first = seeded_generator(11, "cpu")
    assert seeded_generator(11, torch.device("cpu")) is first
    assert seeded_generator(12, "cpu") is not first
    K.clear_session()
    assert seeded_generator(11, "cpu") is not first


def test_seeded_generator_draws_the_seeds_sequence_and_k_functions_share_it():
    K.clear_session()
    expected_gen = hand_seeded(5)
    expected = [torch.rand(4, generator=expected_gen) for _ in range(2)]
    np.testing.assert_array_equal(K.random_uniform((4,), seed=5).numpy(), expected[0].numpy())
    # the next draw on the shared (5, cpu) generator continues the same sequence
    np.testing.assert_array_equal(torch.rand(4, generator=seeded_generator(5, "cpu")).numpy(),
                                  expected[1].numpy())


def test_seeded_generator_refuses_the_meta_device():
    with pytest.raises(ValueError, match="meta"):
        seeded_generator(1, "meta")


def test_reset_and_hooks_still_reachable_through_ops():
    assert ops.reset_seeded_generators is random_ops.reset_seeded_generators
    gen = seeded_generator(3, "cpu")
    ops.reset_seeded_generators()
    assert seeded_generator(3, "cpu") is not gen


# ------------------------------------------------------------------ SeededRNG

def test_seeded_rng_without_seed_or_on_meta_uses_the_global_rng():
    assert SeededRNG(None).generator("cpu") is None
    assert SeededRNG(4).generator(torch.device("meta")) is None


def test_seeded_rng_keeps_one_generator_seeded_once():
    rng = SeededRNG(9)
    gen = rng.generator("cpu")
    assert rng.generator(torch.device("cpu")) is gen
    expected_gen = hand_seeded(9)
    for _ in range(3):
        np.testing.assert_array_equal(torch.rand(5, generator=rng.generator("cpu")).numpy(),
                                      torch.rand(5, generator=expected_gen).numpy())


def test_seeded_rngs_are_independent_of_each_other_and_of_k():
    K.clear_session()
    a, b = SeededRNG(2), SeededRNG(2)
    torch.rand(3, generator=a.generator("cpu"))  # advances a only
    torch.rand(3, generator=seeded_generator(2, "cpu"))  # advances K's (2, cpu) only
    np.testing.assert_array_equal(torch.rand(3, generator=b.generator("cpu")).numpy(),
                                  torch.rand(3, generator=hand_seeded(2)).numpy())


# ------------------------------------------------------------------ layers that own one

def test_seeded_dropout_masks_follow_the_layers_own_sequence():
    rate, x = 0.5, torch.ones(3, 8)
    layer = Dropout(rate, seed=21)
    gen = hand_seeded(21)
    for _ in range(2):  # Keras's mask: uniform >= rate, survivors scaled by 1 / (1 - rate)
        keep = keep_mask((3, 8), rate, gen)
        np.testing.assert_array_equal(layer(x, training=True).numpy(),
                                      (x * (1 / (1 - rate)) * keep).numpy())


def test_seeded_spatial_dropout_and_noise_layers_match_a_fresh_generator():
    x = torch.ones(2, 4, 3)
    spatial = SpatialDropout1D(0.5, seed=8)
    keep = keep_mask((2, 1, 3), 0.5, hand_seeded(8))
    np.testing.assert_array_equal(spatial(x, training=True).numpy(),
                                  (x * (1 / 0.5) * keep).numpy())
    noise = GaussianNoise(0.5, seed=8)
    expected = x + 0.5 * torch.randn(2, 4, 3, generator=hand_seeded(8))
    np.testing.assert_allclose(noise(x, training=True).numpy(), expected.numpy(), rtol=1e-6)


def test_seeded_layers_on_the_meta_device_draw_without_a_generator():
    x = torch.empty(2, 5, device="meta")
    assert Dropout(0.3, seed=1)(x, training=True).shape == (2, 5)
    assert AlphaDropout(0.3, seed=1)(x, training=True).shape == (2, 5)


# ------------------------------------------------------------------ dropout_mask

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_cpu_dropout_mask_is_uniform_ge_rate_scaled(dtype):
    shape, rate = (3, 5, 7), 0.3  # an odd number of entries: half a 64-bit draw unused
    mask = random_ops.dropout_mask(shape, rate, dtype, "cpu", hand_seeded(4))
    assert mask.shape == shape and mask.dtype == dtype
    keep = keep_mask(shape, rate, hand_seeded(4))
    scale = torch.tensor(1 / (1 - rate), dtype=dtype)  # the scale rounded once, to dtype
    np.testing.assert_array_equal(mask.float().numpy(), (keep * scale.float()).numpy())


def test_dropout_masks_keep_one_minus_rate_of_the_entries():
    n = 10 ** 6  # binomial standard deviation of the kept fraction: < 5e-4
    for rate in (0.1, 0.5, 0.75):
        tensor_rate = torch.tensor(rate, dtype=torch.float64)  # (the compiled path's kind)
        for mask in (random_ops.dropout_mask((n,), rate, torch.float32, "cpu"),
                     random_ops.dropout_mask((n,), tensor_rate, torch.float32, "cpu")):
            assert mask.dtype == torch.float32
            assert abs((mask > 0).double().mean().item() - (1 - rate)) < 3e-3
            values = mask.unique().tolist()
            assert values == [0.0, pytest.approx(1 / (1 - rate))]


def test_dropout_mask_at_the_ends_of_the_rate_range():
    assert torch.equal(random_ops.dropout_mask((4, 3), 0, torch.float32, "cpu"), torch.ones(4, 3))
    rate = 1 - 2.0 ** -40  # within 2^-32 of 1: nothing kept
    assert not random_ops.dropout_mask((1000,), rate, torch.float32, "cpu").any()
    assert random_ops.dropout_mask((0, 3), 0.5, torch.float32, "cpu").shape == (0, 3)


def test_dropout_under_vmap_draws_a_different_mask_per_sample():
    masks = torch.func.vmap(lambda x: K.dropout(x, 0.5), randomness="different")(
        torch.ones(64, 32))
    assert masks.shape == (64, 32)
    assert len({tuple(row.tolist()) for row in masks}) > 1  # not one mask repeated
