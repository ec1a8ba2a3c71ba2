"""tkeras.applications against the same architectures written in plain torch (issue 14:
target <= 1.05x for inference and training).

Times, in one process with the same thread count:
  * ``predict`` of ResNet50 and MobileNetV2 (batch 32, 224x224, channels_last numpy input,
    inference), against the plain-torch model on the same data (as a channels_last view);
    the direct call ``model(x)`` under ``torch.inference_mode()`` is printed too;
  * one training step of ResNet50 (batch 16, SGD, cross-entropy from logits):
    ``train_on_batch`` against forward + loss + backward + ``optimizer.step()``.
  * on CUDA (or with ``--amp-train``), issue 16's GPU case: ResNet50 training in bfloat16
    mixed precision, batch 64, channels_last, compiled on both sides (tkeras's
    ``mixed_bfloat16`` policy with ``compile(jit_compile=True)`` and ``fit``, against a
    ``torch.compile``'d model in a hand-written ``torch.autocast`` loop); target <= 1.05x.

torchvision cannot be installed beside this project's torch build here, so the reference
models are written below in plain torch, layer for layer as Keras builds them (biases in
ResNet's convolutions, stride on the first 1x1 conv, explicit zero padding, BatchNorm
epsilons), and get the tkeras model's weights: the script checks that both give the same
predictions before timing.

Both sides run in this one process, so both get ``import tkeras``'s malloc set-up
(``tkeras._malloc``; the header says whether it applied; ``TKERAS_MALLOC=default`` turns it
off for both).

Run on a quiet machine:  python bench/bench_applications.py [--device cuda] [--quick]
``--quick`` uses tiny sizes and one repeat: a smoke test that the script runs.
"""
from __future__ import annotations

import argparse
import statistics
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from _timing import interleaved

# ---------------------------------------------------------------- plain-torch references

def _bn(c: int, eps: float) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=eps, momentum=0.01)  # Keras momentum 0.99


