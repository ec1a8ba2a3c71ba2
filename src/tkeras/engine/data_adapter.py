"""Data adapters: every kind of training input behind one interface.

``fit`` / ``evaluate`` / ``predict`` accept numpy arrays and torch tensors (single, lists,
dicts keyed by input name), Python generators, ``tkeras.utils.Sequence`` and torch
``Dataset`` / ``DataLoader``. ``get_data_adapter`` picks the adapter; each adapter
yields ``Batch``es whose tensors are already on the model's device, as flat lists
aligned with the model's inputs and outputs (``data_spec.DataSpec`` does the matching and
the conversion to device tensors).

Arrays are converted to device tensors once (``ArrayAdapter``); each epoch draws one
device permutation and batches are slices of the permuted tensors.
"""
from __future__ import annotations

import inspect
import itertools
import math
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from .._warn import TkerasWarning
from ..backend import config
from ..utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer
from ..utils.data_utils import Sequence as KerasSequence
from .data_spec import NUMBERS, DataSpec, OptTensors, Tensors, to_tensor  # noqa: F401 - to_tensor: its old path

TensorGroup = Optional[Sequence[Optional[torch.Tensor]]]  # x, y or sample weights: read only

# Above this many bytes per epoch, batches are gathered one by one instead of permuting
# the whole dataset at the start of each epoch.
_WHOLE_EPOCH_GATHER_BYTES = 512 * 2 ** 20


class Batch:
    """One batch: inputs, targets and sample weights as lists aligned with the model.

    Attributes:
        x: input tensors, in the order of the model's inputs.
        y: target tensors, one per output (None where an output has no target), or None.
        sample_weight: weight tensors, one per output (or None entries), or None.
        size: the number of samples.
        x_keys: the dict keys of the inputs, for a model without an input graph that was
            given a dict (None otherwise).
    """

    __slots__ = ("x", "y", "sample_weight", "size", "x_keys")

    def __init__(self, x: Tensors, y: Optional[OptTensors], sample_weight: Optional[OptTensors],
                 x_keys: Optional[List[str]] = None):
        self.x = x
        self.y = y
        self.sample_weight = sample_weight
        self.size = _first_dim(x) or (_first_dim(y) if y else 0)
        self.x_keys = x_keys

    def model_input(self):
        """What the model is called with: one tensor, a list, or a dict (``x_keys``)."""
        if self.x_keys is not None:
            return dict(zip(self.x_keys, self.x))
        return self.x[0] if len(self.x) == 1 else self.x

    def keras_data(self):
        """The batch as a custom ``train_step`` receives it: ``x``, ``(x, y)`` or
        ``(x, y, sample_weight)`` (one target / weight per output, a list for several)."""
        y = sw = None
        if self.y is not None:
            y = self.y[0] if len(self.y) == 1 else list(self.y)
            if self.sample_weight is not None and any(w is not None for w in self.sample_weight):
                sw = self.sample_weight[0] if len(self.sample_weight) == 1 \
                    else list(self.sample_weight)
        return pack_x_y_sample_weight(self.model_input(), y, sw)


def _first_dim(tensors) -> int:
    for t in tensors or ():
        if isinstance(t, torch.Tensor) and t.dim():
            return int(t.shape[0])
    return 0


# ------------------------------------------------------------------ the adapters

class DataAdapter:
    """Interface: ``num_batches`` (per epoch, None if unknown), ``epoch()`` (an iterator
    over one epoch's ``Batch``es), ``on_epoch_end()`` and ``close()``."""

    num_batches: Optional[int] = None
    num_samples: Optional[int] = None

    def epoch(self) -> Iterator[Batch]:
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        pass

    def close(self) -> None:
        pass


