"""The torch internals a Layer reads, in one place.

``Layer`` calls ``forward`` directly, skipping ``torch.nn.Module.__call__``, when torch's
``__call__`` would do nothing but call ``forward``. Deciding that reads torch state that is
not public API; it is read here only, and ``tests/engine/test_torch_internals.py`` fails
if a torch release changes it.

What it relies on (``torch/nn/modules/module.py``, torch 2.x):

- ``Module.__call__`` is ``_wrapped_call_impl``: it runs ``self._compiled_call_impl`` when
  that is not None (``module.compile()`` sets it), else ``_call_impl``.
- ``_call_impl`` returns ``forward(*args, **kwargs)`` at once unless the module has hooks
  (``_forward_hooks``, ``_forward_pre_hooks``, ``_backward_hooks``, ``_backward_pre_hooks``,
  dicts in the instance ``__dict__``) or global hooks are registered (the module-level
  dicts ``_global_forward_hooks``, ``_global_forward_pre_hooks``, ``_global_backward_hooks``,
  ``_global_backward_pre_hooks`` that ``register_module_forward_hook`` & co. fill).
- Under ``torch.jit.trace`` (``torch._C._get_tracing_state()`` is not None) ``_call_impl``
  calls ``_slow_forward`` instead, which records the module's scope in the trace.
"""
from __future__ import annotations

import torch
from torch.nn.modules import module as _torch_module


def runs_plain_forward(d: dict) -> bool:
    """True when ``nn.Module.__call__`` would only call ``forward``: no hook of the module
    or global, no ``module.compile()``, no ``torch.jit.trace`` in progress. Layers then call
    ``forward`` directly and save torch's dispatch frames; otherwise torch's ``__call__``
    runs, so hooks, compiled modules and tracing behave as for any module.

    ``d`` is the module's ``__dict__`` (read directly: it is on every layer call's path).
    """
    return not (d["_forward_hooks"] or d["_forward_pre_hooks"] or d["_backward_hooks"]
                or d["_backward_pre_hooks"] or d.get("_compiled_call_impl") is not None
                or _torch_module._global_forward_hooks or _torch_module._global_forward_pre_hooks
                or _torch_module._global_backward_hooks
                or _torch_module._global_backward_pre_hooks
                or torch._C._get_tracing_state())
