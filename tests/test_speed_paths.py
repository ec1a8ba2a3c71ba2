"""The speed mechanisms (issue 16) give the results of the plain paths, within float32 rounding:
the GEMM kernel choice made at import, Dense layers' oneDNN GEMM, the malloc set-up, the
compiled (fused) optimizer update (the compiled training step and fit's automatic compiling:
tests/training/test_compiled_step.py)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from tkeras import _gemm

# ------------------------------------------------------------------ GEMM: MKL_ENABLE_INSTRUCTIONS

AVX512_CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 avx512f avx512dq\n"
AVX2_CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 fma\n"
HAS_AVX512 = "avx512f" in _gemm.cpu_flags()


def test_gemm_decision_rules():
    avx512, avx2 = _gemm.cpu_flags(AVX512_CPUINFO), _gemm.cpu_flags(AVX2_CPUINFO)
    assert "avx512f" in avx512 and "avx512f" not in avx2
    assert _gemm.mkl_instructions({}, False, avx512) == "AVX512"
    assert _gemm.mkl_instructions({}, False, avx2) is None  # nothing to unlock
    assert _gemm.mkl_instructions({}, True, avx512) is None  # torch (MKL) already loaded
    assert _gemm.mkl_instructions({"MKL_ENABLE_INSTRUCTIONS": "AVX2"}, False, avx512) is None
    assert _gemm.mkl_instructions({"TKERAS_GEMM": "default"}, False, avx512) is None
    assert _gemm.mkl_instructions({"TKERAS_GEMM": "auto"}, False, avx512) == "AVX512"
    assert _gemm.cpu_flags("no flags here") == frozenset()


def _child(code, **env_changes):
    """Runs ``code`` in a fresh interpreter (this worktree's tkeras first on the path);
    returns its stdout's last line, parsed as JSON."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MKL_ENABLE_INSTRUCTIONS", "TKERAS_GEMM", "TKERAS_MALLOC")}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


_REPORT = "import os, json; print(json.dumps(os.environ.get('MKL_ENABLE_INSTRUCTIONS')))"


def test_import_tkeras_first_sets_mkl_instructions_on_avx512_cpus():
    value = _child("import tkeras\n" + _REPORT)
    assert value == ("AVX512" if HAS_AVX512 else None)


def test_mkl_instructions_untouched_after_torch_or_when_set_or_opted_out():
    assert _child("import torch\nimport tkeras\n" + _REPORT) is None
    assert _child("import tkeras\n" + _REPORT, MKL_ENABLE_INSTRUCTIONS="AVX2") == "AVX2"
    assert _child("import tkeras\n" + _REPORT, TKERAS_GEMM="default") is None


# ------------------------------------------------------------------ malloc: freed memory kept

def test_malloc_decision_rules():
    from tkeras import _malloc
    assert _malloc.malloc_settings({}, glibc=True) == _malloc.SETTINGS
    assert _malloc.malloc_settings({}, glibc=False) is None  # musl, macOS, Windows
    assert _malloc.malloc_settings({"TKERAS_MALLOC": "default"}, glibc=True) is None
    assert _malloc.malloc_settings({"TKERAS_MALLOC": "keep"}, glibc=True) == _malloc.SETTINGS
    assert _malloc.malloc_settings({"MALLOC_TRIM_THRESHOLD_": "0"}, glibc=True) is None
    assert _malloc.malloc_settings(
        {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=4096"}, glibc=True) is None
    assert _malloc.malloc_settings({"LD_PRELOAD": "/usr/lib/libjemalloc.so.2"}, glibc=True) is None
    assert _malloc.malloc_settings({"GLIBC_TUNABLES": "glibc.pthread.rseq=0"},
                                   glibc=True) == _malloc.SETTINGS


# A 64 MB tensor allocated and freed 8 times (after 2 warm-ups): with glibc's defaults each
# allocation is a fresh mmap, faulted in page by page (16,384 faults each); kept, the block is
# reused. (Not always the very next time: when a small allocation landed just after the
# freed block, the next aligned 64 MB request does not fit in it and takes fresh memory once;
# on a busy machine that happened in 3 of 10 runs, never twice in one.)
_REALLOC_FAULTS = """
import json, resource, torch, tkeras
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2):
    torch.ones(16 << 20)
before = faults()
for _ in range(8):
    torch.ones(16 << 20)
print(json.dumps([faults() - before, {str(k): v for k, v in tkeras._malloc.applied.items()}]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_freed_tensor_memory_is_reused_without_page_faults_unless_opted_out():
    from tkeras import _malloc
    if _malloc._glibc() is None:
        pytest.skip("not glibc")
    kept, applied = _child(_REALLOC_FAULTS, TKERAS_MALLOC=None)
    assert applied == {str(k): v for k, v in _malloc.SETTINGS.items()}
    default, applied_default = _child(_REALLOC_FAULTS, TKERAS_MALLOC="default")
    assert applied_default == {}
    assert kept < 2 * 16384 + 1000 and default > 7 * 16384, (kept, default)  # 4 KiB pages


_DENSE = """
import json, numpy as np, tkeras, torch
rng = np.random.RandomState(0)
layer = tkeras.layers.Dense(512, activation="relu")
x = rng.rand(128, 784).astype("float32")
y = layer(torch.from_numpy(x))
w = layer.kernel.detach().numpy().astype("float64")
z = np.maximum(x.astype("float64") @ w, 0.0)  # the float64 reference (bias is zero)
print(json.dumps([float(np.abs(y.detach().numpy() - z).max()), float(np.abs(z).max())]))
"""


@pytest.mark.skipif(not HAS_AVX512, reason="the CPU has no AVX-512: nothing is changed")
def test_dense_results_with_and_without_the_fast_gemm_agree_to_float32_rounding():
    fast_error, scale = _child(_DENSE)
    default_error, _ = _child(_DENSE, TKERAS_GEMM="default")
    # a 784-term float32 dot product: both paths within float32 rounding of the exact sum
    for error in (fast_error, default_error):
        assert error <= 784 * np.finfo(np.float32).eps * scale


# ------------------------------------------------------------------ GEMM: oneDNN for Dense

from tkeras import layers  # noqa: E402
from tkeras.backend import linear_ops  # noqa: E402

needs_onednn = pytest.mark.skipif(not linear_ops.ENABLED,
                                  reason="no AVX-512, or torch has no oneDNN linear")


def _dense_and_reference(units, activation, use_bias, in_shape, seed=0):
    """A built Dense layer, and ``inputs -> outputs`` in float64 with plain torch ops on
    copies of its weights (the reference the oneDNN path must match to float32 rounding)."""
    torch.manual_seed(seed)
    layer = layers.Dense(units, activation=activation, use_bias=use_bias)
    layer.build(in_shape)
    kernel = layer.kernel.detach().double().requires_grad_()
    bias = layer.bias.detach().double().requires_grad_() if use_bias else None

    def reference(x):
        out = x @ kernel + (bias if bias is not None else 0.0)
        return torch.relu(out) if activation == "relu" else out
    return layer, reference, kernel, bias


def _through_onednn(y):
    """Whether ``y`` comes from the oneDNN product (itself, or reshaped from it)."""
    node = y.grad_fn
    if type(node).__name__ == "ViewBackward0":
        node = node.next_functions[0][0]
    return type(node).__name__ == "_OneDnnDenseBackward"


def _assert_float32_close(got, expected):
    """Within 1e-5 of the largest magnitude: float32 sums of a few thousand terms land
    within ~1e-6 here; a wrong operand, layout or mask is off by O(1)."""
    error = (got.double() - expected).abs().max().item()
    assert error <= 1e-5 * expected.abs().max().item(), error


@needs_onednn
@pytest.mark.parametrize("activation, use_bias, in_shape", [
    ("relu", True, (128, 784)), (None, True, (128, 784)), (None, False, (96, 512)),
    ("relu", True, (4, 32, 600)),  # 3-D inputs: the product over the last axis
])
def test_large_dense_runs_onednn_with_float32_results_and_gradients(activation, use_bias,
                                                                    in_shape):
    layer, reference, kernel, bias = _dense_and_reference(512, activation, use_bias, in_shape)
    x = torch.randn(*in_shape, requires_grad=True)
    y = layer(x)
    assert _through_onednn(y)
    x64 = x.detach().double().requires_grad_()
    expected = reference(x64)
    _assert_float32_close(y, expected)
    y.sum().backward()  # (an expanded gradient)
    expected.sum().backward()
    _assert_float32_close(x.grad, x64.grad)
    _assert_float32_close(layer.kernel.grad, kernel.grad)
    assert layer.kernel.grad.stride() == layer.kernel.stride()  # the kernel's own layout
    if use_bias:
        _assert_float32_close(layer.bias.grad, bias.grad)


@needs_onednn
def test_dense_keeps_torch_kernels_where_onednn_does_not_pay_or_apply():
    small = layers.Dense(64, activation="relu")
    assert not _through_onednn(small(torch.randn(32, 64, requires_grad=True)))
    import tkeras
    big = tkeras.Sequential([layers.Input((784,)), layers.Dense(512)])
    x = torch.randn(128, 784)
    kernel, bias = big.layers[0].kernel, big.layers[0].bias
    assert linear_ops.dense(x, kernel, bias, False) is not None
    assert linear_ops.dense(x.double(), kernel.double(), None, False) is None
    assert linear_ops.dense(x.t().contiguous().t(), kernel, None, False) is None
    assert linear_ops.dense(x, kernel.detach().contiguous(), None, False) is None
    with torch._subclasses.fake_tensor.FakeTensorMode() as fake:
        assert linear_ops.dense(fake.from_tensor(x), kernel, None, False) is None
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast's own choice: bfloat16 addmm
        assert big(x).dtype == torch.bfloat16
    exported = torch.export.export(big, (x,))  # torch.export sees portable ops
    assert "mkldnn" not in str(exported.graph)
    torch.testing.assert_close(exported.module()(x), big(x), rtol=1e-4, atol=1e-4)
    traced = torch.jit.trace(big, (x,))
    assert "mkldnn" not in str(traced.graph)
    rows = torch.func.vmap(big)(x.reshape(4, 32, 784))  # a torch.func transform
    torch.testing.assert_close(rows.reshape(128, 512), big(x), rtol=1e-4, atol=1e-4)
    assert _child("import json\nfrom tkeras.backend import linear_ops\n"
                  "print(json.dumps(linear_ops.ENABLED))", TKERAS_GEMM="default") is False


@needs_onednn
def test_dense_gradients_of_gradients_through_onednn():
    """A gradient penalty (create_graph=True) differentiates the oneDNN path's gradients."""
    layer, reference, kernel, bias = _dense_and_reference(512, "relu", True, (64, 600))
    x = torch.randn(64, 600, requires_grad=True)
    (grad_x,) = torch.autograd.grad(layer(x).square().sum(), x, create_graph=True)
    grad_x.square().sum().backward()
    x64 = x.detach().double().requires_grad_()
    (grad_x64,) = torch.autograd.grad(reference(x64).square().sum(), x64, create_graph=True)
    grad_x64.square().sum().backward()
    _assert_float32_close(grad_x, grad_x64)
    _assert_float32_close(layer.kernel.grad, kernel.grad)


# dynamo makes a torch.autograd.Function() to trace one, inside catch_warnings(record=True),
# which does not stop the `error` filter (torch's own warning; ignored by default filters)
@pytest.mark.filterwarnings("ignore:.*should not be instantiated:DeprecationWarning")
@needs_onednn
def test_fit_through_onednn_trains_like_torch_kernels(monkeypatch):
    """W1's shape for two epochs: history and weights with oneDNN's GEMMs, eager and in the
    compiled step (as the operator tkeras::onednn_linear), equal those with torch's addmm to
    float32 rounding."""
    import tkeras
    rng = np.random.RandomState(0)
    x = rng.rand(256, 784).astype("float32")
    y = np.eye(10, dtype="float32")[rng.randint(0, 10, 256)]

    def fit(jit_compile=False):
        tkeras.utils.set_random_seed(0)
        model = tkeras.Sequential([layers.Dense(512, activation="relu", input_shape=(784,)),
                                   layers.Dense(512, activation="relu"),
                                   layers.Dense(10, activation="softmax")])
        model.compile(tkeras.optimizers.Adam(lr=1e-3), "categorical_crossentropy",
                      metrics=["acc"], jit_compile=jit_compile)
        with torch.profiler.profile() as profile:
            history = model.fit(x, y, batch_size=128, epochs=2, shuffle=False, verbose=0)
        assert model.run_eagerly is not jit_compile
        assert model._step_runner.whole_step_compiled is jit_compile
        ops = {event.key for event in profile.key_averages()}
        return history.history, model.get_weights(), ops
    onednn = fit()
    assert "mkldnn::_linear_pointwise" in onednn[2] and "tkeras::onednn_linear" not in onednn[2]
    compiled = fit(jit_compile=True)
    assert "tkeras::onednn_linear" in compiled[2]  # called by the compiled step
    monkeypatch.setattr(linear_ops, "ENABLED", False)
    plain = fit()
    for run in (onednn, compiled):
        for key in plain[0]:
            np.testing.assert_allclose(run[0][key], plain[0][key], rtol=1e-5)
        for a, b in zip(run[1], plain[1]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------ the fused optimizer update

from optimizer_test_utils import reference_optimizer, run_reference  # noqa: E402
from tkeras.optimizers import experimental, fused, legacy  # noqa: E402


def _nonneg(w):
    return w.clamp_min(0.0)


def _trajectory(make, use_fused, steps=4):
    """Weights and slots after ``steps`` apply_gradients calls on seeded gradients (the
    first weight carries a constraint, applied after each update)."""
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(7, 5, generator=gen).requires_grad_(),
              torch.randn(5, generator=gen).requires_grad_(),
              torch.randn(3, 2, 4, generator=gen).requires_grad_()]
    for i, p in enumerate(params):
        p._keras_name = f"dense_{i}/kernel:0" if i != 1 else "dense/bias:0"
    params[2]._keras_constraint = _nonneg
    optimizer = make()
    optimizer.fused = use_fused
    for _ in range(steps):
        grads = [torch.randn(p.shape, generator=gen) for p in params]
        optimizer.apply_gradients(zip(grads, params))
    return [p.detach().numpy().copy() for p in params], optimizer.get_weights(), optimizer


FUSED_CASES = {
    "legacy_adam_clipnorm": lambda: legacy.Adam(lr=0.01, clipnorm=1.0),
    "adamw_global_clipnorm_amsgrad": lambda: experimental.AdamW(
        0.01, weight_decay=0.1, amsgrad=True, global_clipnorm=1.0),
    "legacy_sgd_nesterov_clipvalue": lambda: legacy.SGD(0.05, momentum=0.9, nesterov=True,
                                                        clipvalue=0.5),
    "sgd_momentum_ema": lambda: experimental.SGD(0.05, momentum=0.9, use_ema=True,
                                                 ema_overwrite_frequency=3),
    "legacy_rmsprop_centered_momentum": lambda: legacy.RMSprop(0.01, momentum=0.5,
                                                               centered=True),
    "rmsprop": lambda: experimental.RMSprop(0.01, rho=0.8),
}


@pytest.mark.parametrize("case", sorted(FUSED_CASES))
def test_fused_update_follows_the_eager_update(case):
    eager_w, eager_slots, _ = _trajectory(FUSED_CASES[case], False)
    fused_w, fused_slots, optimizer = _trajectory(FUSED_CASES[case], True)
    assert optimizer._compiled_update.active  # it really ran compiled
    for a, b in zip(fused_w + fused_slots, eager_w + eager_slots):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert (fused_w[2] >= 0).all()  # the constraint still applies


@pytest.mark.parametrize("case_file", ["adam.npz", "adamw.npz", "legacy_adam.npz"])
def test_fused_update_matches_keras_reference_trajectories(case_file):
    """Keras's recorded Adam / AdamW trajectories, at the reference tests' tolerance."""
    from conftest import load_case
    _, meta = load_case("optimizers", case_file)
    optimizer = reference_optimizer(meta)
    optimizer.fused = True
    run_reference(case_file, optimizer, atol=1e-6)
    assert optimizer._compiled_update.active


def test_fused_default_switch_and_silent_eager_fallback(monkeypatch):
    assert fused.default() is False  # off until measured
    monkeypatch.setattr(fused, "_default", False)
    optimizer = legacy.SGD(0.1)
    assert optimizer.fused is None and not optimizer._uses_fused_update()
    fused.set_default(True)
    assert optimizer._uses_fused_update()
    optimizer.fused = False
    assert not optimizer._uses_fused_update()
    fused.set_default(False)

    def unavailable(*args, **kwargs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(torch, "compile", unavailable)
    eager_w, eager_slots, _ = _trajectory(FUSED_CASES["legacy_adam_clipnorm"], False)
    fallback_w, fallback_slots, optimizer = _trajectory(FUSED_CASES["legacy_adam_clipnorm"], True)
    assert optimizer._compiled_update.failed and not optimizer._compiled_update.active
    for a, b in zip(fallback_w + fallback_slots, eager_w + eager_slots):
        np.testing.assert_array_equal(a, b)  # the eager update, applied once
