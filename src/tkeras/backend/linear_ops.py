"""The Dense layer's product on the CPU: oneDNN's float32 GEMM where it is the faster kernel.

torch's float32 ``addmm`` / ``mm`` on the CPU is MKL's SGEMM (``tkeras._gemm`` lets it use
AVX-512 on AMD CPUs). oneDNN's inner product, which torch exposes to its compiler as
``torch.ops.mkldnn._linear_pointwise`` (dense tensors, the weight in torch.nn.Linear's
``(units, input)`` layout, which is how Dense stores its kernel; bias and relu fused), ran
the W1 MLP's products 2-3x faster on a 2-core AMD EPYC with AVX-512 (``(128, 784) x (784,
512)``: forward 383 us against 804, input gradient 325 against 965, kernel gradient 404
against 647), in plain float32 (torch's ``mkldnn`` float32 precision stays ``ieee``; the
results differ from MKL's by float32 rounding, as two blockings of the same sums do). Below
about a million multiply-adds its fixed cost per call loses (``(32, 64) x (64, 64)``: 25 us
against 10), so ``dense`` takes it for float32 CPU products of at least ``MIN_MACS``
multiply-adds, on CPUs with AVX-512 (only where measured: elsewhere torch's kernels stay);
``TKERAS_GEMM=default`` keeps torch's ``addmm`` everywhere (as it keeps torch's MKL set-up,
``tkeras._gemm``). In a compiled step (``jit_compile``) the product is the operator
``tkeras::onednn_linear``, which inductor calls as it is (it lowers torch's own op only for
frozen weights, and would otherwise take MKL: W1's compiled step 1.86 ms against the eager
1.98, where addmm made it slower than eager); torch.export, ``torch.jit.trace`` and
``torch.func`` transforms see torch's portable ops.

The gradients go through oneDNN too (``_OneDnnDense``): the input's as ``grad @ weight``, the
kernel's as ``grad.T @ inputs``, laid out as the kernel is (what the optimizers' fused paths
expect), the bias's as a sum over the batch.
"""
from __future__ import annotations

import os
from typing import Optional

import torch

from .. import _gemm

MIN_MACS = 1 << 20  # batch x input x units from which oneDNN's GEMM is the faster one


def _available() -> bool:
    """On x86 CPUs with AVX-512 (where it was measured; elsewhere torch's kernels stay),
    unless ``TKERAS_GEMM=default``, with torch built with oneDNN."""
    if _gemm.opted_out(os.environ) or "avx512f" not in _gemm.cpu_flags():
        return False
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn,
                                                             "_linear_pointwise")


ENABLED = _available()


def dense(inputs: torch.Tensor, kernel: torch.Tensor, bias: Optional[torch.Tensor],
          relu: bool) -> Optional[torch.Tensor]:
    """``inputs @ kernel + bias`` (``relu`` of it when asked) through oneDNN, or None where
    torch's own kernel is to be used: not float32 on the CPU, fewer than ``MIN_MACS``
    multiply-adds, an input that is not contiguous, a kernel not stored in Linear's layout
    (``core.use_linear_layout_``), tensor subclasses (fake, functional, distributed), under
    ``torch.autocast`` (which casts addmm), or while torch.export, ``torch.jit.trace`` or a
    ``torch.func`` transform runs (they see torch's portable ops).

    Args:
        inputs: ``(..., input)``.
        kernel: the Keras-shaped ``(input, units)`` kernel.
        bias: ``(units,)`` or None.
        relu: apply relu to the result (fused into the product).
    """
    features, units = kernel.shape
    if not ENABLED or inputs.numel() * units < MIN_MACS:  # (the small layer's quick exit)
        return None
    if inputs.dtype != torch.float32 or not inputs.is_cpu or not _plain(inputs) or \
            kernel.dtype != torch.float32 or not _plain(kernel):
        return None
    if kernel.stride() != (1, features) or not inputs.is_contiguous():
        return None
    if bias is not None and (bias.dtype != torch.float32 or not _plain(bias)):
        return None
    if torch.compiler.is_exporting() or torch.jit.is_tracing() or \
            torch._C._are_functorch_transforms_active() or torch.is_autocast_enabled("cpu"):
        return None
    if inputs.dim() == 2:
        return _OneDnnDense.apply(inputs, kernel, bias, relu)
    out = _OneDnnDense.apply(inputs.reshape(-1, features), kernel, bias, relu)
    return out.reshape(inputs.shape[:-1] + (units,))


def _plain(t: torch.Tensor) -> bool:
    """Not a tensor subclass with its own dispatch (fake, functional, DTensor...)."""
    return type(t).__torch_dispatch__ is torch._C._disabled_torch_dispatch_impl


def _inner_product(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                   relu: bool) -> torch.Tensor:
    """``x @ weight.T + bias`` (relu'd when asked): oneDNN's inner product, ``weight`` is
    ``(out, in)``."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "relu" if relu else "none",
                                              [], "")


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
            relu: bool = False) -> torch.Tensor:
    """``_inner_product``, through ``onednn_linear`` while torch.compile traces (inductor
    lowers torch's op only for frozen weights)."""
    if torch.compiler.is_compiling():
        return onednn_linear(x, weight, bias, relu)
    return _inner_product(x, weight, bias, relu)


@torch.library.custom_op("tkeras::onednn_linear", mutates_args=())
def onednn_linear(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                  relu: bool) -> torch.Tensor:
    """``_inner_product`` as an operator torch.compile calls as it is (the compiled training
    step of a model with large Dense layers keeps oneDNN's GEMMs)."""
    return _inner_product(x, weight, bias, relu)


@onednn_linear.register_fake
def _(x, weight, bias, relu):
    return x.new_empty((x.shape[0], weight.shape[0]))


def _differentiable_linear(x: torch.Tensor, weight: torch.Tensor, bias: None) -> torch.Tensor:
    return torch.mm(x, weight.t())


class _OneDnnDense(torch.autograd.Function):
    """``dense``'s product with its gradients, all three GEMMs oneDNN's."""

    @staticmethod
    def forward(inputs, kernel, bias, relu):
        return _linear(inputs, kernel.t(), bias, relu)

    @staticmethod
    def setup_context(ctx, arguments, out):
        inputs, kernel, bias, relu = arguments
        ctx.relu = relu
        ctx.has_bias = bias is not None
        ctx.save_for_backward(inputs, kernel, out if relu else None)

    @staticmethod
    def backward(ctx, grad):
        inputs, kernel, out = ctx.saved_tensors
        if ctx.relu:
            grad = torch.ops.aten.threshold_backward(grad, out, 0)
        grad = grad.contiguous()  # (a sum's gradient comes expanded)
        # with create_graph=True the gradients are themselves differentiated: torch's ops
        mm = _linear if not torch.is_grad_enabled() else _differentiable_linear
        grad_inputs = grad_kernel = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_inputs = mm(grad, kernel, None)  # grad @ kernel.T, kernel (input, units)
        if ctx.needs_input_grad[1]:
            # (units, input) = grad.T @ inputs, returned as its (input, units) transpose: the
            # kernel's own layout
            grad_kernel = mm(grad.t(), inputs.t(), None).t()
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad.sum(0)
        return grad_inputs, grad_kernel, grad_bias, None
