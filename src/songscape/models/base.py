"""The estimator contract shared by every representation (docs/architecture.md, "Conventions")."""

from __future__ import annotations

import importlib
import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from songscape.workspace import read_json, write_text

CONFIG_FILE = "config.json"


class Representation(ABC):
    """fit(X) learns a mapping, transform(X) returns an (n, d) embedding; save/load round-trip.

    Parameters are the keyword arguments of ``__init__``, kept as attributes of the same name
    (as in scikit-learn), so ``get_params`` and ``load`` need nothing else.
    """

    kind: str = ""

    @classmethod
    def param_names(cls) -> list[str]:
        """The constructor parameters of this class and its bases (keyword arguments that a
        subclass passes on with ``**kwargs`` included)."""
        names: list[str] = []
        for klass in cls.__mro__:
            if "__init__" in vars(klass) and issubclass(klass, Representation):
                for name, parameter in inspect.signature(klass.__init__).parameters.items():
                    is_keyword = parameter.kind == parameter.POSITIONAL_OR_KEYWORD
                    if name != "self" and is_keyword and name not in names:
                        names.append(name)
        return names

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters of this class and its bases, with their current values."""
        return {name: getattr(self, name) for name in self.param_names()}

    @abstractmethod
    def fit(self, X: np.ndarray) -> Representation:
        """Learn from X of shape (n_samples, n_features)."""

    @abstractmethod
    def transform(self, X: np.ndarray) -> np.ndarray:
        """Embed X of shape (n_samples, n_features) into (n_samples, n_components)."""

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def save(self, directory: Path, metadata: dict[str, Any] | None = None) -> None:
        """Write ``config.json`` (with optional ``metadata``, such as fit time) and the learned
        state into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._save_state(directory)
        config = {"class": f"{type(self).__module__}.{type(self).__qualname__}",
                  "kind": self.kind, "params": self.get_params(), "metadata": metadata or {}}
        write_text(directory / CONFIG_FILE, json.dumps(config, indent=2, default=list))

    @classmethod
    def load(cls, directory: Path) -> Representation:
        """Rebuild a fitted representation written by `save`."""
        config = read_json(Path(directory) / CONFIG_FILE)
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in config["params"].items()}
        instance = cls(**params)
        instance._load_state(Path(directory))
        return instance

    @abstractmethod
    def _save_state(self, directory: Path) -> None: ...

    @abstractmethod
    def _load_state(self, directory: Path) -> None: ...


def load_representation(directory: Path) -> Representation:
    """Load whichever representation class wrote ``directory``."""
    config = read_json(Path(directory) / CONFIG_FILE)
    module_name, _, class_name = config["class"].rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls.load(directory)


def as_matrix(X: np.ndarray) -> np.ndarray:
    """X as float64 rows of features: (n, ...) arrays, such as mel patches, are flattened."""
    values = np.asarray(X, dtype=np.float64)
    return values.reshape(len(values), -1)


def as_segments(X: np.ndarray) -> np.ndarray:
    """X as float64 (tracks, segments, features): rows of features are one segment each."""
    values = np.asarray(X, dtype=np.float64)
    if values.ndim == 2:
        return values[:, None, :]
    if values.ndim != 3:
        raise ValueError(f"expected (tracks, features) or (tracks, segments, features), got shape {values.shape}")
    return values


SCALINGS = ("dimension", "block")


class Standardizer:
    """Per-feature zero mean and unit variance (``per_dimension``), or zero mean and one scale
    for the whole block: the root of the mean variance, so the block's total variance is its
    width either way while its dimensions keep their relative sizes (lyric vectors: an SVD's
    leading axes stay leading). Constant features are left centred."""

    def __init__(self, mean: np.ndarray | None = None, scale: np.ndarray | None = None) -> None:
        self.mean, self.scale = mean, scale

    def fit(self, X: np.ndarray, per_dimension: bool = True) -> Standardizer:
        self.mean = X.mean(axis=0)
        self.scale = _scales(X.std(axis=0), per_dimension)
        return self

    def fit_blocks(self, blocks: Iterable[np.ndarray], per_dimension: bool = True) -> Standardizer:
        """Fit on the rows of several blocks read one at a time (Chan et al.'s pairwise
        combination of counts, means and sums of squared deviations): bounded memory."""
        count, mean, squares = 0, 0.0, 0.0
        for block in blocks:
            block_mean = block.mean(axis=0)
            block_squares = ((block - block_mean) ** 2).sum(axis=0)
            total = count + len(block)
            delta = block_mean - mean
            mean = mean + delta * len(block) / total
            squares = squares + block_squares + delta ** 2 * count * len(block) / total
            count = total
        self.mean, self.scale = np.asarray(mean), _scales(np.sqrt(squares / count), per_dimension)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale).astype(np.float32)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        return Z * self.scale + self.mean


def _scales(std: np.ndarray, per_dimension: bool) -> np.ndarray:
    """Each feature's deviation (1 where it is constant), or the block's one scale."""
    if per_dimension:
        return np.where(std > 1e-12, std, 1.0)
    block = float(np.sqrt(np.mean(np.square(std)))) if std.size else 1.0
    return np.full_like(std, block if block > 1e-12 else 1.0)


def check_scaling(scaling: str) -> str:
    """``scaling`` when it is one of `SCALINGS`, else a ValueError naming them."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(SCALINGS)}, not {scaling!r}")
    return scaling
