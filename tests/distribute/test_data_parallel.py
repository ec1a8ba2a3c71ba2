"""Data parallel fit / evaluate / predict on 2 CPU processes (gloo) against 1 process."""
import csv
import os

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _close(a, b, atol=1e-5):
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=atol)


def _same_history(h, ref):
    assert sorted(h) == sorted(ref)
    for key in ref:
        np.testing.assert_allclose(h[key], ref[key], rtol=1e-5)


@pytest.fixture
def arrays(runs):
    one, (r0, r1), out = runs
    return one["arrays"], (r0["arrays"], r1["arrays"]), out


def test_fit_arrays_matches_one_process(arrays):
    one, (r0, r1), _ = arrays
    for a, b in zip(r0["weights"], r1["weights"]):
        np.testing.assert_array_equal(a, b)  # DDP: the same update on every rank
    _close(r0["weights"], one["weights"])
    assert r0["seen"] == r1["seen"] == [32, 32]  # half of each epoch's 64 samples
    assert one["seen"] == [64, 64]
    for r in (r0, r1):
        _same_history(r["history"], one["history"])
        assert r["history"] == r0["history"]


def test_early_stopping_stops_every_rank_at_the_same_epoch(arrays):
    one, (r0, r1), _ = arrays
    assert one["epochs"] == r0["epochs"] == r1["epochs"] == [0, 1]
    assert one["stopped_epoch"] == r0["stopped_epoch"] == r1["stopped_epoch"] == 1


def test_evaluate_and_predict_are_reduced_and_gathered(arrays):
    one, (r0, r1), _ = arrays
    for r in (r0, r1):
        np.testing.assert_allclose(r["evaluate"], one["evaluate"], rtol=1e-5)
        assert r["predict"].shape == (24, 1)
        np.testing.assert_allclose(r["predict"], one["predict"], rtol=1e-5, atol=1e-6)


def test_only_rank_0_writes(arrays):
    _, (r0, r1), out = arrays
    for name in ("log0.csv", "ckpt0.h5", "model0.h5", "tb0"):
        assert os.path.exists(out / name), name
    for name in ("log1.csv", "ckpt1.h5", "model1.h5", "tb1"):
        assert not os.path.exists(out / name), name
    events = [f for _, _, files in os.walk(out / "tb0") for f in files]
    assert any(f.startswith("events.out.tfevents") for f in events)
    with open(out / "log0.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], r0["history"]["loss"],
                               rtol=1e-6)
    # rank 1 loaded the file rank 0 saved (model.save waits for the write)
    _close(r1["loaded"], r0["weights"], atol=0)


@pytest.mark.parametrize("scenario", ["sequence", "dataloader"])
def test_fit_sequence_and_dataloader_match_one_process(runs, scenario):
    one, (r0, r1), _ = runs
    one, r0, r1 = one[scenario], r0[scenario], r1[scenario]
    for a, b in zip(r0["weights"], r1["weights"]):
        np.testing.assert_array_equal(a, b)
    _close(r0["weights"], one["weights"])
    assert r0["seen"] == r1["seen"] == [32, 32]
    for r in (r0, r1):
        _same_history(r["history"], one["history"])
        np.testing.assert_allclose(r["evaluate"], one["evaluate"], rtol=1e-5)
        np.testing.assert_allclose(r["predict"], one["predict"], rtol=1e-5, atol=1e-6)
    if scenario == "dataloader":  # DistributedSampler: disjoint halves, reshuffled per epoch
        ids0, ids1 = r0["shuffled_ids"], r1["shuffled_ids"]
        assert len(ids0) == len(ids1) == 64
        assert sorted(ids0[:32] + ids1[:32]) == list(range(64))
        assert sorted(ids0[32:] + ids1[32:]) == list(range(64))
        assert ids0[:32] != ids0[32:]


def test_terminate_on_nan_stops_every_rank_at_the_same_batch(runs):
    one, (r0, r1), _ = runs
    one, r0, r1 = one["stop_on_nan"], r0["stop_on_nan"], r1["stop_on_nan"]
    assert one["iterations"] == r0["iterations"] == r1["iterations"] == 2
    assert one["epochs"] == r0["epochs"] == r1["epochs"] == [0]


def test_model_built_by_its_first_step_starts_from_rank_0_weights(runs):
    one, (r0, r1), _ = runs
    one, r0, r1 = one["subclassed"], r0["subclassed"], r1["subclassed"]
    for a, b, c in zip(r0["weights"], r1["weights"], one["weights"]):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
    _same_history(r1["history"], one["history"])


def test_sync_batch_norm_trains_to_one_process_weights(runs):
    one, (r0, r1), _ = runs
    one, r0, r1 = one["batchnorm"], r0["batchnorm"], r1["batchnorm"]
    assert len(one[True]) == 8  # moving mean and variance included
    for a, b, c in zip(r0[True], r1[True], one[True]):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-5)
    # per-rank statistics: not one process's training, but the ranks agree
    for a, b in zip(r0[False], r1[False]):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(r0[False][3], one[False][3], rtol=1e-3)  # the moving variance


def test_clear_errors_instead_of_hangs(runs):
    for r in (runs[1][0]["errors"], runs[1][1]["errors"]):
        assert "Batch 2 of `x` holds 1 sample(s), fewer than the 2 processes" in \
            r["small_batch"]
        assert "stateful layers (stateful=True) cannot run on several processes" in \
            r["stateful"]


def test_bench_script_runs_quick():
    import subprocess
    import sys
    from pathlib import Path
    script = Path(__file__).resolve().parents[2] / "bench" / "bench_distributed.py"
    if not script.exists():
        pytest.skip("bench/ is not beside the tests")
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ratio 2-process / 1-process step time" in done.stdout
    assert "Warning" not in done.stderr, done.stderr[-2000:]


def test_train_on_batch_is_one_step_of_a_distributed_fit(runs):
    """Each rank trains on its part of the global batch with the gradients all-reduced:
    the ranks' weights stay equal, and equal to one process's; the values returned are the
    whole batch's."""
    one, (r0, r1), _ = runs
    one, r0, r1 = one["on_batch"], r0["on_batch"], r1["on_batch"]
    assert one["sizes"] == [16, 15, 17]
    assert [a + b for a, b in zip(r0["sizes"], r1["sizes"])] == one["sizes"]  # split, not
    assert max(r0["sizes"] + r1["sizes"]) <= 9  # each rank computing the whole batch
    for a, b in zip(r0["weights"], r1["weights"]):
        np.testing.assert_array_equal(a, b)
    _close(r0["weights"], one["weights"])
    for r in (r0, r1):
        np.testing.assert_allclose(r["train"], one["train"], rtol=1e-5)
    for a, b in zip(r0["bn_weights"], r1["bn_weights"]):  # moving statistics averaged
        np.testing.assert_array_equal(a, b)
    assert "small_batch" not in one and "own_train_step" not in one
    assert r0["released"] and r1["released"]
    for r in (r0, r1):  # its gradients would not be all-reduced
        assert "overrides `train_step`, which `train_on_batch` cannot run on several processes" \
            in r["own_train_step"]
    for r in (r0, r1):
        assert "The batch given to `train_on_batch` holds 1 sample(s), fewer than the 2" \
            in r["small_batch"]
