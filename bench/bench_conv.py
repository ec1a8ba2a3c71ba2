"""Forward + backward time of tkeras Conv2D(64, 3) on channels_last data, as a ratio to
torch's F.conv2d on an NCHW tensor (issue 4: target <= 1.1x).

Run on a quiet machine:  python bench/bench_conv.py [--device cuda] [--quick]
The cases run interleaved in one process; each line reports medians of several repeats.
Besides the ratio it prints, for information, F.conv2d on a channels_last view with a
kernel already permuted *and copied* to torch's layout: what caching a contiguous copy of
the kernel in the layer would give (the layer permutes a view of its Keras-layout kernel on
every call instead).
``--quick`` uses tiny sizes and few iterations: a smoke test that the script runs.
"""
from __future__ import annotations

import argparse
import statistics
from typing import Callable, List

import torch
import torch.nn.functional as F

from _timing import interleaved


def forward_backward(conv: Callable[[], torch.Tensor],
                     wrt: List[torch.Tensor]) -> Callable[[], object]:
    def step():
        out = conv()
        return torch.autograd.grad(out.sum(), wrt)
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    from tkeras.layers import Conv2D
    from tkeras.utils.conv_utils import torch_kernel

    device = torch.device(args.device)
    batch, size, channels, filters = (4, 8, 8, 8) if args.quick else (64, 32, 64, 64)
    number = 3 if args.quick else (50 if device.type == "cuda" else 5)
    repeats = 2 if args.quick else args.repeats

    layer = Conv2D(filters, 3)
    x_last = torch.randn(batch, size, size, channels, device=device, requires_grad=True)
    layer(torch.zeros(1, size, size, channels))  # build on the CPU, then move the weights
    layer.to(device)
    kernel, bias = layer.kernel, layer.bias
    weight = torch_kernel(kernel.detach(), 2).contiguous().requires_grad_(True)
    bias_ref = bias.detach().clone().requires_grad_(True)
    x_nchw = torch.randn(batch, channels, size, size, device=device, requires_grad=True)
    weight_cl = weight.detach().contiguous(memory_format=torch.channels_last).requires_grad_(True)

    cases = {
        "tkeras Conv2D, channels_last": forward_backward(
            lambda: layer(x_last), [x_last, kernel, bias]),
        "F.conv2d, NCHW": forward_backward(
            lambda: F.conv2d(x_nchw, weight, bias_ref), [x_nchw, weight, bias_ref]),
        "F.conv2d, NHWC view + cached weight": forward_backward(
            lambda: F.conv2d(x_last.permute(0, 3, 1, 2), weight_cl, bias_ref).permute(0, 2, 3, 1),
            [x_last, weight_cl, bias_ref]),
    }
    times = interleaved(cases, number, repeats, device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"input {batch}x{size}x{size}x{channels}, Conv2D({filters}, 3), forward + backward")
    base = times["F.conv2d, NCHW"]
    for name, values in times.items():
        ratio = statistics.median(k / b for k, b in zip(values, base))
        print(f"  {name:<38} {statistics.median(values) * 1e3:9.3f} ms   ratio {ratio:5.2f}x")


if __name__ == "__main__":
    main()
