"""The update rules, written once with torch's multi-tensor (``torch._foreach_*``) ops.

Every function updates lists of tensors in place: ``params`` and the optimizer's slots
(one list per slot, aligned with ``params``) from ``grads``. Step-dependent scalars
(the learning rate, bias corrections) are 0-d tensors on the parameters' device, so no
function reads a value back to the host. Constant hyper-parameters are Python floats,
already rounded the way the calling optimizer family rounds them (legacy optimizers keep
float32 hyper-parameters, the newer ones mix float32 powers with Python-float moments);
the formulas follow tf-keras's kernels operation by operation, so float32 results agree
to rounding. (Adam runs torch's fused kernel where it applies: the same formula in one
pass, within float32 rounding; see ``adam_``.)

Callers run these functions under ``torch.no_grad()``.
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch

Tensors = Union[List[torch.Tensor], Tuple[torch.Tensor, ...]]  # torch._foreach_* take either, return tuples
Scalar = Union[float, torch.Tensor]


def _scale(tensors: Tensors, factor: Scalar) -> Tensors:
    """``[t * factor]`` (new tensors); ``factor`` is a number or a 0-d tensor."""
    return torch._foreach_mul(tensors, factor)


def _sub_quotient_(params: Tensors, numerators: Tensors, denominators: Tensors) -> None:
    """``w -= numerator / denominator`` in one pass (addcdiv with value -1 rounds exactly as
    a division followed by a subtraction)."""
    torch._foreach_addcdiv_(params, numerators, denominators, -1)


def _moving_average_(avg: Tensors, values: Tensors, one_minus_decay: float) -> None:
    """``avg += (values - avg) * one_minus_decay`` (TF's ``assign_add`` form of an EMA)."""
    torch._foreach_lerp_(avg, values, one_minus_decay)


def _weighted_sum_(acc: Tensors, decay: float, values: Tensors, one_minus_decay: float) -> None:
    """``acc = decay * acc + one_minus_decay * values``."""
    torch._foreach_mul_(acc, decay)
    torch._foreach_add_(acc, _scale(values, one_minus_decay))


def _square(tensors: Tensors) -> Tensors:
    return torch._foreach_mul(tensors, tensors)


def _sqrt_plus(tensors: Tensors, eps: float) -> Tensors:
    """``sqrt(t) + eps``."""
    out = torch._foreach_sqrt(tensors)
    torch._foreach_add_(out, eps)
    return out


def _sqrt_of_plus(tensors: Tensors, eps: float) -> Tensors:
    """``sqrt(t + eps)``."""
    out = torch._foreach_add(tensors, eps)
    torch._foreach_sqrt_(out)
    return out


# ------------------------------------------------------------------ gradient clipping

def clip_by_value_(grads: Tensors, clipvalue: float) -> None:
    """``g = clip(g, -clipvalue, clipvalue)`` in place."""
    torch._foreach_clamp_min_(grads, -float(clipvalue))
    torch._foreach_clamp_max_(grads, float(clipvalue))


def clip_by_norm_(grads: Tensors, clipnorm: float) -> None:
    """Per tensor: ``g = g * clipnorm / max(norm(g), clipnorm)`` in place (tf.clip_by_norm)."""
    norms = torch._foreach_norm(grads)
    denominators = torch._foreach_clamp_min(norms, float(clipnorm))
    torch._foreach_mul_(grads, float(clipnorm))
    torch._foreach_div_(grads, denominators)


def clip_by_global_norm_(grads: Tensors, clipnorm: float) -> None:
    """All tensors together: ``g *= clipnorm * min(1 / global_norm, 1 / clipnorm)`` in place."""
    norms = torch._foreach_norm(grads)
    global_norm = torch.linalg.vector_norm(torch.stack(norms))
    scale = torch.clamp(torch.reciprocal(global_norm), max=1.0 / float(clipnorm)) * float(clipnorm)
    torch._foreach_mul_(grads, scale.to(grads[0].dtype))


# ------------------------------------------------------------------ SGD

def sgd_(params: Tensors, grads: Tensors, lr: Scalar, moms: Optional[Tensors] = None,
         momentum: float = 0.0, nesterov: bool = False) -> None:
    """Plain: ``w -= g * lr``. Momentum: ``m = m * momentum - g * lr``; ``w += m``, or with
    nesterov ``w += m * momentum - g * lr``."""
    step = _scale(grads, lr)
    if moms is None:
        torch._foreach_sub_(params, step)
        return
    torch._foreach_mul_(moms, momentum)
    torch._foreach_sub_(moms, step)
    if nesterov:
        update = _scale(moms, momentum)
        torch._foreach_sub_(update, step)
        torch._foreach_add_(params, update)
    else:
        torch._foreach_add_(params, moms)


# ------------------------------------------------------------------ RMSprop

def rmsprop_plain_legacy_(params: Tensors, grads: Tensors, lr: Scalar, rms: Tensors,
                          rho: float, one_minus_rho: float, eps: float,
                          mg: Optional[Tensors] = None) -> None:
    """Legacy RMSprop without momentum: ``rms = rho*rms + (1-rho)*g^2``; centered also
    ``mg = rho*mg + (1-rho)*g`` and ``den = rms - mg^2``; ``w -= lr*g / (sqrt(den) + eps)``."""
    _weighted_sum_(rms, rho, _square(grads), one_minus_rho)
    denominator = rms
    if mg is not None:
        _weighted_sum_(mg, rho, grads, one_minus_rho)
        denominator = torch._foreach_sub(rms, _square(mg))
    update = _scale(grads, lr)
    _sub_quotient_(params, update, _sqrt_plus(denominator, eps))


def rmsprop_momentum_legacy_(params: Tensors, grads: Tensors, lr: Scalar, rms: Tensors,
                             moms: Tensors, one_minus_rho: float, momentum: float, eps: float,
                             mg: Optional[Tensors] = None) -> None:
    """TF's ApplyRMSProp / ApplyCenteredRMSProp kernels: ``rms += (g^2 - rms)*(1-rho)``;
    centered ``mg += (g - mg)*(1-rho)``, ``den = rms - mg^2``; ``mom = mom*momentum +
    g*lr / sqrt(den + eps)``; ``w -= mom``."""
    _moving_average_(rms, _square(grads), one_minus_rho)
    denominator = rms
    if mg is not None:
        _moving_average_(mg, grads, one_minus_rho)
        denominator = torch._foreach_sub(rms, _square(mg))
    increment = _scale(grads, lr)
    torch._foreach_div_(increment, _sqrt_of_plus(denominator, eps))
    torch._foreach_mul_(moms, momentum)
    torch._foreach_add_(moms, increment)
    torch._foreach_sub_(params, moms)


def rmsprop_new_(params: Tensors, grads: Tensors, lr: Scalar, velocities: Tensors, rho: float,
                 one_minus_rho: float, eps: float, moms: Optional[Tensors] = None,
                 momentum: float = 0.0, average_grads: Optional[Tensors] = None) -> None:
    """tf-keras >= 2.11 RMSprop: ``v = rho*v + (1-rho)*g^2``; centered ``ag = rho*ag +
    (1-rho)*g``, ``den = v - ag^2``; ``inc = lr*g / sqrt(den + eps)``; with momentum
    ``mom = momentum*mom + inc``, ``w -= mom``, else ``w -= inc``."""
    _weighted_sum_(velocities, rho, _square(grads), one_minus_rho)
    denominator = velocities
    if average_grads is not None:
        _weighted_sum_(average_grads, rho, grads, one_minus_rho)
        denominator = torch._foreach_sub(velocities, _square(average_grads))
    increment = _scale(grads, lr)
    torch._foreach_div_(increment, _sqrt_of_plus(denominator, eps))
    if moms is None:
        torch._foreach_sub_(params, increment)
        return
    torch._foreach_mul_(moms, momentum)
    torch._foreach_add_(moms, increment)
    torch._foreach_sub_(params, moms)


# ------------------------------------------------------------------ Adagrad / Adadelta

def adagrad_(params: Tensors, grads: Tensors, lr: Scalar, accumulators: Tensors, eps: float,
             eps_inside_sqrt: bool) -> None:
    """``acc += g^2``; legacy ``w -= lr*g / (sqrt(acc) + eps)``, new ``w -= lr*g /
    sqrt(acc + eps)``."""
    torch._foreach_add_(accumulators, _square(grads))
    denominator = (_sqrt_of_plus if eps_inside_sqrt else _sqrt_plus)(accumulators, eps)
    update = _scale(grads, lr)
    _sub_quotient_(params, update, denominator)


def adadelta_(params: Tensors, grads: Tensors, lr: Scalar, accum_grads: Tensors,
              accum_updates: Tensors, rho: float, one_minus_rho: float, eps: float) -> None:
    """``Eg = rho*Eg + (1-rho)*g^2``; ``d = sqrt(Ed + eps) / sqrt(Eg + eps) * g``;
    ``w -= lr*d``; ``Ed = rho*Ed + (1-rho)*d^2``."""
    _weighted_sum_(accum_grads, rho, _square(grads), one_minus_rho)
    delta = _sqrt_of_plus(accum_updates, eps)
    torch._foreach_mul_(delta, grads)
    torch._foreach_div_(delta, _sqrt_of_plus(accum_grads, eps))
    torch._foreach_sub_(params, _scale(delta, lr))
    _weighted_sum_(accum_updates, rho, _square(delta), one_minus_rho)


# ------------------------------------------------------------------ Adam family

def adam_(params: Tensors, grads: Tensors, alpha: torch.Tensor, ms: Tensors, vs: Tensors,
          one_minus_beta_1: float, one_minus_beta_2: float, eps: float,
          vhats: Optional[Tensors] = None, views: Optional["FusedAdamViews"] = None) -> None:
    """``m += (g - m)*(1-b1)``; ``v += (g^2 - v)*(1-b2)``; amsgrad ``vhat = max(vhat, v)``
    is used for v; ``w -= m*alpha / (sqrt(v) + eps)`` with ``alpha = lr*sqrt(1-b2^t)/(1-b1^t)``.

    Where it applies (dense tensors of one floating dtype on one CPU or CUDA device, betas
    in [0, 1), not while torch.compile traces), the step is torch's fused Adam kernel: one
    pass over the parameters instead of about seven. It is given ``alpha`` as its learning
    rate and a step count so large that its own bias corrections are exactly 1, so it
    computes the same formula: ``m`` equal, ``v`` as ``b2*v + (1-b2)*g^2`` (the same value
    to float32 rounding) and the weights within float32 rounding of the multi-tensor path.
    ``views``: the calling optimizer's ``FusedAdamViews`` (made anew when None).
    """
    fused = (views or FusedAdamViews())(params, grads, ms, vs, vhats, one_minus_beta_1,
                                        one_minus_beta_2)
    if fused is not None:
        steps = [_no_bias_correction(params[0].device)] * len(params)
        fused_params, fused_grads, fused_ms, fused_vs, fused_vhats = fused
        torch._fused_adam_(fused_params, fused_grads, fused_ms, fused_vs, fused_vhats, steps,
                           lr=alpha, beta1=1.0 - one_minus_beta_1,
                           beta2=1.0 - one_minus_beta_2, weight_decay=0.0, eps=eps,
                           amsgrad=vhats is not None, maximize=False)
        return
    _moving_average_(ms, grads, one_minus_beta_1)
    _moving_average_(vs, _square(grads), one_minus_beta_2)
    second = vs
    if vhats is not None:
        torch._foreach_maximum_(vhats, vs)
        second = vhats
    update = _scale(ms, alpha)
    _sub_quotient_(params, update, _sqrt_plus(second, eps))


_FUSED_ADAM_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
_NO_BIAS_CORRECTION: dict = {}


def _no_bias_correction(device: torch.device) -> torch.Tensor:
    """A step count for which ``beta**step`` is 0 for every beta < 1 (one per device)."""
    step = _NO_BIAS_CORRECTION.get(device)
    if step is None:
        step = _NO_BIAS_CORRECTION[device] = torch.tensor(1e9, dtype=torch.float32,
                                                          device=device)
    return step


def _contiguous_order(t: torch.Tensor) -> Optional[Tuple[int, ...]]:
    """The dimension order in which ``t`` is contiguous: () when it is already, the order
    of a permuted view otherwise (a Dense kernel kept in torch.nn.Linear's layout, a conv
    kernel in torch's), or None when no permutation makes it contiguous."""
    if t.is_contiguous():
        return ()
    strides = t.stride()
    order = tuple(sorted(range(t.dim()), key=lambda d: (-strides[d], d)))
    return order if t.permute(order).is_contiguous() else None


class FusedAdamViews:
    """The tensors torch's fused Adam kernel takes for one optimizer: each parameter, slot
    and gradient as a contiguous view (the kernel reads each as one flat array; given a
    non-contiguous one it copied, as slow as the multi-tensor path), or None where the
    kernel does not apply.

    The views of the parameters and slots are made once and reused while every one of
    those tensors is the same object over the same memory with the same strides (a model
    moved with ``.to()`` or ``.double()`` gets new ones); each step only checks them and
    views the gradients, which must match their parameter's dtype, device and strides.
    """

    __slots__ = ("_key", "_fused")

    def __init__(self):
        self._key: List[Tuple[torch.Tensor, int, Tuple[int, ...]]] = []
        # (views of params / ms / vs / vhats, each parameter's strides and order, dtype, device)
        self._fused: Optional[tuple] = None

    def __call__(self, params: Tensors, grads: Tensors, ms: Tensors, vs: Tensors,
                 vhats: Optional[Tensors], one_minus_beta_1: float, one_minus_beta_2: float
                 ) -> Optional[Tuple[List[torch.Tensor], ...]]:
        if not params or torch.compiler.is_compiling():
            return None
        if not (0.0 < one_minus_beta_1 <= 1.0 and 0.0 < one_minus_beta_2 <= 1.0):
            return None
        held = (params, ms, vs) if vhats is None else (params, ms, vs, vhats)
        if not self._still_valid(held):
            self._fused = _fused_adam_layout(held)
            self._key = [] if self._fused is None else [
                (t, t.data_ptr(), t.stride()) for group in held for t in group]
        if self._fused is None:
            return None
        (fused_params, fused_ms, fused_vs, fused_vhats), layouts, dtype, device = self._fused
        fused_grads = []
        for g, (strides, order) in zip(grads, layouts):
            if g.dtype != dtype or g.device != device or g.layout != torch.strided or \
                    g.stride() != strides:
                return None
            fused_grads.append(g.permute(order) if order else g)
        return fused_params, fused_grads, fused_ms, fused_vs, fused_vhats

    def _still_valid(self, held: Tuple[Tensors, ...]) -> bool:
        key = self._key
        if len(key) != sum(len(group) for group in held):
            return False
        i = 0
        for group in held:
            for t in group:
                kept, pointer, strides = key[i]
                if t is not kept or t.data_ptr() != pointer or t.stride() != strides:
                    return False
                i += 1
        return True


def _fused_adam_layout(held: Tuple[Tensors, ...]) -> Optional[tuple]:
    """``FusedAdamViews``'s lasting part for ``(params, ms, vs[, vhats])``, or None where
    the kernel does not apply."""
    params = held[0]
    dtype, device = params[0].dtype, params[0].device
    if dtype not in _FUSED_ADAM_DTYPES or device.type not in ("cpu", "cuda"):
        return None
    views: Tuple[List[torch.Tensor], ...] = ([], [], [], [])
    layouts = []
    for tensors in zip(*held):
        p = tensors[0]
        if any(t.dtype != dtype or t.device != device or t.layout != torch.strided
               for t in tensors):
            return None
        strides = p.stride()
        if any(t.stride() != strides for t in tensors):
            return None
        order = _contiguous_order(p)
        if order is None:
            return None
        layouts.append((strides, order))
        for group, t in zip(views, tensors):
            group.append(t.permute(order) if order else t)
    return views, layouts, dtype, device


def adamax_(params: Tensors, grads: Tensors, lr: Scalar, bias_correction: torch.Tensor,
            ms: Tensors, us: Tensors, one_minus_beta_1: float, beta_2: float, eps: float,
            legacy: bool) -> None:
    """``m += (g - m)*(1-b1)``; ``u = max(b2*u, |g|)``; legacy ``w -= lr/(1-b1^t) * (m/(u +
    eps))``, new ``w -= (lr*m) / ((1-b1^t)*(u + eps))``; ``bias_correction = 1 - b1^t``."""
    _moving_average_(ms, grads, one_minus_beta_1)
    torch._foreach_mul_(us, beta_2)
    torch._foreach_maximum_(us, torch._foreach_abs(grads))
    denominator = torch._foreach_add(us, eps)
    update: Tensors
    if legacy:
        update = torch._foreach_div(ms, denominator)
        torch._foreach_mul_(update, lr / bias_correction)
        torch._foreach_sub_(params, update)
    else:
        update = _scale(ms, lr)
        torch._foreach_mul_(denominator, bias_correction)
        _sub_quotient_(params, update, denominator)


def nadam_legacy_(params: Tensors, grads: Tensors, lr: Scalar, ms: Tensors, vs: Tensors,
                  beta_1: float, one_minus_beta_1: float, beta_2: float,
                  one_minus_beta_2: float, eps: float, m_t: torch.Tensor, m_t_1: torch.Tensor,
                  schedule_new: torch.Tensor, schedule_next: torch.Tensor,
                  beta_2_power: torch.Tensor) -> None:
    """Legacy (Keras 2) Nadam: ``g' = g/(1 - sched_new)``; ``m = b1*m + (1-b1)*g``;
    ``m' = m/(1 - sched_next)``; ``v = b2*v + (1-b2)*g^2``; ``v' = v/(1 - b2^t)``;
    ``m_bar = (1-m_t)*g' + m_t_1*m'``; ``w -= lr*m_bar / (sqrt(v') + eps)``."""
    g_prime = torch._foreach_div(grads, 1.0 - schedule_new)
    _weighted_sum_(ms, beta_1, grads, one_minus_beta_1)
    _weighted_sum_(vs, beta_2, _square(grads), one_minus_beta_2)
    m_bar = _scale(g_prime, 1.0 - m_t)
    torch._foreach_add_(m_bar, _scale(torch._foreach_div(ms, 1.0 - schedule_next), m_t_1))
    v_prime = torch._foreach_div(vs, 1.0 - beta_2_power)
    update = _scale(m_bar, lr)
    _sub_quotient_(params, update, _sqrt_plus(v_prime, eps))


def nadam_new_(params: Tensors, grads: Tensors, lr: Scalar, ms: Tensors, vs: Tensors,
               one_minus_beta_1: float, one_minus_beta_2: float, eps: float,
               u_t: torch.Tensor, u_t_1: torch.Tensor, u_product_t: torch.Tensor,
               u_product_t_1: torch.Tensor, beta_2_power: torch.Tensor) -> None:
    """tf-keras >= 2.11 Nadam: ``m += (g - m)*(1-b1)``; ``v += (g^2 - v)*(1-b2)``;
    ``m_hat = u_{t+1}*m/(1 - P_{t+1}) + (1-u_t)*g/(1 - P_t)``; ``v_hat = v/(1 - b2^t)``;
    ``w -= m_hat*lr / (sqrt(v_hat) + eps)``."""
    _moving_average_(ms, grads, one_minus_beta_1)
    _moving_average_(vs, _square(grads), one_minus_beta_2)
    m_hat = _scale(ms, u_t_1)
    torch._foreach_div_(m_hat, 1.0 - u_product_t_1)
    gradient_part = _scale(grads, 1.0 - u_t)
    torch._foreach_div_(gradient_part, 1.0 - u_product_t)
    torch._foreach_add_(m_hat, gradient_part)
    v_hat = torch._foreach_div(vs, 1.0 - beta_2_power)
    update = _scale(m_hat, lr)
    _sub_quotient_(params, update, _sqrt_plus(v_hat, eps))


# ------------------------------------------------------------------ Ftrl

def _accumulator_power(tensors: Tensors, lr_power: float) -> Tensors:
    """``t ** -lr_power`` (a square root for the usual lr_power = -0.5)."""
    if lr_power == -0.5:
        return torch._foreach_sqrt(tensors)
    return torch._foreach_pow(tensors, -lr_power)


def ftrl_(params: Tensors, grads: Tensors, lr: Scalar, accumulators: Tensors,
          linears: Tensors, lr_power: float, l1: float, l2: float, l2_shrinkage: float,
          beta: float = 0.0) -> None:
    """FTRL-proximal (TF's ApplyFtrl / ApplyFtrlV2): ``n' = n + g^2``; ``z += g_s - (n'^-p -
    n^-p)/lr * w`` with ``g_s = g + 2*l2_shrinkage*w``; ``w = (clip(z, -l1, l1) - z) /
    (n'^-p/lr + 2*(l2 + beta/(2*lr)))``; ``n = n'``."""
    new_accumulators = torch._foreach_add(accumulators, _square(grads))
    new_power = _accumulator_power(new_accumulators, lr_power)
    sigma = torch._foreach_sub(new_power, _accumulator_power(accumulators, lr_power))
    torch._foreach_div_(sigma, lr)
    torch._foreach_mul_(sigma, params)
    shrunk = grads
    if l2_shrinkage > 0:
        shrunk = torch._foreach_add(grads, _scale(params, 2.0 * l2_shrinkage))
    torch._foreach_add_(linears, torch._foreach_sub(shrunk, sigma))
    # n'^-p/lr + 2*beta/(2*lr) == (n'^-p + beta)/lr: keeps the step free of tensor adds
    quadratic = torch._foreach_add(new_power, beta) if beta else new_power
    quadratic = torch._foreach_div(quadratic, lr)
    torch._foreach_add_(quadratic, 2.0 * l2)
    clipped = torch._foreach_clamp_min(linears, -float(l1))
    torch._foreach_clamp_max_(clipped, float(l1))
    torch._foreach_sub_(clipped, linears)
    torch._foreach_div_(clipped, quadratic)
    torch._foreach_copy_(params, clipped)
    torch._foreach_copy_(accumulators, new_accumulators)


# ------------------------------------------------------------------ decoupled weight decay / EMA

def weight_decay_(params: Tensors, lr: Scalar, weight_decay: float) -> None:
    """``w -= w * weight_decay * lr``."""
    decay = _scale(params, weight_decay)
    torch._foreach_mul_(decay, lr)
    torch._foreach_sub_(params, decay)


def ema_update_(averages: Tensors, params: Tensors, ema_momentum: float) -> None:
    """``avg = ema_momentum * avg + (1 - ema_momentum) * w``."""
    _weighted_sum_(averages, ema_momentum, params, 1.0 - ema_momentum)


def select_(targets: Tensors, sources: Tensors, flag: torch.Tensor) -> None:
    """``t = s`` where the 0-d ``flag`` is 1, unchanged where it is 0 (no host read)."""
    torch._foreach_mul_(targets, 1.0 - flag)
    torch._foreach_add_(targets, _scale(sources, flag))
