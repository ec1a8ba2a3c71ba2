"""``EpochIterator``: the data of one ``fit`` / ``evaluate`` / ``predict`` call, epoch by epoch.

It carries the data options (``x``, ``y``, ``sample_weight``, ``class_weight``,
``batch_size``, ``steps``, ``shuffle``, ``initial_epoch`` / ``epochs``, ``workers``,
``use_multiprocessing``, ``max_queue_size``), picks the data adapter once and serves
``Batch``es whose tensors are already on the model's device (arrays are moved to the
device once per call). The training loops only ask it for epochs and batches::

    train = EpochIterator(spec, x, y, batch_size=32, epochs=3, shuffle=True)
    for epoch in train.enumerate_epochs():
        for step, batch in train.enumerate_batches():
            ...
        train.on_epoch_end()
    train.close()
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

from . import data_adapter as da

TargetCheck = Callable[[Any], None]


class EpochIterator:
    """The batches of one ``fit`` / ``evaluate`` / ``predict`` call, one epoch at a time.

    Args:
        spec: how the data maps onto the model (``DataSpec``).
        x: inputs: arrays / tensors (a list or dict for several inputs), a generator, a
            ``Sequence``, a torch ``Dataset`` / ``DataLoader``.
        y: targets (arrays only).
        sample_weight: per-sample weights (arrays only).
        batch_size: samples per batch (arrays and Datasets; default 32).
        steps: batches per epoch (default: one pass over the data).
        shuffle: True, False or ``'batch'``.
        class_weight: ``{class: weight}`` for single-output models.
        initial_epoch: the first epoch's index.
        epochs: one more than the last epoch's index.
        workers, use_multiprocessing, max_queue_size: for generators and Sequences.
        with_targets: whether targets are read (False for ``predict``).
        what: the argument's name in error messages (``"x"``, ``"validation_data"``).
        steps_name: the name of ``steps`` in error messages (``"steps_per_epoch"``).
        check_targets: called once with the target tensors of array data.
        adapter: an adapter made elsewhere (the two halves of ``validation_split``).

    Example:
        >>> spec = DataSpec(model, torch.device("cpu"))
        >>> it = EpochIterator(spec, x, y, batch_size=16)
        >>> [batch.size for _, batch in it.enumerate_batches()]
        [16, 16, 8]
    """

    def __init__(self, spec: da.DataSpec, x=None, y=None, sample_weight=None, *,
                 batch_size: Optional[int] = None, steps: Optional[int] = None, shuffle=False,
                 class_weight: Optional[Dict[Any, float]] = None, initial_epoch: int = 0,
                 epochs: int = 1, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10, with_targets: bool = True, what: str = "x",
                 steps_name: str = "steps", check_targets: Optional[TargetCheck] = None,
                 adapter: Optional[da.DataAdapter] = None):
        check_integer("batch_size", batch_size, minimum=1, optional=True)
        check_integer("epochs", epochs, minimum=0)
        check_integer("initial_epoch", initial_epoch, minimum=0)
        self.initial_epoch = int(initial_epoch)
        self.epochs = int(epochs)
        self.batch_size = batch_size
        if adapter is None:
            n_outputs = len(spec.output_names) if spec.output_names is not None else None
            adapter = da.get_data_adapter(
                x, y, sample_weight, spec, batch_size=batch_size, shuffle=shuffle, steps=steps,
                with_targets=with_targets, n_outputs=n_outputs, class_weight=class_weight,
                workers=workers, use_multiprocessing=use_multiprocessing,
                max_queue_size=max_queue_size, what=what, steps_name=steps_name)
            if check_targets is not None and isinstance(adapter, da.ArrayAdapter):
                check_targets(adapter._y)
        self._adapter = adapter

    @property
    def num_batches(self) -> Optional[int]:
        """Batches per epoch (None when unknown)."""
        return self._adapter.num_batches

    @property
    def num_samples(self) -> Optional[int]:
        """Samples of array data (None for other kinds)."""
        return self._adapter.num_samples

    def enumerate_epochs(self) -> Iterator[int]:
        """The epoch indices, ``initial_epoch`` to ``epochs - 1``."""
        return iter(range(self.initial_epoch, self.epochs))

    def enumerate_batches(self) -> Iterator[Tuple[int, da.Batch]]:
        """``(step, batch)`` for one epoch."""
        return enumerate(self._adapter.epoch())

    def on_epoch_end(self) -> None:
        self._adapter.on_epoch_end()

    def close(self) -> None:
        """Stops worker threads / processes."""
        self._adapter.close()

    def __enter__(self) -> "EpochIterator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_integer(name: str, value: Any, minimum: int, optional: bool = False) -> None:
    """Raises Keras-style errors unless ``value`` is an integer >= ``minimum`` (or None when
    ``optional``): a TypeError for another type, a ValueError for a value out of range."""
    if value is None and optional:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r} "
                        f"(of type {type(value).__name__}).")
    if value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ValueError(f"`{name}` must be {kind} integer. Received: {name}={value}")


def check_validation_split(validation_split: Any) -> None:
    """``validation_split`` must be a number in ``[0, 1)``."""
    if not isinstance(validation_split, numbers.Real) or isinstance(validation_split, bool):
        raise TypeError("`validation_split` must be a float between 0 and 1. Received: "
                        f"validation_split={validation_split!r} "
                        f"(of type {type(validation_split).__name__}).")
    if not 0 <= validation_split < 1:
        raise ValueError("`validation_split` must be a float between 0 and 1 (0 included, 1 "
                         f"excluded). Received: validation_split={validation_split}")


def unpack_validation_data(validation_data) -> Tuple[Any, Any, Any]:
    """``validation_data`` as ``(x, y, sample_weight)``."""
    if isinstance(validation_data, (tuple, list)):
        if len(validation_data) not in (2, 3):
            raise ValueError(
                "When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
                "(x_val, y_val, val_sample_weights) items, however it contains "
                f"{len(validation_data)} items")
        vx, vy = validation_data[0], validation_data[1]
        vsw = validation_data[2] if len(validation_data) == 3 else None
        return vx, vy, vsw
    return validation_data, None, None


def fit_iterators(spec: da.DataSpec, *, validation_split: float = 0.0, validation_data=None,
                  validation_steps: Optional[int] = None,
                  validation_batch_size: Optional[int] = None,
                  check_targets: Optional[TargetCheck] = None,
                  **options) -> Tuple[EpochIterator, Optional[EpochIterator]]:
    """The training and validation ``EpochIterator``s of ``fit``.

    Args:
        spec: the model's ``DataSpec``.
        validation_split: fraction of the array data (the last samples) held out.
        validation_data: ``(x, y[, sample_weight])`` or a generator / Sequence / DataLoader.
        validation_steps: validation batches (default: all the validation data).
        validation_batch_size: default ``batch_size``.
        check_targets: called once with array targets (shapes against the outputs).
        **options: the ``EpochIterator`` arguments of the training data.
    """
    check_validation_split(validation_split)
    check_integer("batch_size", options.get("batch_size"), minimum=1, optional=True)
    check_integer("validation_batch_size", validation_batch_size, minimum=1, optional=True)
    if validation_split and validation_data is None:
        return _split_for_validation(spec, validation_split, validation_batch_size,
                                     check_targets, **options)
    train = EpochIterator(spec, check_targets=check_targets, steps_name="steps_per_epoch",
                          **options)
    if validation_data is None:
        return train, None
    vx, vy, vsw = unpack_validation_data(validation_data)
    try:
        val = EpochIterator(
            spec, vx, vy, vsw, batch_size=validation_batch_size or options.get("batch_size"),
            steps=validation_steps, workers=options.get("workers", 1),
            use_multiprocessing=options.get("use_multiprocessing", False),
            max_queue_size=options.get("max_queue_size", 10), what="validation_data",
            steps_name="validation_steps", check_targets=check_targets)
    except BaseException:
        train.close()
        raise
    return train, val


def _split_for_validation(spec: da.DataSpec, validation_split: float,
                          validation_batch_size: Optional[int],
                          check_targets: Optional[TargetCheck], *, x=None, y=None,
                          sample_weight=None, batch_size: Optional[int] = None,
                          steps: Optional[int] = None, shuffle=True, class_weight=None,
                          **options) -> Tuple[EpochIterator, EpochIterator]:
    if not (da.is_array_like(x) and (y is None or da.is_array_like(y))):
        raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays, "
                         f"found following types in the input: {type(x).__name__}")
    xs, ys, sws = da.make_array_tensors(spec, x, y, sample_weight, True)
    n = da.check_cardinality(xs, ys, sws)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it "
            "into a validation and training set as specified by `validation_split="
            f"{validation_split}`. Either provide more data, or a different value for the "
            "`validation_split` argument.")
    (tx, vx), (ty, vy), (tsw, vsw) = (da.split_tensors(g, split_at) for g in (xs, ys, sws))
    if check_targets is not None:
        check_targets(ty)
    if ty is not None and class_weight:
        tsw = da.make_class_weight_fn(class_weight, len(ty), spec.device, check=True)(ty, tsw)
    keys = spec.x_keys(x)
    epochs = dict(initial_epoch=options.get("initial_epoch", 0), epochs=options.get("epochs", 1))
    check_integer("epochs", epochs["epochs"], minimum=0)
    train = da.ArrayAdapter(tx, ty, tsw, batch_size=batch_size or 32, shuffle=shuffle,
                            steps=steps, x_keys=keys)
    val = da.ArrayAdapter(vx, vy, vsw, batch_size=validation_batch_size or batch_size or 32,
                          x_keys=keys)
    return (EpochIterator(spec, adapter=train, batch_size=batch_size, **epochs),
            EpochIterator(spec, adapter=val))
