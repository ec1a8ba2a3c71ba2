"""FSDP2 (fully_shard) on 2 CPU processes (gloo): the same training as DDP, full saves."""
import numpy as np
import pytest

import tkeras


@pytest.fixture(scope="module")
def fsdp_run(tmp_path_factory, run_processes):
    out = tmp_path_factory.mktemp("fsdp")
    return run_processes("plain,fsdp_errors", out, world=2, TKERAS_TEST_STRATEGY="fsdp"), out


def test_fsdp_trains_to_the_ddp_weights(fsdp_run, runs):
    (f0, f1), _ = fsdp_run
    ddp = runs[1][0]["plain"]  # the DDP launch of test_data_parallel's fixture
    f0, f1 = f0["plain"], f1["plain"]
    for a, b, c in zip(f0["weights"], f1["weights"], ddp["weights"]):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
    for key in ddp["history"]:
        np.testing.assert_allclose(f0["history"][key], ddp["history"][key], rtol=1e-5)
        assert f0["history"][key] == f1["history"][key]
    np.testing.assert_allclose(f0["evaluate"], ddp["evaluate"], rtol=1e-5)
    np.testing.assert_allclose(f1["predict"], ddp["predict"], rtol=1e-5, atol=1e-6)
    assert f1["predict"].shape == (20, 1)


def test_fsdp_saves_full_weights_that_load_in_one_process(fsdp_run):
    (f0, _), out = fsdp_run
    assert not (out / "plain_fsdp1.h5").exists()  # rank 0 wrote
    model = tkeras.models.load_model(str(out / "plain_fsdp0.h5"))
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense"]
    saved = model.get_weights()
    assert [w.shape for w in saved] == [(4, 8), (8,), (8, 1), (1,)]
    for a, b in zip(saved, f0["plain"]["weights"]):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 8  # 2 epochs of 4 global batches


def test_fsdp_refuses_moving_statistics_on_every_rank(fsdp_run):
    for r in fsdp_run[0]:
        assert "non-trainable weights updated by its layers" in r["fsdp_errors"]
        assert "`FullyShardedDataParallel` does not support" in r["fsdp_errors"]
