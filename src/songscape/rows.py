"""Row access that does not copy large arrays: collection features are memory-mapped `.npy`
files, and a model reads only the rows of the batch it is working on."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

CHUNK_ROWS = 1024


class RowView:
    """Some rows of an array (often a memmap), chosen by ``index``, read only when asked for.

    Indexing gives an ordinary array of the requested rows; ``np.asarray(view)`` reads them all.
    """

    def __init__(self, base: np.ndarray, index: np.ndarray) -> None:
        self.base, self.index = base, np.asarray(index, dtype=np.int64)

    @classmethod
    def select(cls, values: np.ndarray, selection: np.ndarray) -> np.ndarray | RowView:
        """``values[selection]``: a copy for arrays in memory, a view for memmaps."""
        if not isinstance(values, np.memmap):
            return values[selection]
        return cls(values, np.flatnonzero(selection) if selection.dtype == bool else selection)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.base.shape[1:])

    @property
    def ndim(self) -> int:
        return self.base.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype

    def __getitem__(self, rows: object) -> np.ndarray:
        return np.asarray(self.base[self.index[rows]])

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        values = self.base[self.index]
        return values if dtype is None else values.astype(dtype)


def chunks(values: np.ndarray | RowView, size: int = CHUNK_ROWS, minimum: int = 1) -> Iterator[np.ndarray]:
    """Consecutive blocks of ``size`` rows (at least ``minimum``), each read into memory in
    turn; a last block of fewer than ``minimum`` rows is merged into the one before."""
    size = max(size, minimum)
    starts = list(range(0, len(values), size))
    if len(starts) > 1 and len(values) - starts[-1] < minimum:
        starts.pop()
    for start, stop in zip(starts, [*starts[1:], len(values)]):
        yield np.asarray(values[start:stop])


class LazyRows:
    """A float32 tensor of an array's rows, prepared (e.g. standardized) batch by batch when
    indexed with row numbers, so the whole prepared array never exists in memory."""

    def __init__(self, values: np.ndarray | RowView, prepare: Callable[[np.ndarray], np.ndarray]) -> None:
        self.values, self.prepare = values, prepare

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, rows: torch.Tensor | np.ndarray | slice) -> torch.Tensor:
        index = rows.numpy() if isinstance(rows, torch.Tensor) else rows
        prepared = self.prepare(np.asarray(self.values[index], dtype=np.float64))
        return torch.from_numpy(np.ascontiguousarray(prepared, dtype=np.float32))
