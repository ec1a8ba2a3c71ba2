"""The scripts in bench/ keep running (smoke runs with --quick; no time is asserted)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("script", ["bench_layer_overhead.py", "bench_conv.py", "bench_rnn.py",
                                    "bench_fit.py", "bench_augment.py", "bench_k_function.py",
                                    "bench_applications.py", "bench_mixed_precision.py"])
def test_bench_script_runs_quick(script):
    if not BENCH.is_dir():
        pytest.skip("bench/ is not beside the tests")
    done = subprocess.run([sys.executable, str(BENCH / script), "--quick"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ratio" in done.stdout


def test_bench_fit_times_a_peer_in_its_own_process_and_skips_a_missing_one(tmp_path):
    """``--peers``: a peer Keras runs ``peer_worker.py`` in a child process and gets its
    row; one that cannot be imported is reported skipped. tkeras stands in for tf_keras
    here (the test environment has no TensorFlow), through a module that is tkeras."""
    if not BENCH.is_dir():
        pytest.skip("bench/ is not beside the tests")
    (tmp_path / "tf_keras.py").write_text("import sys\nimport tkeras\n\nsys.modules[__name__] = tkeras\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    done = subprocess.run([sys.executable, str(BENCH / "bench_fit.py"), "--quick", "--only", "W4",
                           "--peers", "tf-keras", "keras3-jax"], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert "ratio to torch" in rows["tf-keras"]
    assert "skipped: unavailable" in rows["keras3-jax"]
    assert "tkeras / " in rows["best"]  # the best of the torch loops and the peers
