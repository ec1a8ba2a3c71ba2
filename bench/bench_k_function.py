"""Cost of calling a ``K.function`` 1,000 times on fixed shapes, as a ratio to the same
computation written directly in torch (issue 13: target <= 1.2x).

Run on a quiet machine:  python bench/bench_k_function.py [--quick]
(``--quick``: a few calls, a smoke test that the script runs.)

Cases (numpy in, numpy out on both sides, since that is ``K.function``'s contract):
* ``gradient ascent``: the feature-visualisation step of Keras 2's examples: a two-layer
  convnet, ``loss = K.mean(out[..., i])``, ``grads = K.gradients(loss, input)``,
  normalised; the torch side runs the same convolutions with ``F.conv2d`` and
  ``torch.autograd.grad``.
* ``element-wise graph``: six ``K`` ops on placeholders, no layers (the per-node cost).

Each case alternates the two loops (1,000 calls each), 15 times, and reports the median
of the 15 ratios (with 2 threads, single runs of the torch side alone vary by 30% here:
7 repeats gave medians from 1.02x to 1.28x for the same code).
"""
from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F

from _timing import paired

QUICK = "--quick" in sys.argv


def compare(name: str, keras_fn, torch_fn, number: int = 1000, repeats: int = 15) -> float:
    if QUICK:
        number, repeats = 5, 1
    ratio, k, t = paired(keras_fn, torch_fn, number, repeats, warmup=3 if QUICK else 50,
                         alternate=True)
    print(f"{name:<24} {number} calls: K.function {k * number * 1e3:9.2f} ms   "
          f"torch {t * number * 1e3:9.2f} ms   ratio {ratio:5.2f}x")
    return ratio


def gradient_ascent_case():
    import tkeras
    from tkeras import Input, Model, layers
    from tkeras import backend as K

    tkeras.utils.set_random_seed(0)
    inp = Input(shape=(32, 32, 3))
    h = layers.Conv2D(16, 3, padding="same", activation="relu", name="c1")(inp)
    out = layers.Conv2D(16, 3, padding="same", name="c2")(h)
    model = Model(inp, out)
    loss = K.mean(model.output[:, :, :, 3])
    grads = K.gradients(loss, model.input)[0]
    grads /= K.sqrt(K.mean(K.square(grads))) + 1e-5
    iterate = K.function([model.input], [loss, grads])

    # The same tensors as the layers, in the same (permuted-view) layout, so that the ratio
    # measures what K.function adds, not the conv layer's choice of kernel layout.
    c1, c2 = model.get_layer("c1"), model.get_layer("c2")
    w1, b1, w2, b2 = c1.kernel.permute(3, 2, 0, 1), c1.bias, c2.kernel.permute(3, 2, 0, 1), c2.bias

    def direct(img: np.ndarray):
        x = torch.from_numpy(img).requires_grad_()
        a = F.relu(F.conv2d(x.permute(0, 3, 1, 2), w1, b1, padding=1))
        o = F.conv2d(a, w2, b2, padding=1)
        value = o[:, 3].mean()
        (g,) = torch.autograd.grad(value, x)
        # K.sqrt is Keras's sqrt(clip(x, 0, inf)): the same clamp here.
        g = g / (torch.sqrt(torch.clamp(torch.mean(torch.square(g)), min=0)) + 1e-5)
        return [value.detach().numpy(), g.detach().numpy()]

    img = np.random.RandomState(0).rand(1, 32, 32, 3).astype("float32")
    k_out, t_out = iterate([img]), direct(img)
    np.testing.assert_allclose(k_out[0], t_out[0], rtol=1e-5)
    np.testing.assert_allclose(k_out[1], t_out[1], rtol=1e-3, atol=1e-5)
    return compare("gradient ascent", lambda: iterate([img]), lambda: direct(img))


def elementwise_case():
    from tkeras import backend as K

    a = K.placeholder(shape=(None, 64))
    b = K.placeholder(shape=(None, 64))
    out = K.sum(K.square(a - b) * 0.5 + K.exp(-K.abs(a)), axis=1)
    f = K.function([a, b], [out])

    def direct(x: np.ndarray, y: np.ndarray):
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        with torch.no_grad():
            r = torch.sum(torch.square(xt - yt) * 0.5 + torch.exp(-torch.abs(xt)), dim=1)
        return [r.numpy()]

    rng = np.random.RandomState(1)
    x, y = rng.rand(128, 64).astype("float32"), rng.rand(128, 64).astype("float32")
    np.testing.assert_allclose(f([x, y])[0], direct(x, y)[0], rtol=1e-5)
    return compare("element-wise graph", lambda: f([x, y]), lambda: direct(x, y))


def main() -> None:
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    main_ratio = gradient_ascent_case()
    elementwise_case()
    print(f"K.function ratio (gradient ascent, target <= 1.2x): {main_ratio:.2f}x")


if __name__ == "__main__":
    main()
