"""How user data maps onto a model: ``DataSpec`` matches inputs, targets and sample
weights to the model's inputs and outputs (lists, dicts keyed by name) and ``to_tensor``
turns each array into a device tensor of the right dtype, refusing complex values and
ragged lists with a message that says where."""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

import numpy as np
import torch

from ..backend import config

Tensors = List[torch.Tensor]
OptTensors = List[Optional[torch.Tensor]]


class DataSpec:
    """How user data maps onto a model: input / output names and input dtypes.

    Args:
        model: the model (its ``input_names`` / ``output_names`` when it has a graph).
        device: where the tensors go.
    """

    def __init__(self, model, device: torch.device):
        self.device = device
        # set by the training loop: checks the targets of each converted batch
        self.check_batch_targets: Optional[Callable[[OptTensors], None]] = None
        graph = getattr(model, "_is_graph_network", False) and getattr(model, "inputs", None)
        self.input_names: Optional[List[str]] = list(model.input_names) if graph else None
        self.output_names: Optional[List[str]] = list(model.output_names) if graph else None
        self.input_dtypes: Optional[List[Optional[str]]] = \
            [t.dtype for t in model.inputs] if graph else None
        self.model_name = model.name
        flatten_layers = getattr(model, "_flatten_layers", None)
        self.stateful = flatten_layers is not None and any(
            getattr(layer, "stateful", False) for layer in flatten_layers(include_self=False))

    def x_keys(self, x) -> Optional[List[str]]:
        """The keys of dict inputs of a model that has no input names (passed as a dict)."""
        return list(x) if isinstance(x, dict) and self.input_names is None else None

    def flatten_x(self, x) -> List[Any]:
        """``x`` as a list in the order of the model's inputs (dicts matched by name)."""
        names = self.input_names
        if isinstance(x, dict):
            if names is None:
                return list(x.values())
            unknown = [k for k in x if k not in names]
            if unknown:
                raise ValueError(
                    f"Unknown input name(s) {unknown} in the data passed to model "
                    f'"{self.model_name}". Expected the following keys: {names}')
            missing = [n for n in names if n not in x]
            if missing:
                raise ValueError(
                    f'Missing data for input "{missing[0]}". You passed a data dictionary with '
                    f"keys {list(x)}. Expected the following keys: {names}")
            return [x[n] for n in names]
        one_array = _is_number_list(x) or (_is_nested_list(x) and names is not None
                                           and len(names) == 1)
        flat = list(x) if isinstance(x, (list, tuple)) and not one_array else [x]
        if names is not None and len(flat) != len(names):
            raise ValueError(
                f'Layer "{self.model_name}" expects {len(names)} input(s), but it received '
                f"{len(flat)} input tensors. Inputs received: {_describe(flat)}")
        return flat

    def flatten_y(self, y, what: str = "target") -> List[Any]:
        """Targets (or sample weights) as a list with one entry per output."""
        names = self.output_names
        if isinstance(y, dict):
            if names is None:
                return list(y.values())
            unknown = [k for k in y if k not in names]
            if unknown:
                raise ValueError(f"Unknown output name(s) {unknown} in the {what} data of model "
                                 f'"{self.model_name}". Expected keys among: {names}')
            return [y.get(n) for n in names]
        one_array = _is_number_list(y) or (_is_nested_list(y) and names is not None
                                           and len(names) == 1)
        flat = list(y) if isinstance(y, (list, tuple)) and not one_array else [y]
        if names is not None and len(flat) != len(names):
            if what == "target" or len(flat) != 1:
                raise ValueError(
                    f'Model "{self.model_name}" has {len(names)} output(s) {names}, but the '
                    f"{what} data holds {len(flat)} array(s). Pass one {what} array per "
                    "output (a list, or a dict keyed by output name).")
            flat = flat * len(names)  # one sample-weight array shared by every output
        return flat

    def x_dtypes(self, n: int) -> List[Optional[torch.dtype]]:
        if self.input_dtypes is None:
            return [None] * n
        return [config.torch_dtype(d) if d else None for d in self.input_dtypes]

    def to_x(self, x) -> Tensors:
        flat = self.flatten_x(x)
        return [to_tensor(v, self.device, dtype, "input", self._label("input", i))
                for i, (v, dtype) in enumerate(zip(flat, self.x_dtypes(len(flat))))]

    def _label(self, what: str, index: int) -> str:
        names = self.input_names if what == "input" else self.output_names
        name = f' "{names[index]}"' if names is not None and index < len(names) else ""
        return f"{what} {index}{name} of model \"{self.model_name}\""

    def to_y(self, y) -> OptTensors:
        return [None if v is None else to_tensor(v, self.device, None, "target",
                                                 self._label("target", i))
                for i, v in enumerate(self.flatten_y(y))]

    def to_sample_weight(self, sample_weight, n_outputs: int) -> OptTensors:
        if sample_weight is None:
            return [None] * n_outputs
        flat = self.flatten_y(sample_weight, "sample_weight")
        if self.output_names is None and len(flat) == 1 and n_outputs > 1:
            flat = flat * n_outputs
        return [None if v is None else to_tensor(v, self.device, None, "sample_weight")
                for v in flat]


