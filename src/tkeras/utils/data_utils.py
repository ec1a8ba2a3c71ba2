"""Data feeding utilities: ``Sequence`` and the enqueuers that prefetch batches in workers.

``OrderedEnqueuer`` runs ``Sequence.__getitem__`` in a pool of threads or processes and
yields the batches in order; ``GeneratorEnqueuer`` pulls from a Python generator in
background threads. Both keep at most ``max_queue_size`` batches ready.
``get_file`` / ``validate_file`` (downloads and the ``~/.keras`` cache) live in
``file_utils`` and are importable from here, as in Keras.
"""
from __future__ import annotations

import multiprocessing
import queue
import random
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Iterator, List, Optional

import numpy as np

from .._warn import TkerasWarning
from .file_utils import _extract_archive, _hash_file, get_file, validate_file  # noqa: F401


class Sequence:
    """Base class for datasets that know their length and give batches by index.

    Every ``Sequence`` implements ``__getitem__(index)`` (the batch ``index``, a tuple
    ``(x, y)`` or ``(x, y, sample_weight)``) and ``__len__`` (the number of batches).
    ``on_epoch_end`` is called after each epoch (e.g. to reshuffle). Because batches are
    requested by index, a Sequence is safe with several workers: each batch is used
    exactly once per epoch.

    Example:
        >>> class CIFAR10Sequence(Sequence):
        ...     def __init__(self, x_set, y_set, batch_size):
        ...         self.x, self.y = x_set, y_set
        ...         self.batch_size = batch_size
        ...     def __len__(self):
        ...         return int(np.ceil(len(self.x) / float(self.batch_size)))
        ...     def __getitem__(self, idx):
        ...         sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        ...         return self.x[sl], self.y[sl]
    """

    def __getitem__(self, index: int):
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""

    def __iter__(self) -> Iterator[Any]:
        """Yields the batches in order (one pass)."""
        for i in range(len(self)):
            yield self[i]


