"""``K.rnn``: iterating a step function over the time axis (tf-keras semantics)."""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple

import torch

from .conversion import TensorLike, _as_operand, _as_tensor

__all__ = ["rnn"]


def _as_list(states: Any) -> List[torch.Tensor]:
    if states is None:
        return []
    if isinstance(states, (list, tuple)):
        return list(states)
    return [states]


def _expand_mask(mask_t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return mask_t.reshape(mask_t.shape + (1,) * (like.dim() - mask_t.dim()))


def rnn(step_function: Callable, inputs: TensorLike, initial_states: Sequence[TensorLike],
        go_backwards: bool = False, mask: Optional[TensorLike] = None,
        constants: Optional[Sequence[TensorLike]] = None, unroll: bool = False,
        input_length: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor, List[torch.Tensor]]:
    """Iterates ``step_function`` over the time axis (axis 1) of ``inputs``.

    Args:
        step_function: ``step(inputs_t, states) -> (output_t, new_states)``;
            ``inputs_t`` is ``(samples, ...)``, ``states`` a list (with the
            ``constants`` appended).
        inputs: ``(samples, time, ...)``, at least 3D.
        initial_states: list of ``(samples, ...)`` tensors.
        go_backwards: iterate from the last step to the first; the returned sequence is
            in that (reversed) order.
        mask: ``(samples, time)``, zero where a step is masked: there the output is the
            previous step's (zeros before the first) and the states are kept.
        constants: values passed to every step after the states.
        unroll: accepted (torch loops in Python either way).
        input_length: accepted (the static number of steps).

    Returns:
        ``(last_output, outputs, new_states)``: ``(samples, ...)``, ``(samples, time, ...)``
        and the list of final states.

    Example:
        >>> def step(x, states):
        ...     total = states[0] + x
        ...     return total, [total]
        >>> last, outs, states = K.rnn(step, np.ones((2, 3, 1)), [np.zeros((2, 1))])
        >>> outs[0, :, 0]
        tensor([1., 2., 3.])
    """
    inputs = _as_tensor(inputs)
    if inputs.dim() < 3:
        raise ValueError(f"`rnn` expects inputs of rank >= 3 (samples, time, ...). Received shape "
                         f"{tuple(inputs.shape)}.")
    states = [_as_operand(s, inputs) for s in _as_list(initial_states)]
    constants = [_as_operand(c, inputs) for c in _as_list(constants)]
    if mask is not None:
        mask = _as_operand(mask, inputs)
        if mask.dim() == 3 and mask.shape[-1] == 1:
            mask = mask[..., 0]
        mask = mask.bool()
        if not states:
            raise ValueError("`rnn` with a `mask` needs at least one state "
                             "(len(initial_states) > 0).")
    steps = inputs.shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    outputs: List[torch.Tensor] = []
    prev_output: Optional[torch.Tensor] = None
    for t in order:
        output, new_states = step_function(inputs[:, t], list(states) + constants)
        output = _as_tensor(output)
        new_states = [_as_tensor(s) for s in _as_list(new_states)]
        if mask is not None:
            mask_t = mask[:, t]
            if prev_output is None:
                prev_output = torch.zeros_like(output)
            output = torch.where(_expand_mask(mask_t, output), output, prev_output)
            new_states = [torch.where(_expand_mask(mask_t, new), new, old)
                          for new, old in zip(new_states, states)]
        outputs.append(output)
        prev_output = output
        states = new_states
    if not outputs:
        raise ValueError("`rnn` received inputs with 0 time steps.")
    stacked = torch.stack(outputs, dim=1)
    return outputs[-1], stacked, list(states)
