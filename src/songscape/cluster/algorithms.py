"""One registry of clusterers. Each returns one label per row, −1 meaning noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors

MINI_BATCH_ABOVE = 20_000
AGGLOMERATIVE_LIMIT = 20_000  # Ward needs O(n²) memory


class ClusteringError(ValueError):
    """A clusterer cannot run on this input; the message says what to use instead."""


def _kmeans(X: np.ndarray, n_clusters: int, random_state: int) -> np.ndarray:
    if len(X) > MINI_BATCH_ABOVE:
        model = MiniBatchKMeans(n_clusters=n_clusters, n_init=3, random_state=random_state,
                                batch_size=4096)
    else:
        model = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state)
    return model.fit_predict(X)


def _agglomerative(X: np.ndarray, n_clusters: int, random_state: int,
                   linkage: str = "ward") -> np.ndarray:
    if len(X) > AGGLOMERATIVE_LIMIT:
        raise ClusteringError(f"agglomerative clustering needs O(n²) memory and refuses "
                              f"{len(X)} > {AGGLOMERATIVE_LIMIT} tracks; use kmeans")
    return AgglomerativeClustering(n_clusters=n_clusters, linkage=linkage).fit_predict(X)


def k_distance_eps(X: np.ndarray, min_samples: int) -> float:
    """DBSCAN radius at the knee of the sorted k-nearest-neighbour distance curve: the point
    farthest from the straight line joining the curve's ends."""
    k = min(min_samples, len(X) - 1)
    distances = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)[0][:, -1]
    curve = np.sort(distances)
    x = np.linspace(0.0, 1.0, len(curve))
    span = curve[-1] - curve[0]
    if span <= 0:
        return float(curve[0]) or 1e-6
    y = (curve - curve[0]) / span
    knee = int(np.argmax(x - y))  # the curve is convex: it lies below the chord
    return float(curve[knee]) or 1e-6


def _dbscan(X: np.ndarray, n_clusters: int | None, random_state: int, eps: float | None = None,
            min_samples: int = 5) -> np.ndarray:
    eps = eps if eps is not None else k_distance_eps(X, min_samples)
    return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(X)


@dataclass(frozen=True)
class Clusterer:
    """A registered algorithm: ``run(X, n_clusters, random_state, **params)`` gives labels."""

    name: str
    run: Callable[..., np.ndarray]
    needs_k: bool


CLUSTERERS: dict[str, Clusterer] = {
    "kmeans": Clusterer("kmeans", _kmeans, needs_k=True),
    "agglomerative": Clusterer("agglomerative", _agglomerative, needs_k=True),
    "dbscan": Clusterer("dbscan", _dbscan, needs_k=False),
}


def choose_k(X: np.ndarray, random_state: int, k_max: int = 10) -> int:
    """Number of clusters with the best K-Means silhouette among 2…k_max."""
    candidates = range(2, max(3, min(k_max, len(X) - 1) + 1))
    scores = {k: silhouette_score(X, _kmeans(X, k, random_state), sample_size=min(len(X), 5000),
                                  random_state=random_state) for k in candidates}
    return max(scores, key=scores.get)


def cluster(name: str, X: np.ndarray, n_clusters: int | None, random_state: int,
            **params: object) -> np.ndarray:
    """Labels of ``X`` from the registered clusterer ``name`` (−1 = noise)."""
    if name not in CLUSTERERS:
        raise ClusteringError(f"unknown clusterer '{name}' (known: {', '.join(CLUSTERERS)})")
    clusterer = CLUSTERERS[name]
    if clusterer.needs_k and n_clusters is None:
        n_clusters = choose_k(X, random_state)
    if clusterer.needs_k and not 1 <= n_clusters <= len(X):
        raise ClusteringError(f"{name}: cannot make {n_clusters} clusters from {len(X)} tracks")
    return np.asarray(clusterer.run(X, n_clusters, random_state, **params), dtype=np.int64)