NUMBERS = (int, float, complex, np.number, bool)


def _is_number_list(y) -> bool:
    return isinstance(y, (list, tuple)) and bool(y) and isinstance(y[0], NUMBERS)


def _is_nested_list(x) -> bool:
    """A list of plain Python lists (rows of numbers), not a list of arrays."""
    return isinstance(x, (list, tuple)) and bool(x) and \
        all(isinstance(row, (list, tuple)) for row in x)


def _describe(flat: List[Any]) -> str:
    return "[" + ", ".join(f"{type(v).__name__} of shape {tuple(np.shape(v))}" for v in flat) + "]"


def to_tensor(value, device: torch.device, dtype: Optional[torch.dtype], what: str,
              label: Optional[str] = None) -> torch.Tensor:
    """A device tensor for ``value``.

    Inputs take the dtype of their ``Input`` (floats default to ``floatx``, integers to
    int64); targets and sample weights become ``floatx`` (Keras 2 casts integer labels).
    Complex values and ragged nested lists are refused (``label`` names the data).
    """
    label = label or f"{what} data"
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.is_complex():
            raise TypeError(_complex_message(label, t.dtype))
    else:
        arr = _as_array(value, label)
        if arr.dtype.kind == "c":
            raise TypeError(_complex_message(label, arr.dtype))
        if arr.dtype == object or arr.dtype.kind in "USO":
            raise TypeError(f"Failed to convert the {what} data to a tensor: unsupported "
                            f"array dtype {arr.dtype}. Expected numeric arrays.")
        if arr.dtype == np.uint16 or arr.dtype == np.uint32 or arr.dtype == np.uint64:
            arr = arr.astype(np.int64)
        t = torch.from_numpy(np.ascontiguousarray(arr))
    dtype = _input_dtype(t, dtype) if what == "input" else config.torch_dtype()
    if t.dim() == 0:
        raise ValueError(f"Expected an array with a batch dimension for the {what} data, "
                         f"received a scalar: {value!r}")
    return t.to(device=device, dtype=dtype, non_blocking=True)


def _complex_message(label: str, dtype) -> str:
    return (f"Failed to convert the {label} to a tensor: complex values are not supported "
            f"(received dtype {dtype}). Pass real numbers (for example the real and "
            "imaginary parts as two features).")


def _as_array(value, label: str) -> np.ndarray:
    """``np.asarray(value)``; a ragged nested list says which rows differ."""
    try:
        arr = np.asarray(value)
    except ValueError as error:
        ragged = _ragged_rows(value)
        if ragged is None:
            raise
        raise ValueError(f"The {label} is a ragged list: {ragged}. Every row must have the "
                         "same length: pad the rows (e.g. with "
                         "`tkeras.preprocessing.sequence.pad_sequences`) or pass an array.") \
            from error
    if arr.dtype == object and isinstance(value, (list, tuple)):
        ragged = _ragged_rows(value)
        if ragged is not None:
            raise ValueError(f"The {label} is a ragged list: {ragged}. Every row must have "
                             "the same length: pad the rows (e.g. with "
                             "`tkeras.preprocessing.sequence.pad_sequences`) or pass an array.")
    return arr


def _ragged_rows(value) -> Optional[str]:
    """Where a nested list is ragged, level by level: ``"row 0 has 3 values but row 2 has
    2"`` (``row [1][0]`` ... below the first level), or None."""
    sequences = (list, tuple, np.ndarray)

    def row(path: Tuple[int, ...]) -> str:
        return f"row {path[0]}" if len(path) == 1 else \
            "row " + "".join(f"[{j}]" for j in path)

    level: List[Tuple[Tuple[int, ...], Any]] = \
        [((i,), r) for i, r in enumerate(value)] if isinstance(value, sequences) else []
    while level:
        rows = [(p, r) for p, r in level if isinstance(r, sequences)]
        if not rows:
            return None
        if len(rows) != len(level):
            plain = next(p for p, r in level if not isinstance(r, sequences))
            return (f"{row(rows[0][0])} is a sequence of {len(rows[0][1])} values but "
                    f"{row(plain)} is a single value")
        first_path, first = rows[0]
        for path, r in rows[1:]:
            if len(r) != len(first):
                return f"{row(first_path)} has {len(first)} values but {row(path)} has {len(r)}"
        level = [(p + (i,), item) for p, r in rows for i, item in enumerate(r)]
    return None


def _input_dtype(t: torch.Tensor, declared: Optional[torch.dtype]) -> torch.dtype:
    """The dtype of an input: its ``Input``'s float or bool dtype, int64 for integer inputs
    (and, without a declared dtype, integer data), ``floatx`` for float data."""
    if declared is not None:
        return declared if declared.is_floating_point or declared == torch.bool else torch.int64
    if t.is_floating_point():
        return config.torch_dtype()
    return torch.bool if t.dtype == torch.bool else torch.int64
