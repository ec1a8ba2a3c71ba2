"""The fused optimizer update: one ``torch.compile``'d graph for a whole optimizer step.

The eager update (``rules``) runs one multi-tensor kernel per operation: Adam's step is
about ten passes over the parameters. Compiled, the same formulas (the same ``rules``
functions, traced: gradient clipping, weight decay, the update, EMA) become a few fused
loops, written for the parameter list at hand. Results equal the eager update's within
float32 rounding (the compiler may contract ``a*b + c`` or reorder a reduction).

Off by default. Switch it on for one optimizer with ``optimizer.fused = True``, for all
optimizers without their own setting with ``set_default(True)`` or the environment variable
``TKERAS_FUSED_OPTIMIZER=1``. ``compile(jit_compile=True)`` traces the update into the
model's compiled training step instead (``engine.step_runner``), and switches this one on
only for a model whose step cannot be one graph, unless the optimizer says ``fused = False``.

Each optimizer compiles once per parameter-list signature (shapes, dtypes, device), the
first time it steps. The whole step is one graph (``fullgraph=True``), traced before
anything runs, so when compiling is impossible (no C++ compiler, an unsupported
platform, a construct the tracer rejects) nothing has been written yet and the optimizer
goes on with the eager update, silently, for good.

    >>> opt = tkeras.optimizers.Adam(lr=1e-3)
    >>> opt.fused = True          # or tkeras.optimizers.fused.set_default(True)
"""
from __future__ import annotations

import os
import types
from typing import Any, Callable, Optional

import torch

_ENV_VAR = "TKERAS_FUSED_OPTIMIZER"
_default: bool = os.environ.get(_ENV_VAR, "").strip().lower() in ("1", "true", "on", "yes")


def set_default(enabled: bool) -> None:
    """Whether optimizers whose ``fused`` is None use the compiled update."""
    global _default
    _default = bool(enabled)


def default() -> bool:
    """The current module-level default (``TKERAS_FUSED_OPTIMIZER`` at import, or
    ``set_default``'s last value)."""
    return _default


def with_own_code(method: Callable) -> Callable:
    """``method`` with a private copy of its code object, bound to the same instance.

    torch.compile keeps its compiled graphs (and its recompile limit, 8 by default) per
    code object; with a copy per optimizer (per model, for the compiled training loss),
    instances do not use up one another's limit and fall back to eager."""
    function = method.__func__
    owner = method.__self__
    code = function.__code__.replace(co_name=f"{function.__name__}_{id(owner):x}")
    copy = types.FunctionType(code, function.__globals__, code.co_name,
                              function.__defaults__, function.__closure__)
    return types.MethodType(copy, owner)


class CompiledUpdate:
    """``body`` (an optimizer's bound update method) compiled on first call; ``fallback``
    (default: the eager ``body``) from the first failure on.

    Args:
        body: a bound method ``(params, grads, slots, lr) -> None`` that updates in place
            (or any bound method: ``compile(jit_compile=True)`` compiles its whole training
            step with this class).
        fallback: what runs once compiling failed (default ``body``).
        traces_autograd: ``body`` calls ``torch.autograd.grad``: dynamo traces it into the
            graph only with its ``trace_autograd_ops`` switch on, which is set while a call
            traces (a first call, or a new input signature) and not on the steady path.
    """

    __slots__ = ("body", "compiled", "failed", "fallback", "traces_autograd")

    def __init__(self, body: Callable, fallback: Optional[Callable] = None,
                 traces_autograd: bool = False):
        self.body = body
        self.compiled: Optional[Callable] = None
        self.failed = False
        self.fallback = body if fallback is None else fallback
        self.traces_autograd = traces_autograd

    @property
    def active(self) -> bool:
        """Whether the last call ran compiled (False before the first call)."""
        return self.compiled is not None and not self.failed

    def __call__(self, *args) -> Any:
        if not self.failed:
            try:
                return self._compiled_call(args)
            except Exception:  # noqa: BLE001 - tracing / compiling failed before any write
                self.failed = True
        return self.fallback(*args)

    def _compiled_call(self, args: tuple) -> Any:
        if self.compiled is None:
            self.compiled = torch.compile(with_own_code(self.body), fullgraph=True,
                                          dynamic=False)
            if self.traces_autograd:
                return self._traced_call(args)
        if not self.traces_autograd:
            return self.compiled(*args)
        try:  # a signature compiled before: no tracing, no switch needed
            return self.compiled(*args)
        except Exception:  # noqa: BLE001 - a new signature traced without the switch
            return self._traced_call(args)

    def _traced_call(self, args: tuple) -> Any:
        compiled = self.compiled
        assert compiled is not None  # set by _compiled_call
        with torch._dynamo.config.patch(trace_autograd_ops=True):
            return compiled(*args)
