"""Every shared layer case under the ``mixed_bfloat16`` policy: float32 weights, bfloat16
outputs, close to the float32 layer with the same weights (bfloat16 keeps ~3 digits)."""
import pytest
import torch

from tkeras import mixed_precision
from layer_test_utils import _sample
from shared_cases import all_cases

# torch's CPU kernels lack bfloat16 for these ops (not a tkeras limitation).
TORCH_CPU_LACKS_BFLOAT16 = {"pooling-average_pooling3d_channels_first": "avg_pool3d"}

CASES = all_cases()


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@pytest.mark.parametrize("name,factory,shape,dtype", CASES, ids=[c[0] for c in CASES])
def test_layer_under_mixed_bfloat16(name, factory, shape, dtype):
    if name in TORCH_CPU_LACKS_BFLOAT16:
        pytest.skip(f"torch has no CPU bfloat16 {TORCH_CPU_LACKS_BFLOAT16[name]}")
    shapes = shape if isinstance(shape, list) else [shape]
    data = [torch.as_tensor(_sample(s, dtype, seed=i)) for i, s in enumerate(shapes)]
    data = data if isinstance(shape, list) else data[0]
    reference = factory()
    expected = _as_list(reference(data))
    with mixed_precision.policy_scope("mixed_bfloat16"):
        layer = factory()
    layer(data)
    layer.set_weights(reference.get_weights())
    assert all(w.dtype == torch.float32 for w in layer.weights if w.is_floating_point())
    for got, want in zip(_as_list(layer(data)), expected):
        if not want.is_floating_point():
            continue
        assert got.dtype == torch.bfloat16
        scale = want.abs().max().item() + 1.0
        assert (got.float() - want).abs().max().item() <= 0.05 * scale