class TorchResNet50(nn.Module):
    """Keras's ResNet50 in plain torch (NCHW modules, named after the Keras layers)."""

    def __init__(self, classes: int = 1000):
        super().__init__()
        m = self.m = nn.ModuleDict()
        eps = 1.001e-5
        m["conv1_conv"], m["conv1_bn"] = nn.Conv2d(3, 64, 7, 2), _bn(64, eps)
        self.blocks = []
        cin = 64
        for stage, (filters, blocks, stride) in enumerate(
                [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 2):
            for b in range(1, blocks + 1):
                name, s = f"conv{stage}_block{b}", stride if b == 1 else 1
                if b == 1:
                    m[name + "_0_conv"] = nn.Conv2d(cin, 4 * filters, 1, s)
                    m[name + "_0_bn"] = _bn(4 * filters, eps)
                m[name + "_1_conv"], m[name + "_1_bn"] = nn.Conv2d(cin, filters, 1, s), \
                    _bn(filters, eps)
                m[name + "_2_conv"], m[name + "_2_bn"] = \
                    nn.Conv2d(filters, filters, 3, 1, padding=1), _bn(filters, eps)
                m[name + "_3_conv"], m[name + "_3_bn"] = nn.Conv2d(filters, 4 * filters, 1), \
                    _bn(4 * filters, eps)
                self.blocks.append((name, b == 1))
                cin = 4 * filters
        m["predictions"] = nn.Linear(2048, classes)

    def forward(self, x):
        m = self.m
        x = F.relu(m["conv1_bn"](m["conv1_conv"](F.pad(x, (3, 3, 3, 3)))))
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
        for name, project in self.blocks:
            shortcut = m[name + "_0_bn"](m[name + "_0_conv"](x)) if project else x
            y = F.relu(m[name + "_1_bn"](m[name + "_1_conv"](x)))
            y = F.relu(m[name + "_2_bn"](m[name + "_2_conv"](y)))
            y = m[name + "_3_bn"](m[name + "_3_conv"](y))
            x = F.relu(shortcut + y)
        return m["predictions"](x.mean((2, 3)))  # logits (classifier_activation=None)


_MOBILENET_V2_PLAN = [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
                      (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6),
                      (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6)]


class TorchMobileNetV2(nn.Module):
    """Keras's MobileNetV2 (alpha 1.0) in plain torch, for even input sizes."""

    def __init__(self, classes: int = 1000):
        super().__init__()
        m = self.m = nn.ModuleDict()
        eps = 1e-3
        m["Conv1"], m["bn_Conv1"] = nn.Conv2d(3, 32, 3, 2, bias=False), _bn(32, eps)
        self.blocks = []
        cin = 32
        for block_id, (filters, stride, expansion) in enumerate(_MOBILENET_V2_PLAN):
            prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
            hidden = cin * expansion
            if block_id:
                m[prefix + "expand"] = nn.Conv2d(cin, hidden, 1, bias=False)
                m[prefix + "expand_BN"] = _bn(hidden, eps)
            m[prefix + "depthwise"] = nn.Conv2d(hidden, hidden, 3, stride,
                                                padding=1 if stride == 1 else 0, groups=hidden,
                                                bias=False)
            m[prefix + "depthwise_BN"] = _bn(hidden, eps)
            m[prefix + "project"] = nn.Conv2d(hidden, filters, 1, bias=False)
            m[prefix + "project_BN"] = _bn(filters, eps)
            self.blocks.append((prefix, block_id > 0, stride, cin == filters and stride == 1))
            cin = filters
        m["Conv_1"], m["Conv_1_bn"] = nn.Conv2d(cin, 1280, 1, bias=False), _bn(1280, eps)
        m["predictions"] = nn.Linear(1280, classes)

    def forward(self, x):
        m = self.m
        x = F.relu6(m["bn_Conv1"](m["Conv1"](F.pad(x, (0, 1, 0, 1)))))  # TF "same", stride 2
        for prefix, expand, stride, residual in self.blocks:
            y = F.relu6(m[prefix + "expand_BN"](m[prefix + "expand"](x))) if expand else x
            if stride == 2:
                y = F.pad(y, (0, 1, 0, 1))  # correct_pad for even sizes
            y = F.relu6(m[prefix + "depthwise_BN"](m[prefix + "depthwise"](y)))
            y = m[prefix + "project_BN"](m[prefix + "project"](y))
            x = x + y if residual else y
        x = F.relu6(m["Conv_1_bn"](m["Conv_1"](x)))
        return m["predictions"](x.mean((2, 3)))  # logits (classifier_activation=None)


def copy_keras_weights(model, reference: nn.Module) -> None:
    """Gives the plain-torch reference the tkeras model's weights (Keras layouts -> torch)."""
    modules = reference.m
    with torch.no_grad():
        for layer in model.layers:
            weights = [w.detach() for w in layer.weights]
            if not weights:
                continue
            target = modules[layer.name]
            kind = type(layer).__name__
            if kind == "Conv2D":
                target.weight.copy_(weights[0].permute(3, 2, 0, 1))
                if len(weights) > 1:
                    target.bias.copy_(weights[1])
            elif kind == "DepthwiseConv2D":
                target.weight.copy_(weights[0].permute(2, 3, 0, 1))
            elif kind == "BatchNormalization":
                gamma, beta, mean, var = weights
                target.weight.copy_(gamma)
                target.bias.copy_(beta)
                target.running_mean.copy_(mean)
                target.running_var.copy_(var)
            elif kind == "Dense":
                target.weight.copy_(weights[0].t())
                target.bias.copy_(weights[1])
            else:
                raise ValueError(f"no reference module for {kind} {layer.name}")


def report(title: str, times: Dict[str, List[float]], base: str) -> None:
    print(title)
    for name, values in times.items():
        ratio = statistics.median(v / b for v, b in zip(values, times[base]))
        print(f"  {name:<44} {statistics.median(values) * 1e3:9.2f} ms   ratio {ratio:5.2f}x")


# ---------------------------------------------------------------- cases

def inference_cases(name: str, model, reference: nn.Module, x: np.ndarray, batch: int,
                    device: torch.device) -> Dict[str, Callable[[], object]]:
    reference.eval()
    model.eval()

    def torch_predict():
        with torch.inference_mode():
            t = torch.from_numpy(x).to(device).permute(0, 3, 1, 2)  # channels_last view
            return reference(t).cpu().numpy()

    x_dev = torch.from_numpy(x).to(device)

    def tkeras_call():
        with torch.inference_mode():
            return model(x_dev, training=False)

    return {f"tkeras {name}.predict": lambda: model.predict(x, batch_size=batch, verbose=0),
            f"tkeras {name}(x), inference_mode": tkeras_call,
            f"plain torch {name}": torch_predict}


def training_cases(model, reference: nn.Module, x: np.ndarray, y: np.ndarray,
                   device: torch.device) -> Dict[str, Callable[[], object]]:
    reference.train()
    opt = torch.optim.SGD(reference.parameters(), lr=0.01)
    x_ref = torch.from_numpy(x).to(device).permute(0, 3, 1, 2)
    y_ref = torch.from_numpy(y).to(device)
    x_dev, y_dev = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

    def torch_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(reference(x_ref), y_ref)  # soft labels, from logits
        loss.backward()
        opt.step()
        return loss

    return {"tkeras ResNet50.train_on_batch": lambda: model.train_on_batch(x_dev, y_dev),
            "plain torch ResNet50 step": torch_step}


def amp_training_cases(reference: nn.Module, x: np.ndarray, y: np.ndarray, batch: int,
                       device: torch.device) -> Tuple[Dict[str, Callable[[], object]], object]:
    """Issue 16's GPU case: ResNet50 training steps in bfloat16 mixed precision, batch
    ``batch``, channels_last, every step compiled: tkeras (``mixed_bfloat16`` policy,
    ``compile(jit_compile=True)``, ``fit`` over device-resident data) against the idiomatic
    torch loop (``torch.compile(model)``, ``torch.autocast(bfloat16)``, channels_last). One
    call is one pass over ``x`` (``len(x) // batch`` steps) on each side, SGD lr 0.01.
    Returns the cases and the tkeras model."""
    import tkeras
    from tkeras import applications, mixed_precision

    compiled = torch.compile(reference.to(memory_format=torch.channels_last))
    opt = torch.optim.SGD(reference.parameters(), lr=0.01)
    x_dev, y_dev = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    x_ref = x_dev.permute(0, 3, 1, 2)  # channels_last memory, NCHW shape

    def torch_pass():
        for start in range(0, len(x), batch):
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16):
                logits = compiled(x_ref[start:start + batch])
            loss = F.cross_entropy(logits.float(), y_dev[start:start + batch])
            loss.backward()
            opt.step()

    previous = mixed_precision.global_policy()
    mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = applications.ResNet50(weights=None, input_shape=x.shape[1:],
                                      classifier_activation=None)
    finally:
        mixed_precision.set_global_policy(previous)
    model.to(device)
    model.compile(optimizer=tkeras.optimizers.SGD(learning_rate=0.01),
                  loss=tkeras.losses.CategoricalCrossentropy(from_logits=True),
                  jit_compile=True)

    def tkeras_pass():
        model.fit(x_dev, y_dev, batch_size=batch, epochs=1, shuffle=False, verbose=0)

    return {"tkeras fit (mixed_bfloat16, jit_compile)": tkeras_pass,
            "torch.compile loop (autocast bfloat16)": torch_pass}, model


