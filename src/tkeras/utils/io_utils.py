"""Disk I/O utilities of Keras 2.3.1: ``HDF5Matrix``, ``H5Dict``, ``ask_to_proceed_with_overwrite``."""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional

import numpy as np

HDF5_OBJECT_HEADER_LIMIT = 64512


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("`HDF5Matrix` and `H5Dict` require h5py: `pip install h5py`.") from None
    return h5py


class HDF5Matrix:
    """A dataset of an HDF5 file used like a numpy array (``fit`` / ``predict`` input).

    Slices (``m[10:20]``), integers, integer lists and arrays index the rows of
    ``dataset[start:end]``; ``normalizer`` is applied to every slice read. ``len``,
    ``shape``, ``dtype``, ``ndim`` and ``size`` describe the (normalized) view. Given to
    ``fit``, the data is read once per fit (as arrays are); ``shuffle="batch"`` shuffles
    whole batches, as Keras recommends for HDF5 data.

    Files are opened read-only and shared between the matrices of one path.

    Args:
        datapath: path of the HDF5 file.
        dataset: name of the dataset in the file.
        start: first row of the view.
        end: row after the last one (default: the dataset's length).
        normalizer: function applied to the data read (e.g. ``lambda x: x / 255``).

    Example:
        >>> x = HDF5Matrix("data.h5", "images", end=1000)  # doctest: +SKIP
        >>> model.fit(x, y, shuffle="batch")               # doctest: +SKIP
    """

    refs: Dict[str, Any] = {}

    def __init__(self, datapath: str, dataset: str, start: int = 0, end: Optional[int] = None,
                 normalizer: Optional[Callable[[np.ndarray], np.ndarray]] = None):
        h5py = _h5py()
        datapath = os.fspath(datapath)
        f = self.refs.get(datapath)
        if f is None or not f.id.valid:
            f = h5py.File(datapath, "r")
            self.refs[datapath] = f
        if dataset not in f:
            raise ValueError(f"HDF5Matrix: the file {datapath!r} has no dataset {dataset!r}. "
                             f"Its top-level entries: {sorted(f.keys())}.")
        self.data = f[dataset]
        self.start = int(start)
        self.end = self.data.shape[0] if end is None else int(end)
        if not 0 <= self.start <= self.end <= self.data.shape[0]:
            raise ValueError(f"HDF5Matrix: expected 0 <= start <= end <= {self.data.shape[0]} "
                             f"(the dataset's length). Received: start={start}, end={end}.")
        self.normalizer = normalizer
        first = self.data[self.start:self.start + 1]
        if normalizer is not None:
            first = np.asarray(normalizer(first))
        self._base_shape = tuple(first.shape[1:])
        self._base_dtype = first.dtype

    def __len__(self) -> int:
        return self.end - self.start

    def _check(self, last: int, key) -> None:
        if last + self.start >= self.end or last < -len(self):
            raise IndexError(f"HDF5Matrix index {key!r} out of range for length {len(self)}.")

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                rows = list(range(start, stop, step))
                return self[rows]
            idx = slice(start + self.start, max(stop, start) + self.start)
        elif isinstance(key, (int, np.integer)):
            key = int(key) + (len(self) if key < 0 else 0)
            self._check(key, key)
            idx = key + self.start
        else:
            rows = np.asarray(key, dtype=np.int64).reshape(-1)
            if rows.size == 0:
                return np.empty((0,) + self.shape[1:], dtype=self.dtype)
            rows = np.where(rows < 0, rows + len(self), rows)
            self._check(int(rows.max()), key)
            if rows.min() < 0:
                raise IndexError(f"HDF5Matrix index {key!r} out of range for length {len(self)}.")
            # h5py wants increasing, unique indices: read those, then reorder.
            unique, inverse = np.unique(rows, return_inverse=True)
            data = self.data[(unique + self.start).tolist()][inverse]
            return self.normalizer(data) if self.normalizer is not None else data
        data = self.data[idx]
        return self.normalizer(data) if self.normalizer is not None else data

    def __array__(self, dtype=None, copy=None):
        data = np.asarray(self[0:len(self)])
        return data.astype(dtype) if dtype is not None else data

    @property
    def shape(self) -> tuple:
        """``(len, ...)``: the view's shape (after the normalizer)."""
        return (self.end - self.start,) + self._base_shape

    @property
    def dtype(self):
        """The dtype of the data read (after the normalizer)."""
        return self._base_dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """The number of elements of the view."""
        return int(np.prod(self.shape))


def ask_to_proceed_with_overwrite(filepath: str) -> bool:
    """Asks on the terminal whether ``filepath`` may be overwritten; True for 'y'."""
    overwrite = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while overwrite not in ("y", "n"):
        overwrite = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if overwrite == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