class SequenceEnqueuer:
    """Base class of the enqueuers: ``start``, ``get``, ``stop``, ``is_running``.

    Args:
        sequence: a ``Sequence`` (or, for ``GeneratorEnqueuer``, a generator).
        use_multiprocessing: use processes instead of threads.
    """

    def __init__(self, sequence, use_multiprocessing: bool = False):
        self.sequence = sequence
        self.use_multiprocessing = use_multiprocessing
        self.workers = 0
        self.queue: Optional[queue.Queue] = None
        self._stop_event: Optional[threading.Event] = None
        self._thread: Optional[threading.Thread] = None

    def is_running(self) -> bool:
        return self._stop_event is not None and not self._stop_event.is_set()

    def start(self, workers: int = 1, max_queue_size: int = 10) -> None:
        """Starts the workers.

        Args:
            workers: number of worker threads or processes.
            max_queue_size: the most batches kept ready at once.
        """
        if workers < 1:
            raise ValueError(f"`workers` must be at least 1. Received: workers={workers}")
        self.workers = workers
        self.queue = queue.Queue(max(1, int(max_queue_size)))
        self._stop_event = threading.Event()
        self._thread = threading.Thread(target=self._produce, daemon=True)
        self._thread.start()

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stops the workers and waits (at most ``timeout`` seconds) for them to end."""
        if self._stop_event is None:
            return
        self._stop_event.set()
        self._drain()
        if self._thread is not None:
            self._thread.join(timeout)
        self._drain()
        self._thread = None

    def _drain(self) -> None:
        while self.queue is not None:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return

    def _put(self, item) -> bool:
        """Puts ``item`` in the queue unless stopped; returns whether it was put."""
        while not self._stop_event.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        raise NotImplementedError

    def get(self) -> Iterator[Any]:
        """Yields the batches as they become ready (re-raises a worker's exception)."""
        raise NotImplementedError

    def _next_item(self):
        while True:
            try:
                return self.queue.get(timeout=0.1)
            except queue.Empty:
                if not self.is_running() and self.queue.empty():
                    raise StopIteration from None
                if self._thread is not None and not self._thread.is_alive() and self.queue.empty():
                    raise StopIteration from None


# Processes of an OrderedEnqueuer receive the sequence once, when the pool starts.
_WORKER_SEQUENCE: Any = None


def _init_worker(sequence) -> None:
    global _WORKER_SEQUENCE
    _WORKER_SEQUENCE = sequence


def _get_item_in_worker(index: int):
    return _WORKER_SEQUENCE[index]


class _Failure:
    """An exception raised by a worker, carried through the queue to the consumer."""

    def __init__(self, error: BaseException):
        self.error = error


class OrderedEnqueuer(SequenceEnqueuer):
    """Prefetches the batches of a ``Sequence`` with workers and yields them in order.

    Batches are computed by ``workers`` threads (or processes with
    ``use_multiprocessing=True``; the sequence is then sent to a fresh pool each epoch,
    so changes made by ``on_epoch_end`` reach the workers). The enqueuer runs epoch after
    epoch until stopped and calls ``on_epoch_end`` after each.

    Args:
        sequence: the ``Sequence``.
        use_multiprocessing: use processes instead of threads.
        shuffle: visit the batches of each epoch in a random order.
    """

    def __init__(self, sequence: Sequence, use_multiprocessing: bool = False,
                 shuffle: bool = False):
        super().__init__(sequence, use_multiprocessing)
        self.shuffle = shuffle

    def _epoch_order(self) -> List[int]:
        order = list(range(len(self.sequence)))
        if self.shuffle:
            random.shuffle(order)
        return order

    def _produce(self) -> None:
        try:
            while not self._stop_event.is_set():
                if self.use_multiprocessing:
                    self._produce_epoch_with_processes()
                else:
                    self._produce_epoch_with_threads()
                if self._stop_event.is_set():
                    return
                self.sequence.on_epoch_end()
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            self._put(_Failure(e))

    def _produce_epoch_with_threads(self) -> None:
        with ThreadPoolExecutor(self.workers) as pool:
            futures = []
            for i in self._epoch_order():
                future = pool.submit(self.sequence.__getitem__, i)
                futures.append(future)
                if not self._put(future):
                    break
            for f in futures:  # the epoch ends when every batch has been computed
                f.exception()

    def _produce_epoch_with_processes(self) -> None:
        context = multiprocessing.get_context()
        with context.Pool(self.workers, initializer=_init_worker,
                          initargs=(self.sequence,)) as pool:
            results = []
            for i in self._epoch_order():
                result = pool.apply_async(_get_item_in_worker, (i,))
                results.append(result)
                if not self._put(result):
                    break
            for r in results:
                r.wait()

    def get(self) -> Iterator[Any]:
        while True:
            try:
                item = self._next_item()
            except StopIteration:
                return
            if isinstance(item, _Failure):
                self.stop()
                raise item.error
            try:
                yield item.result() if isinstance(item, Future) else item.get()
            except BaseException:
                self.stop()
                raise


class GeneratorEnqueuer(SequenceEnqueuer):
    """Pulls batches from a Python generator in background threads.

    A generator cannot be shared between processes, so ``use_multiprocessing=True``
    falls back to threads (with a warning); the generator is read under a lock, so the
    batches come in the generator's order when ``workers=1``.

    Args:
        generator: the generator (or any iterator) of batches.
        use_multiprocessing: accepted for Keras compatibility (see above).
        random_seed: seed for Python's and numpy's random modules in the workers.
    """

    def __init__(self, generator, use_multiprocessing: bool = False,
                 random_seed: Optional[int] = None):
        super().__init__(generator, use_multiprocessing)
        self.random_seed = random_seed
        self._lock = threading.Lock()
        self._iterator = iter(generator)
        if use_multiprocessing:
            warnings.warn("A Python generator cannot be shared between processes: "
                          "`use_multiprocessing=True` uses threads instead. Use a "
                          "`tkeras.utils.Sequence` for multiprocessing.", TkerasWarning,
                          stacklevel=2)

    def _produce(self) -> None:
        if self.random_seed is not None:
            random.seed(self.random_seed)
            np.random.seed(self.random_seed)
        workers = [threading.Thread(target=self._pull, daemon=True) for _ in range(self.workers)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def _pull(self) -> None:
        while not self._stop_event.is_set():
            try:
                with self._lock:
                    item = next(self._iterator)
            except StopIteration:
                return
            except BaseException as e:  # noqa: BLE001 - handed to the consumer
                self._put(_Failure(e))
                return
            if not self._put(item):
                return

    def get(self) -> Iterator[Any]:
        while True:
            try:
                item = self._next_item()
            except StopIteration:
                return
            if isinstance(item, _Failure):
                self.stop()
                raise item.error
            yield item


__all__ = ["Sequence", "SequenceEnqueuer", "OrderedEnqueuer", "GeneratorEnqueuer"]