class ArrayAdapter(DataAdapter):
    """In-memory data (numpy arrays, torch tensors, lists or dicts of them).

    The arrays become device tensors once; each epoch draws a permutation on the device
    (``shuffle=True``), shuffles whole batches (``'batch'``) or keeps the order.

    Args:
        x, y, sample_weight: flat lists of device tensors (``y`` / ``sample_weight`` hold
            None for outputs without targets / weights; ``y`` may be None).
        batch_size: samples per batch.
        shuffle: True, False or ``'batch'``.
        steps: batches per epoch; with it, batches continue where the previous epoch
            stopped, reshuffling at the end of each pass over the data.
    """

    num_samples: int  # always known

    def __init__(self, x: Tensors, y: Optional[OptTensors], sample_weight: Optional[OptTensors],
                 batch_size: int, shuffle=False, steps: Optional[int] = None,
                 x_keys: Optional[List[str]] = None):
        self._x, self._y, self._sw = x, y, sample_weight
        self._x_keys = x_keys
        self.num_samples = check_cardinality(x, y, sample_weight)
        if self.num_samples == 0:
            raise ValueError("Expected input data to be non-empty: the arrays passed hold 0 "
                             "samples.")
        self.batch_size = int(batch_size)
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"`shuffle` must be True, False or 'batch'. Received: "
                             f"shuffle={shuffle!r}")
        self.shuffle = shuffle
        self._pass_batches = math.ceil(self.num_samples / self.batch_size)
        self.num_batches = steps if steps is not None else self._pass_batches
        self._steps = steps
        self._stream: Optional[Iterator[Batch]] = None
        tensors = [t for t in x + (y or []) + (sample_weight or []) if t is not None]
        nbytes = sum(t.numel() * t.element_size() for t in tensors)
        self._gather_whole_epoch = nbytes <= _WHOLE_EPOCH_GATHER_BYTES
        # the permutation function: a process group replaces it (the same order on every rank)
        self.randperm: Callable[..., torch.Tensor] = torch.randperm

    def _order(self) -> Optional[torch.Tensor]:
        n, device = self.num_samples, self._x[0].device if self._x else torch.device("cpu")
        if self.shuffle is True:
            return self.randperm(n, device=device)
        if self.shuffle == "batch":
            full = n // self.batch_size
            blocks = self.randperm(full, device=device) if full else \
                torch.zeros(0, dtype=torch.long, device=device)
            index = (blocks[:, None] * self.batch_size +
                     torch.arange(self.batch_size, device=device)[None, :]).reshape(-1)
            return torch.cat([index, torch.arange(full * self.batch_size, n, device=device)])
        return None

    def _one_pass(self) -> Iterator[Batch]:
        order = self._order()
        groups = [self._x, self._y, self._sw]
        if order is not None and self._gather_whole_epoch:
            groups = [_gather(g, order) for g in groups]
            order = None
        bs = self.batch_size
        for start in range(0, self.num_samples, bs):
            stop = min(start + bs, self.num_samples)
            if order is None:
                x, y, sw = (_slice(g, start, stop) for g in groups)
            else:
                index = order[start:stop]
                x, y, sw = (_gather(g, index) for g in groups)
            yield Batch(x, y, sw, self._x_keys)

    def epoch(self) -> Iterator[Batch]:
        if self._steps is None:
            return self._one_pass()
        if self._stream is None:
            self._stream = itertools.chain.from_iterable(
                self._one_pass() for _ in itertools.count())
        return itertools.islice(self._stream, self._steps)


def _slice(group: TensorGroup, start: int, stop: int):
    if group is None:
        return None
    return [None if t is None else t[start:stop] for t in group]


def _gather(group: TensorGroup, index: torch.Tensor):
    if group is None:
        return None
    return [None if t is None else t.index_select(0, index) for t in group]


