"""Baselines that need no training loop: standardized raw features and PCA.

Inputs larger than `IN_MEMORY_VALUES` (such as 100 000 memory-mapped log-mel patches of
8 192 values) are read in blocks of rows: the scaler from pairwise block moments, PCA by
incremental PCA, and the transform block by block, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA, IncrementalPCA

from songscape.models.base import Representation, Standardizer, as_matrix, check_scaling
from songscape.rows import chunks
from songscape.workspace import read_npz, write_npz

STATE_FILE = "state.npz"
IN_MEMORY_VALUES = 50_000_000  # 400 MB of float64; larger inputs are read in blocks of rows


def _is_large(X: np.ndarray) -> bool:
    return len(X) * int(np.prod(X.shape[1:])) > IN_MEMORY_VALUES


def _row_blocks(X: np.ndarray, minimum: int = 1) -> Iterator[np.ndarray]:
    """`rows.chunks` of X as float64 feature matrices (patches flattened)."""
    return (as_matrix(block) for block in chunks(X, minimum=minimum))


class RawFeatures(Representation):
    """The input features themselves, standardized per dimension (``scaling="dimension"``) or
    scaled as one block (``"block"``: lyric vectors)."""

    kind = "raw"

    def __init__(self, scaling: str = "dimension", random_state: int = 0) -> None:
        self.scaling = check_scaling(scaling)
        self.random_state = random_state
        self.scaler_ = Standardizer()

    def fit(self, X: np.ndarray) -> RawFeatures:
        per_dimension = self.scaling == "dimension"
        if _is_large(X):
            self.scaler_.fit_blocks(_row_blocks(X), per_dimension)
        else:
            self.scaler_.fit(as_matrix(X), per_dimension)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self.scaler_.transform(as_matrix(X))

    def _save_state(self, directory: Path) -> None:
        write_npz(directory / STATE_FILE, mean=self.scaler_.mean, scale=self.scaler_.scale)

    def _load_state(self, directory: Path) -> None:
        state = read_npz(directory / STATE_FILE)
        self.scaler_ = Standardizer(state["mean"], state["scale"])


class PCARepresentation(Representation):
    """Principal components of the standardized features (at most min(n, d) of them; scaled
    per dimension or as one block, as `RawFeatures`)."""

    kind = "pca"

    def __init__(self, n_components: int = 16, scaling: str = "dimension", random_state: int = 0) -> None:
        self.n_components = n_components
        self.scaling = check_scaling(scaling)
        self.random_state = random_state
        self.scaler_ = Standardizer()
        self.components_: np.ndarray | None = None
        self.center_: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> PCARepresentation:
        if _is_large(X):
            return self._fit_in_blocks(X)
        values = as_matrix(X)
        standardized = self.scaler_.fit(values, self.scaling == "dimension").transform(values)
        n_components = min(self.n_components, *standardized.shape)
        pca = PCA(n_components=n_components, svd_solver="full", random_state=self.random_state)
        pca.fit(standardized)
        self.components_, self.center_ = pca.components_, pca.mean_
        return self

    def _fit_in_blocks(self, X: np.ndarray) -> PCARepresentation:
        """Scaler and incremental PCA over blocks of rows (inputs beyond `IN_MEMORY_VALUES`)."""
        n_components = min(self.n_components, len(X), int(np.prod(X.shape[1:])))
        self.scaler_.fit_blocks(_row_blocks(X), self.scaling == "dimension")
        pca = IncrementalPCA(n_components=n_components)
        for block in _row_blocks(X, minimum=n_components):
            pca.partial_fit(self.scaler_.transform(block))
        self.components_, self.center_ = pca.components_, pca.mean_
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.components_ is None:
            raise RuntimeError("PCARepresentation is not fitted; call fit first")
        blocks = _row_blocks(X) if _is_large(X) else [as_matrix(X)]
        return np.concatenate([((self.scaler_.transform(block) - self.center_) @ self.components_.T)
                               .astype(np.float32) for block in blocks])

    def _save_state(self, directory: Path) -> None:
        write_npz(directory / STATE_FILE, mean=self.scaler_.mean, scale=self.scaler_.scale,
                  components=self.components_, center=self.center_)

    def _load_state(self, directory: Path) -> None:
        state = read_npz(directory / STATE_FILE)
        self.scaler_ = Standardizer(state["mean"], state["scale"])
        self.components_, self.center_ = state["components"], state["center"]
