"""Baselines that need no training loop: standardized raw features and PCA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from songscape.models.base import Representation, Standardizer, as_matrix
from songscape.workspace import read_npz, write_npz

STATE_FILE = "state.npz"


class RawFeatures(Representation):
    """The input features themselves, standardized per dimension."""

    kind = "raw"

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state
        self.scaler_ = Standardizer()

    def fit(self, X: np.ndarray) -> RawFeatures:
        self.scaler_.fit(as_matrix(X))
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self.scaler_.transform(as_matrix(X))

    def _save_state(self, directory: Path) -> None:
        write_npz(directory / STATE_FILE, mean=self.scaler_.mean, scale=self.scaler_.scale)

    def _load_state(self, directory: Path) -> None:
        state = read_npz(directory / STATE_FILE)
        self.scaler_ = Standardizer(state["mean"], state["scale"])


class PCARepresentation(Representation):
    """Principal components of the standardized features (at most min(n, d) of them)."""

    kind = "pca"

    def __init__(self, n_components: int = 16, random_state: int = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state
        self.scaler_ = Standardizer()
        self.components_: np.ndarray | None = None
        self.center_: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> PCARepresentation:
        values = as_matrix(X)
        standardized = self.scaler_.fit(values).transform(values)
        n_components = min(self.n_components, *standardized.shape)
        pca = PCA(n_components=n_components, svd_solver="full", random_state=self.random_state)
        pca.fit(standardized)
        self.components_, self.center_ = pca.components_, pca.mean_
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.components_ is None:
            raise RuntimeError("PCARepresentation is not fitted; call fit first")
        standardized = self.scaler_.transform(as_matrix(X))
        return ((standardized - self.center_) @ self.components_.T).astype(np.float32)

    def _save_state(self, directory: Path) -> None:
        write_npz(directory / STATE_FILE, mean=self.scaler_.mean, scale=self.scaler_.scale,
                  components=self.components_, center=self.center_)

    def _load_state(self, directory: Path) -> None:
        state = read_npz(directory / STATE_FILE)
        self.scaler_ = Standardizer(state["mean"], state["scale"])
        self.components_, self.center_ = state["components"], state["center"]
