"""Per-call cost of a tkeras Dense layer and of a 3-layer model's forward pass, as a ratio
to the same torch ops written by hand (issue: target <= 1.3x at batch 32).

Run on a quiet machine:  python bench/bench_layer_overhead.py [batch] [--quick]
(``--quick``: a few iterations, a smoke test that the script runs.)
Each case runs the tkeras call and the hand-written torch call interleaved, in the same
process, and reports the median of several repeats.
"""
from __future__ import annotations

import sys

import torch
import torch.nn.functional as F

from _timing import paired

torch.set_grad_enabled(False)

QUICK = False


def compare(name: str, keras_fn, torch_fn, number: int = 2000, repeats: int = 7,
            label: str = "tkeras") -> float:
    if QUICK:
        number, repeats = 5, 1
    ratio, k, t = paired(keras_fn, torch_fn, number, repeats, warmup=5 if QUICK else 200)
    print(f"{name:<34} {label} {k * 1e6:8.2f} us   torch {t * 1e6:8.2f} us   ratio {ratio:5.2f}x")
    return ratio


def main(batch: int = 32) -> None:
    from tkeras.layers import Dense, Input
    from tkeras.models import Model, Sequential

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {batch}")
    x = torch.randn(batch, 784)

    dense = Dense(512, activation="relu")
    dense(x)
    w, b = dense.kernel.detach().clone(), dense.bias.detach().clone()
    compare("Dense(512, relu) on (32, 784)", lambda: dense(x), lambda: F.relu(torch.addmm(b, x, w)))

    small = torch.randn(batch, 20)
    d2 = Dense(64, activation="relu")
    d2(small)
    w2, b2 = d2.kernel.detach().clone(), d2.bias.detach().clone()
    compare("Dense(64, relu) on (32, 20)", lambda: d2(small), lambda: F.relu(torch.addmm(b2, small, w2)))

    inp = Input(shape=(784,))
    h = Dense(512, activation="relu")(inp)
    h = Dense(512, activation="relu")(h)
    out = Dense(10, activation="softmax")(h)
    model = Model(inp, out)
    ws = [p.detach().clone() for p in model.weights]

    def by_hand():
        y = F.relu(torch.addmm(ws[1], x, ws[0]))
        y = F.relu(torch.addmm(ws[3], y, ws[2]))
        return torch.softmax(torch.addmm(ws[5], y, ws[4]), dim=-1)

    compare("3-layer functional MLP (784-512-512-10)", lambda: model(x), by_hand, number=1000)
    seq = Sequential([Dense(512, activation="relu", input_shape=(784,)),
                      Dense(512, activation="relu"), Dense(10, activation="softmax")])
    seq.set_weights(model.get_weights())
    compare("3-layer Sequential MLP (784-512-512-10)", lambda: seq(x), by_hand, number=1000)

    s_in = Input(shape=(20,))
    s_out = Dense(1)(Dense(64, activation="relu")(Dense(64, activation="relu")(s_in)))
    small_model = Model(s_in, s_out)
    sw = [p.detach().clone() for p in small_model.weights]

    def small_by_hand():
        y = F.relu(torch.addmm(sw[1], small, sw[0]))
        y = F.relu(torch.addmm(sw[3], y, sw[2]))
        return torch.addmm(sw[5], y, sw[4])

    compare("3-layer MLP 20-64-64-1 (overhead)", lambda: small_model(small), small_by_hand)

    # For context: the same small model as torch.nn modules, against the same hand-written ops.
    torch_seq = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                    torch.nn.ReLU(), torch.nn.Linear(64, 1))
    for linear, (kernel, bias) in zip(torch_seq[::2], zip(sw[::2], sw[1::2])):
        linear.weight.data.copy_(kernel.t())
        linear.bias.data.copy_(bias)
    compare("same with torch.nn modules", lambda: torch_seq(small), small_by_hand, label="nn.Seq")


if __name__ == "__main__":
    QUICK = "--quick" in sys.argv
    numbers = [a for a in sys.argv[1:] if a != "--quick"]
    main(int(numbers[0]) if numbers else 32)
