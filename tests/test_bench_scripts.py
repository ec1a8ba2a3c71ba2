"""The scripts in bench/ keep running (smoke runs with --quick; no time is asserted)."""
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
