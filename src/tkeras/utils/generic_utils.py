"""Keras's generic utilities: function (de)serialization, custom objects, Progbar."""
from __future__ import annotations

import base64
import marshal
import sys
import types
from typing import Any, Mapping, Optional, Tuple

from ..saving.object_registration import (  # noqa: F401
    CustomObjectScope, custom_object_scope, deserialize_keras_object, get_custom_objects,
    get_registered_name, in_safe_mode, register_keras_serializable, resolve_object,
    serialize_keras_object,
)


def func_dump(func: types.FunctionType) -> Tuple[str, Any, Any]:
    """Keras's format for a Python function: (base64 marshal of the code, defaults, closure)."""
    code = base64.b64encode(marshal.dumps(func.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None) -> types.FunctionType:
    """Rebuilds a function saved by func_dump. Runs stored bytecode: only for trusted files."""
    if isinstance(code, (tuple, list)):
        code, defaults, closure = (list(code) + [None, None])[:3]
    if isinstance(defaults, list):
        defaults = tuple(defaults)

    def cell(value):
        return (lambda: value).__closure__[0]

    raw = base64.b64decode(code.encode("ascii") if isinstance(code, str) else code)
    try:
        code_obj = marshal.loads(raw)
    except (ValueError, EOFError, TypeError) as e:
        raise ValueError("Cannot load the Python function stored in this config: its bytecode was "
                         f"written by another Python version ({e}). Re-create the Lambda layer in "
                         "code and pass it through `custom_objects`.") from None
    cells = tuple(cell(v) for v in closure) if closure is not None else None
    return types.FunctionType(code_obj, globs if globs is not None else globals(),
                              name=code_obj.co_name, argdefs=defaults, closure=cells)


def serialize_function(fn) -> Tuple[Any, str, Optional[str]]:
    """(value, type, module) as tf-keras's Lambda stores functions in its config: Python
    functions as bytecode (``"lambda"``), other callables by name (``"function"``). tkeras's
    own functions (``K.tanh``) and registered functions are stored by (registered) name, so
    they load without ``safe_mode=False``."""
    from ..saving.object_registration import _GLOBAL_CUSTOM_NAMES
    from ..saving.public_functions import public_functions
    if isinstance(fn, types.FunctionType):
        if _GLOBAL_CUSTOM_NAMES.get(fn) is not None:
            return _GLOBAL_CUSTOM_NAMES[fn], "function", fn.__module__
        public = public_functions().get(fn.__name__)
        if public is fn or getattr(public, "__wrapped__", None) is fn:  # K.tanh or ops.tanh
            return fn.__name__, "function", fn.__module__
        return func_dump(fn), "lambda", fn.__module__
    return getattr(fn, "__name__", repr(fn)), "function", getattr(fn, "__module__", None)


_BYTECODE_REFUSED = (
    "Requested the deserialization of a Lambda layer with a Python `lambda` inside it ({what}). "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the saved model, you can pass `safe_mode=False` to "
    "the loading function in order to allow Lambda layer loading (or use "
    "`tkeras.saving.SafeModeScope(False)`).")


def _function_name(value, what: str):
    """The name a ``"function"``-type entry stores: a string, or Keras 3's
    ``{"class_name": "function", "config": name}``. Other object configs are refused in
    safe mode: nothing is instantiated from inside a Lambda config."""
    if isinstance(value, Mapping) and value.get("class_name") == "function" and \
            isinstance(value.get("config"), str):
        return value["config"]
    if isinstance(value, Mapping) and in_safe_mode():
        raise ValueError(
            f"The {what} holds an object config ({value.get('class_name')!r}), not a function "
            "name: nothing is instantiated from inside a Lambda config in safe mode. Pass the "
            "function in `custom_objects` and store its name, or, if you trust the source of "
            "this file, load it with `safe_mode=False`.")
    return value


def deserialize_function(value, function_type: str, module: Optional[str], custom_objects,
                         what: str):
    """Loads a function stored by ``serialize_function`` (a Lambda's function, output_shape
    or mask; any plain callable a config holds).

    A name (``"function"``) resolves through ``resolve_object``: ``custom_objects``,
    registered objects and tkeras's own tensor functions (when ``module`` is a Keras module);
    outside safe mode also the name in ``module`` if that module is already imported (never
    imported here). Bytecode (``"lambda"``) loads only outside safe mode, with that module's
    names visible to it, as Keras does.

    Args:
        value: the stored function (a name or bytecode).
        function_type: ``"function"`` or ``"lambda"``.
        module: the module stored beside it.
        custom_objects: the caller's custom objects.
        what: where the function is, for errors (``'`function` of Lambda layer "l"'``).

    Raises:
        ValueError: the name is unknown, or the entry needs ``safe_mode=False``.
    """
    if function_type == "function":
        name = _function_name(value, what)
        if isinstance(name, Mapping):  # outside safe mode: as Keras, custom objects only
            return deserialize_keras_object(name, custom_objects=custom_objects,
                                            printable_module_name=what)
        from ..saving.public_functions import public_functions
        return resolve_object(name, kind=what, custom_objects=custom_objects,
                              public_objects=public_functions(), module=module)
    if function_type == "lambda":
        if in_safe_mode():
            raise ValueError(_BYTECODE_REFUSED.format(what=what))
        globs = dict(globals())
        if isinstance(module, str) and module in sys.modules:  # never imported here
            globs.update(sys.modules[module].__dict__)
        if custom_objects:
            globs.update(custom_objects)
        return func_load(value, globs=globs)
    raise ValueError(f"Unknown function type {function_type!r} for the {what}: expected "
                     "'function' or 'lambda'.")


# ------------------------------------------------------------------ progress bar

def _dynamic_display() -> bool:
    """Whether the output can redraw a line in place (a terminal or a Jupyter kernel)."""
    import os
    isatty = getattr(sys.stdout, "isatty", None)
    return bool((isatty is not None and isatty()) or "ipykernel" in sys.modules
                or "PYCHARM_HOSTED" in os.environ)


def _format_time(seconds: float, unit_name: str) -> str:
    """Keras's `` 3s/step`` / `` 12ms/step`` / `` 80us/step``."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def _format_eta(seconds: float) -> str:
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def _format_value(value) -> str:
    if isinstance(value, str):
        return " " + value
    value = float(value)
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


class Progbar:
    """Keras's progress bar: ``  32/1875 [>.....] - ETA: 5s - loss: 0.5``.

    At the end: ``1875/1875 [==============================] - 3s 2ms/step - loss: 0.2101``.
    In a terminal or a notebook the line is redrawn in place (at most every ``interval``
    seconds); elsewhere (a log file, a pipe) only the final line is printed.
    ``verbose=2`` prints one line when the target is reached:
    ``1875/1875 - 3s - loss: 0.2101 - 3s/epoch - 2ms/step``.

    Args:
        target: total number of steps, or None if unknown.
        width: width of the bar in characters.
        verbose: 0 (silent), 1 (bar) or 2 (one line at the end).
        interval: minimum seconds between two redraws.
        stateful_metrics: names of values shown as given; other values are averaged
            over the steps (weighted by the step counts passed to ``update``).
        unit_name: the unit of ``target`` (``step``, ``sample``).
        file: where to write (default: ``sys.stdout`` at the time of writing).
    """

    def __init__(self, target: Optional[int], width: int = 30, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics=None, unit_name: str = "step",
                 file=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._file = file
        self._dynamic = _dynamic_display()
        self._values: dict = {}
        self._values_order: list = []
        self._seen_so_far = 0
        self._total_width = 0
        import time
        self._clock = time.time
        self._start = self._clock()
        self._last_update = 0.0

    @property
    def out(self):
        return self._file if self._file is not None else sys.stdout

    def due(self) -> bool:
        """Whether an ``update`` now would redraw (lets callers skip reading values)."""
        return self._clock() - self._last_update >= self.interval

    def _record(self, values, current: int) -> None:
        for name, value in values or []:
            if name not in self._values:
                self._values_order.append(name)
            if name in self.stateful_metrics:
                self._values[name] = value
            else:
                steps = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, (0.0, 0))
                self._values[name] = (total + float(value) * steps, count + steps)
        self._seen_so_far = current

    def _values_text(self) -> str:
        text = ""
        for name in self._values_order:
            value = self._values[name]
            if isinstance(value, tuple):
                value = value[0] / max(1, value[1])
            text += f" - {name}:" + _format_value(value)
        return text

    def _bar(self, current: int) -> str:
        if self.target is None:
            return "%7d/Unknown" % current
        digits = len(str(self.target))
        bar = f"{current:{digits}d}/{self.target} ["
        filled = int(self.width * current / self.target) if self.target else self.width
        if filled > 0:
            bar += "=" * (filled - 1) + (">" if current < self.target else "=")
        return bar + "." * (self.width - filled) + "]"

    def update(self, current: int, values=None, finalize: Optional[bool] = None) -> None:
        """Moves the bar to ``current`` steps and records ``values`` (pairs name, value).

        Args:
            current: steps done so far.
            values: ``[(name, value), ...]``.
            finalize: whether this is the last update (default: ``current >= target``).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(values, current)
        if self.verbose == 1:
            self._draw_bar(current, finalize)
        elif self.verbose == 2 and finalize:
            self._draw_line(current)

    def _draw_bar(self, current: int, finalize: bool) -> None:
        now = self._clock()
        if not finalize and (now - self._last_update < self.interval or not self._dynamic):
            return
        out = self.out
        previous_width = self._total_width
        if self._dynamic:
            out.write("\b" * previous_width + "\r")
        bar = self._bar(current)
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        if self.target is None or finalize:
            info = f" - {elapsed:.0f}s" + _format_time(per_step, self.unit_name)
        else:
            info = " - ETA: " + _format_eta(per_step * (self.target - current))
        info += self._values_text()
        self._total_width = len(bar) + len(info)
        if previous_width > self._total_width:
            info += " " * (previous_width - self._total_width)
        out.write(bar + info + ("\n" if finalize else ""))
        out.flush()
        self._last_update = now

    def _draw_line(self, current: int) -> None:
        now = self._clock()
        elapsed = now - self._start
        count = f"{current}/{self.target}" if self.target is not None else f"{current}"
        line = f"{count} - {elapsed:.0f}s" + self._values_text()
        if current:
            line += " -" + _format_time(elapsed, "epoch")
            line += " -" + _format_time(elapsed / current, self.unit_name)
        self.out.write(line + "\n")
        self.out.flush()
        self._last_update = now

    def add(self, n: int, values=None) -> None:
        """Advances the bar by ``n`` steps."""
        self.update(self._seen_so_far + n, values)