class H5Dict:
    """A dict-like view of an HDF5 group (or a path, or a plain dict), as Keras 2.3.1's.

    Numpy arrays become datasets, strings / numbers / lists of strings become attributes,
    and a missing key opens a sub-group (as another ``H5Dict``). Unlike Keras, numpy values
    in the plain-dict mode are stored as arrays, not pickled.

    Args:
        path: a path, an ``h5py.Group`` or a dict.
        mode: 'a', 'r' or 'w' (for a path; 'w' also clears a dict).

    Example:
        >>> d = H5Dict("weights.h5", mode="w")  # doctest: +SKIP
        >>> d["model_config"] = "{...}"; d["layer"]["kernel"] = np.zeros(3)  # doctest: +SKIP
    """

    def __init__(self, path, mode: str = "a"):
        h5py = _h5py()
        self._is_file = False
        if isinstance(path, h5py.Group):
            self.data = path
        elif isinstance(path, (str, os.PathLike)):
            self.data = h5py.File(os.fspath(path), mode=mode)
            self._is_file = True
        elif isinstance(path, dict):
            self.data = path
            if mode == "w":
                self.data.clear()
            self.data["_is_group"] = True
        else:
            raise TypeError(f"Required Group, str, Path or dict. Received: {type(path)}.")
        self.read_only = mode == "r"

    @staticmethod
    def is_supported_type(path) -> bool:
        """Whether ``H5Dict(path)`` is possible."""
        h5py = _h5py()
        return isinstance(path, (h5py.Group, dict, str, os.PathLike))

    def __setitem__(self, attr: str, val) -> None:
        if self.read_only:
            raise ValueError("Cannot set item in read-only mode.")
        if isinstance(attr, bytes):
            attr = attr.decode("utf-8")
        if isinstance(self.data, dict):
            self.data[attr] = val
            return
        if attr in self.data:
            raise KeyError(f'Cannot set attribute. Group with name "{attr}" exists.')
        if isinstance(val, np.ndarray) or type(val).__module__ == np.__name__:
            self.data.create_dataset(attr, data=np.asarray(val))
        elif isinstance(val, (list, tuple)):
            too_big = [x for x in val if len(x) > HDF5_OBJECT_HEADER_LIMIT]
            if too_big:
                raise RuntimeError("The following attributes cannot be saved to HDF5 file "
                                   f"because they are larger than {HDF5_OBJECT_HEADER_LIMIT} "
                                   f"bytes: {', '.join(map(str, too_big))}")
            data = np.asarray([x.encode("utf-8") if isinstance(x, str) else x for x in val])
            chunks = 1
            while any(c.nbytes > HDF5_OBJECT_HEADER_LIMIT for c in np.array_split(data, chunks)):
                chunks += 1
            if chunks > 1:
                for i, chunk in enumerate(np.array_split(data, chunks)):
                    self.data.attrs[f"{attr}{i}"] = chunk
            else:
                self.data.attrs[attr] = data
        else:
            self.data.attrs[attr] = val

    def __getitem__(self, attr: str):
        if isinstance(attr, bytes):
            attr = attr.decode("utf-8")
        if isinstance(self.data, dict):
            if attr in self.data:
                val = self.data[attr]
                return H5Dict(val) if isinstance(val, dict) and val.get("_is_group") else val
            if self.read_only:
                raise ValueError("Cannot create group in read-only mode.")
            self.data[attr] = {"_is_group": True}
            return H5Dict(self.data[attr])
        h5py = _h5py()
        if attr in self.data.attrs:
            val = self.data.attrs[attr]
            if isinstance(val, np.ndarray) and val.dtype.kind == "S":
                val = [x.decode("utf-8") for x in val.tolist()]
            elif isinstance(val, bytes):
                val = val.decode("utf-8")
            return val
        if attr in self.data:
            val = self.data[attr]
            return np.asarray(val) if isinstance(val, h5py.Dataset) else H5Dict(val)
        if f"{attr}0" in self.data.attrs:
            out, i = [], 0
            while f"{attr}{i}" in self.data.attrs:
                out.extend(x.decode("utf-8") for x in self.data.attrs[f"{attr}{i}"])
                i += 1
            return out
        if self.read_only:
            raise ValueError("Cannot create group in read-only mode.")
        return H5Dict(self.data.create_group(attr))

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        return iter(self.data)

    def iter(self):
        return iter(self.data)

    def __contains__(self, key) -> bool:
        if isinstance(self.data, dict):
            return key in self.data
        return key in self.data or key in self.data.attrs

    def close(self) -> None:
        """Flushes the file (and closes it when this ``H5Dict`` opened it)."""
        h5py = _h5py()
        if isinstance(self.data, h5py.Group):
            self.data.file.flush()
            if self._is_file:
                self.data.close()
