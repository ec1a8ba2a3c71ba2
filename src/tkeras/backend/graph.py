"""Graph functions of the Keras backend ``K``: placeholders, ``K.function``,
``K.gradients``, the session, and Keras 2's graph-era helpers (``name_scope``,
``control_dependencies``, ``manual_variable_initialization``, ``image_dim_ordering``...).

torch runs eagerly, so the graph of Keras 2 is the symbolic graph of ``KerasTensor``s:
``K.placeholder`` is a symbolic input, ``K`` functions on symbolic tensors record nodes,
and ``K.function`` plans a graph once and runs it eagerly each call.

``K.get_session()`` has no TensorFlow session to return: it returns a ``Session`` whose
``run(fetches, feed_dict)`` evaluates symbolic tensors as a ``K.function`` does (so TF1
code such as ``K.get_session().run(out, {x: data})`` works); ``K.set_session(s)`` keeps
the object and returns it from then on. A TensorFlow ``ConfigProto``'s thread settings
(``intra_op_parallelism_threads``, ``inter_op_parallelism_threads``) passed as
``Session(config=...)`` are applied with ``torch.set_num_threads`` /
``torch.set_num_interop_threads``.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

from . import config
from .conversion import _as_tensor, _is_symbolic

__all__ = [
    "placeholder", "is_placeholder", "is_symbolic", "is_variable", "function", "gradients",
    "get_session", "set_session", "Session", "name_scope", "control_dependencies",
    "manual_variable_initialization", "backend", "symbolic", "eager", "image_dim_ordering",
    "set_image_dim_ordering", "pattern_broadcast", "get_variable_shape",
]

_ENGINE: Dict[str, Callable] = {}


def register_graph_engine(**impls: Callable) -> None:
    """Lets the engine supply ``placeholder`` / ``is_placeholder`` / ``function``."""
    _ENGINE.update(impls)


def _engine(name: str) -> Callable:
    if name not in _ENGINE:
        import tkeras.engine.k_function  # noqa: F401 - registers the implementations
    return _ENGINE[name]


def placeholder(shape: Optional[Sequence[Optional[int]]] = None, ndim: Optional[int] = None,
                dtype: Any = None, sparse: bool = False, name: Optional[str] = None):
    """A symbolic input tensor (an ``Input`` with the full shape, batch axis included).

    Args:
        shape: the shape, with None for unknown sizes, e.g. ``(None, 28, 28, 1)``.
        ndim: number of axes (all unknown) when ``shape`` is not given.
        dtype: its dtype (default ``floatx()``).
        sparse: sparse placeholders are not supported (ValueError).
        name: its name.

    Example:
        >>> x = K.placeholder(shape=(None, 3))
        >>> f = K.function([x], [K.sum(x * 2, axis=1)])
        >>> f([np.ones((2, 3))])[0]
        array([6., 6.], dtype=float32)
    """
    return _engine("placeholder")(shape=shape, ndim=ndim, dtype=dtype, sparse=sparse, name=name)


def is_placeholder(x: Any) -> bool:
    """Whether ``x`` is a placeholder (``K.placeholder`` or a model's ``Input``).

    Args:
        x: any object.
    """
    return _engine("is_placeholder")(x)


def is_symbolic(x: Any) -> bool:
    """Whether ``x`` is a symbolic tensor (a ``KerasTensor``).

    Args:
        x: any object.
    """
    return _is_symbolic(x)


def is_variable(x: Any) -> bool:
    """Whether ``x`` is a variable: a ``K.variable`` or a layer weight.

    Args:
        x: any object.
    """
    return isinstance(x, torch.nn.Parameter) or (isinstance(x, torch.Tensor) and
                                                 hasattr(x, "_keras_name"))


def function(inputs: Sequence[Any], outputs: Any, updates: Optional[Sequence[Any]] = None,
             name: Optional[str] = None, **kwargs):
    """A callable evaluating symbolic ``outputs`` from numpy values of ``inputs``.

    The graph is planned once here; each call runs it eagerly (with autograd only when it
    holds ``K.gradients`` nodes) and returns numpy arrays.

    Args:
        inputs: list of symbolic tensors (placeholders, ``model.inputs``, intermediate
            tensors) and optionally ``K.learning_phase()``, fed 0 (test) or 1 (train).
        outputs: a symbolic tensor or a list of them.
        updates: ``(variable, new_value)`` pairs and ``K.update`` / ``update_add`` /
            ``update_sub`` results; applied after the outputs are computed.
        name: optional name.

    Returns:
        ``f(list_of_arrays) -> list_of_arrays`` (one array for a single output).

    Example:
        >>> x = K.placeholder(shape=(None, 2))
        >>> total = K.variable(0.0)
        >>> f = K.function([x], [K.sum(x)], updates=[(total, total + K.sum(x))])
        >>> f([np.ones((3, 2))])
        [array(6., dtype=float32)]
    """
    return _engine("function")(inputs, outputs, updates=updates, name=name, **kwargs)


def gradients(loss: Any, variables: Any) -> List[torch.Tensor]:
    """Gradients of ``loss`` with respect to ``variables`` (``tf.gradients``'s sum over a
    non-scalar ``loss``); zeros for a variable ``loss`` does not depend on.

    On symbolic tensors this records a node (usable in ``K.function``); ``variables``
    may be placeholders, model inputs, layer outputs or weights.

    Args:
        loss: a scalar (or any) tensor.
        variables: a tensor or a list of tensors.

    Returns:
        A list of tensors, one per variable.

    Example:
        >>> x = K.placeholder(shape=(None, 3))
        >>> g = K.gradients(K.sum(K.square(x)), [x])[0]
        >>> K.function([x], [g])([np.ones((1, 3))])[0]
        array([[2., 2., 2.]], dtype=float32)
    """
    vs = list(variables) if isinstance(variables, (list, tuple)) else [variables]
    if not isinstance(loss, torch.Tensor) or not all(isinstance(v, torch.Tensor) for v in vs):
        raise TypeError("`gradients` expects tensors: a loss and a list of variables. Received: "
                        f"loss={loss!r}, variables={variables!r}")
    grad_outputs = None if loss.dim() == 0 else torch.ones_like(loss)
    grads = torch.autograd.grad(loss, vs, grad_outputs=grad_outputs, allow_unused=True,
                                retain_graph=True)
    if any(g is None for g in grads):
        return [torch.zeros_like(v) if g is None else g for v, g in zip(vs, grads)]
    return list(grads)


# ------------------------------------------------------------------ the session

class Session:
    """What ``K.get_session()`` returns: torch has no session, so ``run`` evaluates
    symbolic tensors with a ``K.function``.

    Args:
        config: optional object with ``intra_op_parallelism_threads`` /
            ``inter_op_parallelism_threads`` (a TF ``ConfigProto``); positive values are
            applied with ``torch.set_num_threads`` / ``torch.set_num_interop_threads``.
    """

    def __init__(self, config: Any = None, **kwargs):
        self.config = config
        intra = getattr(config, "intra_op_parallelism_threads", 0) or 0
        inter = getattr(config, "inter_op_parallelism_threads", 0) or 0
        if intra > 0:
            torch.set_num_threads(int(intra))
        if inter > 0:
            try:
                torch.set_num_interop_threads(int(inter))
            except RuntimeError:
                pass  # torch allows it only before the first parallel work
        self.graph = None

    def run(self, fetches: Any, feed_dict: Optional[Dict[Any, Any]] = None) -> Any:
        """Evaluates ``fetches`` (a symbolic tensor, a tensor or a list of them) with the
        values of ``feed_dict`` (``{placeholder: array}``)."""
        feed_dict = dict(feed_dict or {})
        if fetches is None:
            return None
        single = not isinstance(fetches, (list, tuple))
        flat = [fetches] if single else list(fetches)
        if not any(_is_symbolic(f) for f in flat):
            out = [f.detach().cpu().numpy() if isinstance(f, torch.Tensor) else f for f in flat]
        else:
            out = function(list(feed_dict), flat)(list(feed_dict.values()))
        return out[0] if single else out

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_SESSION: Optional[Any] = None


def get_session() -> Any:
    """The backend's session object: the one ``set_session`` kept, else a ``Session``
    (whose ``run(fetches, feed_dict)`` evaluates symbolic tensors like ``K.function``).
    """
    global _SESSION
    if _SESSION is None:
        _SESSION = Session()
    return _SESSION


def set_session(session: Any) -> None:
    """Keeps ``session`` as the object ``get_session()`` returns (a ``Session``, or any
    object with ``run``). Thread settings of its ``config`` are applied when it is a
    ``Session``.

    Args:
        session: the session object.
    """
    global _SESSION
    _SESSION = session


def _reset_session() -> None:
    global _SESSION
    _SESSION = None


config.register_clear_session_hook(_reset_session)


# ------------------------------------------------------------------ graph-era helpers

_MANUAL_VAR_INIT = False


def manual_variable_initialization(value: bool) -> None:
    """Keras 2's flag for initializing variables by hand. torch tensors hold their values
    from creation, so this only records the flag.

    Args:
        value: the flag.
    """
    global _MANUAL_VAR_INIT
    _MANUAL_VAR_INIT = bool(value)


@contextlib.contextmanager
def name_scope(name: str):
    """A context manager for Keras 2 code that groups ops under a name (TF's
    ``name_scope``); weights created by layers inside it are named as usual.

    Args:
        name: the scope's name.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name_scope` expects a non-empty string. Received: {name!r}")
    yield name


@contextlib.contextmanager
def control_dependencies(control_inputs: Optional[Sequence[Any]]):
    """TF's ``control_dependencies``: in eager torch, ops run in program order, so the
    ``control_inputs`` have already run when the block starts.

    Args:
        control_inputs: list of ops / tensors (or None).
    """
    yield


def backend() -> str:
    """The name of the backend: ``"torch"``."""
    return "torch"


def symbolic(func: Callable) -> Callable:
    """Keras 2.3's decorator for functions run in graph mode: returns ``func`` unchanged."""
    return func


def eager(func: Callable) -> Callable:
    """Keras 2.3's decorator for functions run eagerly: returns ``func`` unchanged."""
    return func


def image_dim_ordering() -> str:
    """Keras 1's name of the image data format: ``"tf"`` (channels_last) or ``"th"``
    (channels_first)."""
    return "th" if config.image_data_format() == "channels_first" else "tf"


def set_image_dim_ordering(dim_ordering: str) -> None:
    """Sets the image data format with Keras 1's names.

    Args:
        dim_ordering: ``"tf"`` (channels_last) or ``"th"`` (channels_first).
    """
    if dim_ordering not in ("tf", "th"):
        raise ValueError(f"Unknown dim_ordering: {dim_ordering!r}. Expected 'tf' or 'th'.")
    config.set_image_data_format("channels_first" if dim_ordering == "th" else "channels_last")


def pattern_broadcast(x: Any, broadcastable: Any) -> torch.Tensor:
    """Theano's broadcast pattern: torch broadcasts size-1 axes already; ``x`` unchanged.

    Args:
        x: a tensor.
        broadcastable: the pattern (unused).
    """
    return _as_tensor(x)


def get_variable_shape(x: Any) -> tuple:
    """The shape of a variable as a tuple of ints (Keras 2.2's name for ``int_shape``).

    Args:
        x: a variable or tensor.
    """
    if isinstance(x, torch.Tensor):
        return tuple(int(d) for d in x.shape)
    return tuple(x.shape)