def check_cardinality(x: Tensors, y: Optional[OptTensors],
                      sample_weight: Optional[OptTensors]) -> int:
    """The common number of samples, or Keras's "Data cardinality is ambiguous" error."""
    sizes = {"x": [int(t.shape[0]) for t in x]}
    if y:
        sizes["y"] = [int(t.shape[0]) for t in y if t is not None]
    if sample_weight:
        sizes["sample_weight"] = [int(t.shape[0]) for t in sample_weight if t is not None]
    every = {n for values in sizes.values() for n in values}
    if len(every) > 1:
        lines = "\n".join(f"  {label} sizes: {', '.join(str(n) for n in values)}"
                          for label, values in sizes.items() if values)
        raise ValueError("Data cardinality is ambiguous:\n" + lines +
                         "\nMake sure all arrays contain the same number of samples.")
    return every.pop() if every else 0


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs data as ``fit`` passes it to ``train_step``: ``x`` alone (``(x,)`` when ``x`` is
    a tuple or list, so it cannot be read as ``(x, y)``), ``(x, y)`` or ``(x, y, sw)``.

    Example:
        >>> x, y = np.ones((2, 3)), np.zeros((2, 1))
        >>> data = pack_x_y_sample_weight(x, y)
        >>> unpack_x_y_sample_weight(data)[1] is y
        True
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data) -> Tuple[Any, Any, Any]:
    """A batch (a generator item, or the ``data`` of ``train_step``) as ``(x, y,
    sample_weight)``: a tuple (or list) of 1 to 3 entries, or anything else as ``x`` alone.

    Example:
        >>> x, y, sample_weight = unpack_x_y_sample_weight((np.ones((2, 3)), np.zeros(2)))
        >>> sample_weight is None
        True
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found a tuple of {len(data)} items.")


class _ConvertedBatches(DataAdapter):
    """Shared code of the adapters whose items are converted batch by batch."""

    def __init__(self, spec: DataSpec, n_outputs: Optional[int], with_targets: bool,
                 class_weight_fn: Optional[Callable] = None):
        self._spec = spec
        self._n_outputs = n_outputs
        self._with_targets = with_targets
        self._class_weight_fn = class_weight_fn

    def _convert(self, item) -> Batch:
        x, y, sw = unpack_x_y_sample_weight(item)
        xs, keys = self._spec.to_x(x), self._spec.x_keys(x)
        if not self._with_targets or y is None:
            return Batch(xs, None, None, keys)
        ys = self._spec.to_y(y)
        if self._spec.check_batch_targets is not None:
            self._spec.check_batch_targets(ys)
        sws = self._spec.to_sample_weight(sw, len(ys))
        if self._class_weight_fn is not None:
            sws = self._class_weight_fn(ys, sws)
        return Batch(xs, ys, sws, keys)


class GeneratorAdapter(_ConvertedBatches):
    """A Python generator (or iterator) of batches; one generator serves every epoch.

    Args:
        generator: yields ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.
        steps: batches per epoch; None reads until the generator is exhausted.
        workers: threads reading ahead (0 or 1 reads in the training thread).
        use_multiprocessing: see ``GeneratorEnqueuer``.
        max_queue_size: batches read ahead.
    """

    def __init__(self, generator, spec: DataSpec, n_outputs: Optional[int], with_targets: bool,
                 steps: Optional[int] = None, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10, class_weight_fn=None):
        super().__init__(spec, n_outputs, with_targets, class_weight_fn)
        self.num_batches = steps
        self._enqueuer = None
        if workers > 1 or use_multiprocessing:
            self._enqueuer = GeneratorEnqueuer(generator, use_multiprocessing=use_multiprocessing)
            self._enqueuer.start(workers=max(1, workers), max_queue_size=max_queue_size)
            self._source = self._enqueuer.get()
        else:
            self._source = iter(generator)

    def epoch(self) -> Iterator[Batch]:
        items = self._source if self.num_batches is None else \
            itertools.islice(self._source, self.num_batches)
        return (self._convert(item) for item in items)

    def close(self) -> None:
        if self._enqueuer is not None:
            self._enqueuer.stop()


class SequenceAdapter(_ConvertedBatches):
    """A ``tkeras.utils.Sequence``: ``len(sequence)`` batches per epoch (or ``steps``).

    With ``workers > 1`` or ``use_multiprocessing`` an ``OrderedEnqueuer`` prepares the
    batches (and calls ``on_epoch_end``); otherwise they are read in order (shuffled
    with ``shuffle=True``) and ``on_epoch_end`` is called after each epoch.
    """

    def __init__(self, sequence: KerasSequence, spec: DataSpec, n_outputs: Optional[int],
                 with_targets: bool, steps: Optional[int] = None, shuffle: bool = False,
                 workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10,
                 class_weight_fn=None):
        super().__init__(spec, n_outputs, with_targets, class_weight_fn)
        self._sequence = sequence
        length = len(sequence)
        if length == 0:
            raise ValueError("Expected input data to be non-empty: the Sequence has length 0.")
        self.num_batches = steps if steps is not None else length
        self._shuffle = bool(shuffle)
        self.permutation: Callable[[int], Any] = np.random.permutation  # see ArrayAdapter
        self._enqueuer = None
        self._stream: Optional[Iterator[Any]] = None
        if workers > 1 or use_multiprocessing:
            self._enqueuer = OrderedEnqueuer(sequence, use_multiprocessing=use_multiprocessing,
                                             shuffle=self._shuffle)
            self._enqueuer.start(workers=max(1, workers), max_queue_size=max_queue_size)
            self._stream = self._enqueuer.get()

    def _in_thread_stream(self) -> Iterator[Any]:
        while True:
            order = self.permutation(len(self._sequence)) if self._shuffle \
                else range(len(self._sequence))
            for i in order:
                yield self._sequence[int(i)]
            if self.num_batches == len(self._sequence):
                return  # one epoch: on_epoch_end is called by the training loop
            self._sequence.on_epoch_end()

    def epoch(self) -> Iterator[Batch]:
        if self._stream is None:
            if self.num_batches == len(self._sequence):
                items: Iterator[Any] = self._in_thread_stream()
            else:
                self._stream = self._in_thread_stream()
                items = itertools.islice(self._stream, self.num_batches)
        else:
            items = itertools.islice(self._stream, self.num_batches)
        return (self._convert(item) for item in items)

    def on_epoch_end(self) -> None:
        if self._enqueuer is None and self._stream is None:
            self._sequence.on_epoch_end()

    def close(self) -> None:
        if self._enqueuer is not None:
            self._enqueuer.stop()


class TorchDataAdapter(_ConvertedBatches):
    """A torch ``DataLoader`` (used as is) or ``Dataset`` (batched with ``batch_size``).

    Dataset items are ``x`` or tuples ``(x, y[, sample_weight])``; torch's default
    collation stacks them into batches.
    """

    def __init__(self, data, spec: DataSpec, n_outputs: Optional[int], with_targets: bool,
                 batch_size: Optional[int] = None, shuffle=False, steps: Optional[int] = None,
                 class_weight_fn=None):
        super().__init__(spec, n_outputs, with_targets, class_weight_fn)
        if isinstance(data, DataLoader):
            loader = data
        else:
            iterable = isinstance(data, IterableDataset)
            loader = DataLoader(data, batch_size=batch_size or 32,
                                shuffle=bool(shuffle) and not iterable)
        self._loader = loader
        try:
            length = len(loader)
        except TypeError:
            length = None
        if length == 0:
            raise ValueError("Expected input data to be non-empty: the DataLoader yields no "
                             "batches.")
        self.num_batches = steps if steps is not None else length
        self._steps = steps
        self._stream: Optional[Iterator[Any]] = None

    def epoch(self) -> Iterator[Batch]:
        if self._steps is None:
            items: Iterator[Any] = iter(self._loader)
        else:
            if self._stream is None:
                self._stream = itertools.chain.from_iterable(
                    iter(self._loader) for _ in itertools.count())
            items = itertools.islice(self._stream, self._steps)
        return (self._convert(item) for item in items)


# ------------------------------------------------------------------ choosing an adapter

def is_generator_like(data) -> bool:
    return inspect.isgenerator(data) or (hasattr(data, "__next__") and hasattr(data, "__iter__")
                                         and not isinstance(data, (np.ndarray, torch.Tensor)))


def is_torch_data(data) -> bool:
    return isinstance(data, (DataLoader, Dataset)) and not isinstance(data, KerasSequence)


def is_array_like(data) -> bool:
    """numpy / torch arrays, or lists / tuples / dicts of them."""
    if isinstance(data, (np.ndarray, torch.Tensor)):
        return True
    if isinstance(data, dict):
        return all(v is None or is_array_like(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        if data and all(isinstance(d, NUMBERS) for d in data):
            return True  # a plain list of numbers
        return all(d is None or is_array_like(d) for d in data)
    return hasattr(data, "__array__")


def make_array_tensors(spec: DataSpec, x, y, sample_weight, with_targets: bool
                       ) -> Tuple[Tensors, Optional[OptTensors], Optional[OptTensors]]:
    """Converts in-memory data to device tensors (once per ``fit``)."""
    xs = spec.to_x(x)
    if not with_targets:
        return xs, None, None
    if y is None:
        return xs, None, None
    ys = spec.to_y(y)
    sws = spec.to_sample_weight(sample_weight, len(ys))
    return xs, ys, sws


def class_weight_table(class_weight: Dict[Any, float], device: torch.device) -> torch.Tensor:
    """``class_weight`` as a lookup tensor indexed by class (keys 0 .. n-1, as Keras needs)."""
    try:
        keys = sorted(int(k) for k in class_weight)
    except (TypeError, ValueError):
        raise ValueError("Expected `class_weight` to be a dict with integer class keys. "
                         f"Received: class_weight={class_weight!r}") from None
    if keys != list(range(len(keys))):
        raise ValueError("Expected `class_weight` to be a dict with keys from 0 to one less "
                         f"than the number of classes, found {class_weight}")
    values = [float(class_weight[k]) if k in class_weight else float(class_weight[str(k)])
              for k in keys]
    return torch.tensor(values, dtype=config.torch_dtype(), device=device)


def class_indices(y: torch.Tensor) -> torch.Tensor:
    """The class of each sample: argmax of one-hot targets, else the (rounded) label."""
    if y.dim() == 2 and y.shape[1] > 1:
        return torch.argmax(y, dim=1)
    return torch.round(y.reshape(y.shape[0], -1)[:, 0]).long() if y.is_floating_point() \
        else y.reshape(y.shape[0], -1)[:, 0].long()


def make_class_weight_fn(class_weight: Optional[Dict[Any, float]], n_outputs: Optional[int],
                         device: torch.device, check: bool = False):
    """A function ``(ys, sws) -> sws`` multiplying sample weights by class weights."""
    if not class_weight:
        return None
    if n_outputs is not None and n_outputs > 1:
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    table = class_weight_table(class_weight, device)

    def apply(ys: OptTensors, sws: OptTensors) -> OptTensors:
        y = ys[0]
        if y is None:
            raise ValueError("`class_weight` needs the targets `y`; received None.")
        classes = class_indices(y)
        if check:
            found = torch.unique(classes).tolist()
            missing = [c for c in found if not 0 <= c < table.shape[0]]
            if missing:
                raise ValueError(f"`class_weight` must contain all classes in the data. The "
                                 f"classes {set(missing)} exist in the data but not in "
                                 "`class_weight`.")
        weights = table[classes]
        sw = sws[0]
        if sw is not None:
            if sw.dim() > 1:  # temporal weights: one class weight per sample, every step
                weights = weights.reshape(-1, *[1] * (sw.dim() - 1))
            weights = sw * weights
        return [weights] + list(sws[1:])

    return apply


def get_data_adapter(data, y, sample_weight, spec: DataSpec, *, batch_size: Optional[int],
                     shuffle, steps: Optional[int], with_targets: bool, n_outputs: Optional[int],
                     class_weight=None, workers: int = 1, use_multiprocessing: bool = False,
                     max_queue_size: int = 10, what: str = "x",
                     steps_name: str = "steps") -> DataAdapter:
    """The adapter for ``data`` (and, for arrays, ``y`` / ``sample_weight``).

    Args:
        data: the ``x`` argument: arrays, a generator, a Sequence, a Dataset or DataLoader.
        y: targets (arrays only; other kinds yield them with the inputs).
        sample_weight: sample weights (arrays only).
        spec: the model's ``DataSpec``.
        batch_size: samples per batch (arrays and Datasets).
        shuffle: True, False or ``'batch'``.
        steps: batches per epoch (None: one pass over the data).
        with_targets: whether targets are needed (False for ``predict``).
        n_outputs: the number of model outputs, if known.
        class_weight: ``{class: weight}`` for single-output models.
        workers, use_multiprocessing, max_queue_size: for generators and Sequences.
        what: the argument's name, for error messages.
        steps_name: the name of the ``steps`` argument, for error messages.
    """
    if data is None:
        raise ValueError(f"No data provided: `{what}` is None.")
    non_array = isinstance(data, KerasSequence) or is_torch_data(data) or is_generator_like(data)
    if non_array and (y is not None or sample_weight is not None):
        raise ValueError(f"`y` and `sample_weight` arguments are not supported when `{what}` is "
                         f"a {type(data).__name__}: it must yield `(x, y)` or "
                         "`(x, y, sample_weight)` itself.")
    device = spec.device
    class_weight_fn = make_class_weight_fn(class_weight, n_outputs, device)
    if isinstance(data, KerasSequence):
        return SequenceAdapter(data, spec, n_outputs, with_targets, steps=steps, shuffle=shuffle,
                               workers=workers, use_multiprocessing=use_multiprocessing,
                               max_queue_size=max_queue_size, class_weight_fn=class_weight_fn)
    if is_torch_data(data):
        adapter = TorchDataAdapter(data, spec, n_outputs, with_targets, batch_size=batch_size,
                                   shuffle=shuffle, steps=steps, class_weight_fn=class_weight_fn)
        if adapter.num_batches is None:
            raise ValueError(_needs_steps(steps_name, "a torch DataLoader without a length"))
        return adapter
    if is_generator_like(data):
        if steps is None:
            if not hasattr(data, "__len__"):
                raise ValueError(_needs_steps(steps_name))
            steps = len(data)
        return GeneratorAdapter(data, spec, n_outputs, with_targets, steps=steps, workers=workers,
                                use_multiprocessing=use_multiprocessing,
                                max_queue_size=max_queue_size, class_weight_fn=class_weight_fn)
    if not is_array_like(data):
        raise ValueError(f"Failed to find data adapter that can handle input: {type(data)}. "
                         "Expected numpy arrays, torch tensors, lists or dicts of them, a "
                         "generator, a `tkeras.utils.Sequence` or a torch Dataset / DataLoader.")
    xs, ys, sws = make_array_tensors(spec, data, y, sample_weight, with_targets)
    if ys is not None and class_weight:
        fn = make_class_weight_fn(class_weight, len(ys), device, check=True)
        sws = fn(ys, sws)
    arrays = ArrayAdapter(xs, ys, sws, batch_size=batch_size or 32, shuffle=shuffle,
                          steps=steps, x_keys=spec.x_keys(data))
    if spec.stateful and arrays.num_samples % arrays.batch_size:
        raise ValueError("In a stateful network, you should only pass inputs with a number of "
                         "samples that can be divided by the batch size. Found: "
                         f"{arrays.num_samples} samples (batch size {arrays.batch_size}, "
                         f"`{what}`).")
    return arrays


def _needs_steps(steps_name: str, received: str = "") -> str:
    """Keras 2's error for data of unknown length without a number of steps (reading it
    until it ends would never return for an endless generator)."""
    message = (f"`{steps_name}=None` is only valid for a generator based on the "
               f"`keras.utils.Sequence` class. Please specify `{steps_name}` or use the "
               "`keras.utils.Sequence` class.")
    if received:
        message += f" Received {received}."
    return message


def split_tensors(group: TensorGroup, at: int):
    """(first ``at`` samples, the rest) of each tensor of a group."""
    if group is None:
        return None, None
    return ([None if t is None else t[:at] for t in group],
            [None if t is None else t[at:] for t in group])


def warn_out_of_data(steps: Optional[int], epochs: int) -> None:
    warnings.warn("Your input ran out of data; interrupting training. Make sure that your "
                  "dataset or generator can generate at least `steps_per_epoch * epochs` "
                  f"batches (in this case, {steps} * {epochs} batches).", TkerasWarning,
                  stacklevel=3)