def check_same_predictions(model, reference: nn.Module, x: np.ndarray,
                           device: torch.device) -> float:
    reference.eval()
    with torch.inference_mode():
        ref = reference(torch.from_numpy(x).to(device).permute(0, 3, 1, 2)).cpu().numpy()
    ours = model.predict(x, verbose=0)
    diff = float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-12))
    if diff > 1e-4:
        raise SystemExit(f"the plain-torch reference disagrees with tkeras: relative max "
                         f"|diff| of the logits {diff:.1e}")
    return diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--amp-train", action=argparse.BooleanOptionalAction, default=None,
                        help="the compiled bfloat16 ResNet50 training case (default: on CUDA)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import tkeras
    from tkeras import applications

    device = torch.device(args.device)
    size = 32 if args.quick else 224
    batch, train_batch = (2, 2) if args.quick else (32, 16)
    number = 1 if args.quick else (20 if device.type == "cuda" else 2)
    repeats = 1 if args.quick else args.repeats
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"input {batch}x{size}x{size}x3 (channels_last), train batch {train_batch}")
    print("malloc: freed memory kept in the process (tkeras._malloc, both sides)"
          if tkeras._malloc.applied else "malloc: glibc's defaults")

    for name, build, ref_cls in (("ResNet50", applications.ResNet50, TorchResNet50),
                                 ("MobileNetV2", applications.MobileNetV2, TorchMobileNetV2)):
        model = build(weights=None, input_shape=(size, size, 3),
                      classifier_activation=None).to(device)
        reference = ref_cls().to(device).to(memory_format=torch.channels_last)
        copy_keras_weights(model, reference)
        diff = check_same_predictions(model, reference, x, device)
        times = interleaved(inference_cases(name, model, reference, x, batch, device),
                            number, repeats, device, warmup=1)
        report(f"{name} inference, batch {batch} (logits agree to {diff:.1e} relative)",
               times, f"plain torch {name}")
        if name == "ResNet50":
            xt = x[:train_batch]
            yt = np.eye(1000, dtype="float32")[rng.randint(0, 1000, train_batch)]
            model.compile(optimizer=tkeras.optimizers.SGD(learning_rate=0.01),
                          loss=tkeras.losses.CategoricalCrossentropy(from_logits=True))
            times = interleaved(training_cases(model, reference, xt, yt, device),
                                number, repeats, device, warmup=1)
            report(f"ResNet50 training step, batch {train_batch}", times,
                   "plain torch ResNet50 step")
            if args.amp_train if args.amp_train is not None else device.type == "cuda":
                amp_batch = 2 if args.quick else 64
                xa = rng.uniform(-1, 1, (4 * amp_batch, size, size, 3)).astype("float32")
                ya = np.eye(1000, dtype="float32")[rng.randint(0, 1000, 4 * amp_batch)]
                cases, amp_model = amp_training_cases(ref_cls().to(device), xa, ya, amp_batch,
                                                      device)
                times = interleaved(cases, number, repeats, device, warmup=2)
                how = "whole step" if amp_model._step_runner.whole_step_compiled else "partly"
                report(f"ResNet50 training, bfloat16 mixed precision, compiled (tkeras: {how}), "
                       f"batch {amp_batch}, per pass of 4 steps", times,
                       "torch.compile loop (autocast bfloat16)")


if __name__ == "__main__":
    main()
