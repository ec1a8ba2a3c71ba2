"""Forward + backward time of tkeras LSTM / GRU against torch.nn.LSTM / torch.nn.GRU
(issue "Layer families": target <= 1.1x).

Run on a quiet machine:  python bench/bench_rnn.py [--quick] [--device cuda]
Default sizes: LSTM(128) and GRU(128) on inputs (64, 80, 128). Each case runs the tkeras
layer and the torch module interleaved, in the same process, with the same weights, and
reports the median ratio of several repeats. ``--quick`` uses tiny sizes (a smoke test).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from _timing import paired


def compare(name: str, keras_fn, torch_fn, number: int, repeats: int, device: str) -> float:
    ratio, k, t = paired(keras_fn, torch_fn, number, repeats, warmup=max(2, number // 4),
                         device=torch.device(device))
    print(f"{name:<44} tkeras {k * 1e3:8.3f} ms   torch {t * 1e3:8.3f} ms   ratio {ratio:5.2f}x")
    return ratio


def _torch_lstm_from_keras(layer, units: int, input_dim: int, device: str) -> torch.nn.LSTM:
    kernel, recurrent, bias = layer.get_weights()
    module = torch.nn.LSTM(input_dim, units, batch_first=True).to(device)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        module.weight_hh_l0.copy_(torch.from_numpy(recurrent.T))
        module.bias_ih_l0.copy_(torch.from_numpy(bias))
        module.bias_hh_l0.zero_()
    return module


def _zrh_to_rzh(w: np.ndarray, units: int) -> np.ndarray:
    z, r, h = np.split(w, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)


def _torch_gru_from_keras(layer, units: int, input_dim: int, device: str) -> torch.nn.GRU:
    kernel, recurrent, bias = layer.get_weights()
    module = torch.nn.GRU(input_dim, units, batch_first=True).to(device)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(_zrh_to_rzh(kernel, units).T))
        module.weight_hh_l0.copy_(torch.from_numpy(_zrh_to_rzh(recurrent, units).T))
        module.bias_ih_l0.copy_(torch.from_numpy(_zrh_to_rzh(bias[0], units)))
        module.bias_hh_l0.copy_(torch.from_numpy(_zrh_to_rzh(bias[1], units)))
    return module


def _step(run, x):
    def fn():
        x.grad = None
        out = run(x)
        out.sum().backward()
    return fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    from tkeras.layers import GRU, LSTM

    batch, steps, features, units = (4, 6, 8, 8) if args.quick else (64, 80, 128, 128)
    number, repeats = (3, 3) if args.quick else (10, 7)
    device = args.device
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"input ({batch}, {steps}, {features}), units {units}")
    x = torch.randn(batch, steps, features, device=device, requires_grad=True)

    lstm = LSTM(units, return_sequences=True)
    lstm(x.detach().cpu())
    lstm.to(device)
    t_lstm = _torch_lstm_from_keras(lstm, units, features, device)
    with torch.no_grad():
        diff = (lstm(x) - t_lstm(x)[0]).abs().max().item()
    assert diff < 1e-4, f"tkeras LSTM and torch.nn.LSTM disagree by {diff}"
    ratios = [compare(f"LSTM({units}) forward+backward", _step(lstm, x),
                      _step(lambda v: t_lstm(v)[0], x), number, repeats, device)]

    gru = GRU(units, return_sequences=True)
    gru(x.detach().cpu())
    gru.to(device)
    t_gru = _torch_gru_from_keras(gru, units, features, device)
    with torch.no_grad():
        diff = (gru(x) - t_gru(x)[0]).abs().max().item()
    assert diff < 1e-4, f"tkeras GRU and torch.nn.GRU disagree by {diff}"
    ratios.append(compare(f"GRU({units}) forward+backward", _step(gru, x),
                          _step(lambda v: t_gru(v)[0], x), number, repeats, device))
    print(f"worst ratio {max(ratios):.2f}x (target <= 1.1x)")


if __name__ == "__main__":
    main()
