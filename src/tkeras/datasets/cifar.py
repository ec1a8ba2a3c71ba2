"""Reading the CIFAR-10 / CIFAR-100 python batches (pickled dicts) without running code."""
from __future__ import annotations

from typing import List, Tuple, Union

import numpy as np

from ._files import safe_unpickle


def load_batch(fpath: str,
               label_key: str = "labels") -> Tuple[np.ndarray, Union[List[int], np.ndarray]]:
    """Parses one CIFAR batch file into ``(data, labels)``.

    The file is a pickled dict (bytes keys in the original Python 2 files) with ``data``,
    an ``(n, 3072)`` uint8 array, and the labels under ``label_key``; it is read with
    ``SafeUnpickler``, which refuses anything but numpy arrays and plain values.

    Args:
        fpath: the batch file.
        label_key: key of the labels ('labels'; 'fine_labels' / 'coarse_labels' in CIFAR-100).

    Returns:
        ``(data, labels)``: data reshaped to ``(n, 3, 32, 32)``, labels as stored (a list).
    """
    with open(fpath, "rb") as f:
        batch = safe_unpickle(f, encoding="bytes")
    if not isinstance(batch, dict):
        raise ValueError(f"{fpath} is not a CIFAR batch: expected a pickled dict, "
                         f"got {type(batch).__name__}.")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise ValueError(f"{fpath} is not a CIFAR batch with 'data' and {label_key!r}: "
                         f"found keys {sorted(map(str, batch))}.")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{fpath}: 'data' must be an (n, 3072) array.")
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]


def to_image_format(x: np.ndarray) -> np.ndarray:
    """Channels first ``(n, 3, 32, 32)`` as stored, or channels last as ``image_data_format()``."""
    from .. import backend as K
    return x.transpose(0, 2, 3, 1) if K.image_data_format() == "channels_last" else x
