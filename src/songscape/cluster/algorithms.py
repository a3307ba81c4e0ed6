"""One registry of clusterers. Each returns one label per row, −1 meaning noise.

| name | method | k | size limit |
|---|---|---|---|
| kmeans | k-means++ (mini-batch above 20 000 rows) | yes | none |
| agglomerative | Ward / average / complete linkage (`linkage`) | yes | 20 000 (O(n²) memory) |
| dbscan | DBSCAN, `eps` from the k-distance knee when not given | no | none |
| hdbscan | scikit-learn's HDBSCAN (`min_cluster_size`) | no | none |
| spectral | spectral clustering on a kNN affinity graph | yes | 20 000 (dense eigenproblem) |
| gmm | Gaussian mixture (`covariance_type`: full, or diagonal when points are few) | yes | none |

When k is needed and not given it is chosen automatically: by silhouette over 2…10 (the best
of K-Means runs, or of the algorithm itself), and by BIC for the Gaussian mixture. The curve is
returned with the labels so that it can be recorded and plotted.

K-Means and the Gaussian mixture also return their fitted rule (centres; mixture parameters)
as plain arrays, so that a saved run can put new tracks into its clusters (`assign_with_rule`);
for the others a new track joins the cluster of its nearest neighbours (`assign_by_neighbours`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import qr, svd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import (
    DBSCAN,
    HDBSCAN,
    AgglomerativeClustering,
    KMeans,
    MiniBatchKMeans,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import spectral_embedding
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors, kneighbors_graph

from songscape.cluster.metrics import NOISE
from songscape.notices import say_once

logger = logging.getLogger(__name__)

MINI_BATCH_ABOVE = 20_000
QUADRATIC_LIMIT = 20_000  # agglomerative and spectral need O(n²) memory or time beyond this
K_RANGE = (2, 10)
SILHOUETTE_SAMPLE = 5_000


class ClusteringError(ValueError):
    """A clusterer cannot run on this input; the message says what to use instead."""


@dataclass
class Clustering:
    """Labels (−1 = noise); when k was chosen automatically, the curve it was chosen on
    (``criterion`` 'silhouette', higher is better, or 'bic', lower is better, per k); and, for
    clusterers with a rule for new points, that rule's parameters (see `assign_with_rule`)."""

    labels: np.ndarray
    criterion: str | None = None
    curve: dict[int, float] = field(default_factory=dict)
    rule: dict[str, np.ndarray] = field(default_factory=dict)


def _kmeans(X: np.ndarray, n_clusters: int, random_state: int) -> Clustering:
    if len(X) > MINI_BATCH_ABOVE:
        model = MiniBatchKMeans(n_clusters=n_clusters, init="k-means++", n_init=3,
                                random_state=random_state, batch_size=4096)
    else:
        model = KMeans(n_clusters=n_clusters, init="k-means++", n_init=10, random_state=random_state)
    labels = model.fit_predict(X)
    return Clustering(labels, rule={"centers": model.cluster_centers_.astype(np.float64)})


def _refuse_quadratic(name: str, n: int) -> None:
    if n > QUADRATIC_LIMIT:
        raise ClusteringError(f"{name} needs O(n²) memory and refuses {n} > {QUADRATIC_LIMIT} "
                              "tracks; use kmeans or gmm")


def _agglomerative(X: np.ndarray, n_clusters: int, random_state: int,
                   linkage: str = "ward") -> Clustering:
    _refuse_quadratic("agglomerative", len(X))
    return Clustering(AgglomerativeClustering(n_clusters=n_clusters, linkage=linkage).fit_predict(X))


def _spectral_maps(X: np.ndarray, n_components: int, random_state: int, n_neighbors: int = 10) -> np.ndarray:
    """The leading ``n_components`` eigenvectors of the normalized Laplacian of the symmetric
    kNN connectivity graph (as scikit-learn's `SpectralClustering` computes them); a graph that
    falls apart is said once (its pieces become clusters of their own)."""
    _refuse_quadratic("spectral", len(X))
    connectivity = kneighbors_graph(X, n_neighbors=min(n_neighbors, len(X) - 1), include_self=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        maps = spectral_embedding(0.5 * (connectivity + connectivity.T), n_components=n_components,
                                  random_state=random_state, drop_first=False)
    for warning in caught:
        if "not fully connected" in str(warning.message):
            say_once(logger, "spectral: the nearest-neighbour graph falls apart into pieces, which become clusters "
                     "of their own; if that is not wanted, raise n_neighbors "
                     "(clusterers: [{name: spectral, params: {n_neighbors: 30}}])")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return maps


def qr_assignment(maps: np.ndarray) -> np.ndarray:
    """Clusters from k spectral vectors by column-pivoted QR (Damle, Minden and Ying 2019):
    the pivots pick k representative points, the orthogonal rotation nearest to their
    vectors aligns each cluster with one axis, and each point joins its largest axis."""
    k = maps.shape[1]
    pivots = qr(maps.T, pivoting=True, mode="r")[1][:k]
    left, _, right = svd(maps[pivots].T)
    return np.abs(maps @ (left @ right)).argmax(axis=1)


def _spectral(X: np.ndarray, n_clusters: int, random_state: int, n_neighbors: int = 10) -> Clustering:
    return Clustering(qr_assignment(_spectral_maps(X, n_clusters, random_state, n_neighbors)))


def _spectral_sweep(X: np.ndarray, ks: range, random_state: int, n_neighbors: int = 10) -> dict[int, Clustering]:
    """Spectral clusterings for every k in ``ks`` from one eigenproblem: the leading k of the
    largest k's eigenvectors (the graph and the eigenvectors do not depend on k)."""
    maps = _spectral_maps(X, max(ks), random_state, n_neighbors)
    return {k: Clustering(qr_assignment(maps[:, :k])) for k in ks}


_GMM_PARAMETERS = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def _gmm_clustering(model: GaussianMixture, X: np.ndarray) -> Clustering:
    rule = {name.rstrip("_"): getattr(model, name) for name in _GMM_PARAMETERS}
    rule["covariance_type"] = np.array(model.covariance_type)
    return Clustering(model.predict(X.astype(np.float64)), rule=rule)


def _gmm(X: np.ndarray, n_clusters: int, random_state: int, covariance_type: str = "auto") -> Clustering:
    return _gmm_clustering(_fitted_gmm(X, n_clusters, random_state, covariance_type), X)


def assign_with_rule(rule: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Clusters of new points from a saved rule: the nearest K-Means centre, or the Gaussian
    mixture's most probable component; the same labels the fitted clusterer would give (under
    the rule's ``numbers`` when its clusters were renumbered, see `renumbered`)."""
    X = np.asarray(X, dtype=np.float64)
    if "centers" in rule:
        distances = ((X[:, None, :] - rule["centers"][None]) ** 2).sum(axis=2)
        index = distances.argmin(axis=1)
    else:
        model = GaussianMixture(n_components=len(rule["weights"]), covariance_type=str(rule["covariance_type"]))
        for name in _GMM_PARAMETERS:
            setattr(model, name, rule[name.rstrip("_")])
        index = model.predict(X)
    return renumbered(rule, index)


def renumbered(rule: dict[str, np.ndarray], index: np.ndarray) -> np.ndarray:
    """Cluster indices as the run numbers them: through ``rule["numbers"]`` when present."""
    index = np.asarray(index, dtype=np.int64)
    return rule["numbers"].astype(np.int64)[index] if "numbers" in rule else index


def match_clusters(old: np.ndarray, new: np.ndarray, only_new: Iterable[int] = ()) -> dict[int, int]:
    """New cluster → number, so that a refit keeps the old numbers where it can: clusters are
    paired to maximise the tracks they share (Hungarian method on ``old`` and ``new`` labels
    of the same tracks); unpaired new clusters, and those in ``only_new`` (clusters of new
    tracks alone), take the smallest numbers no old cluster uses. Noise (−1) stays noise."""
    old, new = np.asarray(old), np.asarray(new)
    new_clusters = sorted({int(c) for c in np.unique(new) if c != NOISE} | {int(c) for c in only_new if c != NOISE})
    old_clusters = sorted(int(c) for c in np.unique(old) if c != NOISE)
    overlap = np.array([[np.sum((new == n) & (old == o)) for o in old_clusters] for n in new_clusters]).reshape(
        len(new_clusters), len(old_clusters))
    rows, columns = linear_sum_assignment(-overlap) if overlap.size else ([], [])
    mapping = {new_clusters[r]: old_clusters[c] for r, c in zip(rows, columns) if overlap[r, c] > 0}
    free = (number for number in range(len(new_clusters) + len(old_clusters) + 1)
            if number not in set(old_clusters) | set(mapping.values()))
    for cluster in new_clusters:
        if cluster not in mapping:
            mapping[cluster] = next(free)
    return {**mapping, NOISE: NOISE}


NEIGHBOURS = 5  # how many placed tracks vote on a new track's cluster when there is no rule


def assign_by_neighbours(known: np.ndarray, known_labels: np.ndarray, X: np.ndarray,
                         neighbours: int = NEIGHBOURS) -> np.ndarray:
    """Clusters of new points for algorithms without a rule (spectral, agglomerative, DBSCAN,
    HDBSCAN): the most common label among each point's ``neighbours`` nearest ``known``
    points (Euclidean), ties going to the label of the nearest; noise (−1) is a label too, so
    a point among noise stays noise."""
    known, X = np.asarray(known, dtype=np.float64), np.asarray(X, dtype=np.float64)
    count = min(neighbours, len(known))
    distances = ((X[:, None, :] - known[None]) ** 2).sum(axis=2)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :count]
    labels = np.empty(len(X), dtype=np.int64)
    for row, indices in enumerate(nearest):
        votes = known_labels[indices]
        values, counts = np.unique(votes, return_counts=True)
        winners = set(values[counts == counts.max()])
        labels[row] = next(label for label in votes if label in winners)  # nearest among the tied
    return labels


def _auto_covariance(X: np.ndarray, n_clusters: int) -> str:
    return "full" if len(X) >= 5 * X.shape[1] * n_clusters else "diag"


def _fitted_gmm(X: np.ndarray, n_clusters: int, random_state: int,
                covariance_type: str = "auto") -> GaussianMixture:
    """A Gaussian mixture; ``auto`` covariance is full when every component can have at least
    five points per dimension, else diagonal (a full covariance would be singular)."""
    if covariance_type == "auto":
        covariance_type = _auto_covariance(X, n_clusters)
    try:
        return GaussianMixture(n_components=n_clusters, covariance_type=covariance_type, n_init=2,
                               reg_covar=1e-4, random_state=random_state).fit(X.astype(np.float64))
    except ValueError as error:
        raise ClusteringError(f"gmm: {str(error).split('.')[0]}; try covariance_type: diag "
                              "or fewer dimensions") from None


def k_distance_eps(X: np.ndarray, min_samples: int) -> float:
    """DBSCAN radius at the knee of the sorted k-nearest-neighbour distance curve: the point
    farthest below the straight line joining the curve's ends."""
    k = min(min_samples, len(X) - 1)
    distances = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)[0][:, -1]
    curve = np.sort(distances)
    span = curve[-1] - curve[0]
    if span <= 0:
        return float(curve[0]) or 1e-6
    x = np.linspace(0.0, 1.0, len(curve))
    knee = int(np.argmax(x - (curve - curve[0]) / span))
    return float(curve[knee]) or 1e-6


def _dbscan(X: np.ndarray, n_clusters: int | None, random_state: int, eps: float | None = None,
            min_samples: int = 5) -> Clustering:
    eps = eps if eps is not None else k_distance_eps(X, min_samples)
    return Clustering(DBSCAN(eps=eps, min_samples=min_samples).fit_predict(X))


def _hdbscan(X: np.ndarray, n_clusters: int | None, random_state: int,
             min_cluster_size: int | None = None) -> Clustering:
    size = min_cluster_size or max(5, len(X) // 50)
    return Clustering(HDBSCAN(min_cluster_size=min(size, len(X)), copy=True).fit_predict(X))


@dataclass(frozen=True)
class Clusterer:
    """A registered algorithm: ``run(X, n_clusters, random_state, **params)`` gives a
    `Clustering`; ``sweep(X, ks, random_state, **params)``, when given, gives one per k at once
    (for the automatic k) sharing what does not depend on k."""

    name: str
    run: Callable[..., Clustering]
    needs_k: bool
    sweep: Callable[..., dict[int, Clustering]] | None = None


CLUSTERERS: dict[str, Clusterer] = {c.name: c for c in (
    Clusterer("kmeans", _kmeans, needs_k=True),
    Clusterer("agglomerative", _agglomerative, needs_k=True),
    Clusterer("dbscan", _dbscan, needs_k=False),
    Clusterer("hdbscan", _hdbscan, needs_k=False),
    Clusterer("spectral", _spectral, needs_k=True, sweep=_spectral_sweep),
    Clusterer("gmm", _gmm, needs_k=True),
)}


def _candidate_ks(n: int) -> range:
    return range(K_RANGE[0], max(K_RANGE[0], min(K_RANGE[1], n - 1)) + 1)


def choose_k(name: str, X: np.ndarray, random_state: int, **params: object) -> Clustering:
    """Cluster with the best k: lowest BIC for gmm, else highest silhouette (on a seeded sample
    above 5 000 points) of the algorithm's own labels."""
    if name == "gmm":
        candidates = _candidate_ks(len(X))
        if params.get("covariance_type", "auto") == "auto":  # one type for all k: comparable BIC
            params = {**params, "covariance_type": _auto_covariance(X, max(candidates))}
        models = {k: _fitted_gmm(X, k, random_state, **params) for k in candidates}
        curve = {k: float(model.bic(X.astype(np.float64))) for k, model in models.items()}
        best = min(curve, key=curve.get)
        chosen = _gmm_clustering(models[best], X)
        return Clustering(chosen.labels, "bic", curve, chosen.rule)
    clusterer, ks = CLUSTERERS[name], _candidate_ks(len(X))
    if clusterer.sweep is not None:
        clusterings = clusterer.sweep(X, ks, random_state, **params)
    else:
        clusterings = {k: clusterer.run(X, k, random_state, **params) for k in ks}
    curve = {k: _silhouette(X, found.labels, random_state) for k, found in clusterings.items()}
    best = clusterings[max(curve, key=curve.get)]
    return Clustering(best.labels, "silhouette", curve, best.rule)


def _silhouette(X: np.ndarray, labels: np.ndarray, random_state: int) -> float:
    if len(np.unique(labels)) < 2:
        return float("-inf")
    sample = SILHOUETTE_SAMPLE if len(X) > SILHOUETTE_SAMPLE else None
    return float(silhouette_score(X, labels, sample_size=sample, random_state=random_state))


def cluster(name: str, X: np.ndarray, n_clusters: int | None, random_state: int,
            **params: object) -> Clustering:
    """Labels of ``X`` from the registered clusterer ``name`` (−1 = noise)."""
    if name not in CLUSTERERS:
        raise ClusteringError(f"unknown clusterer '{name}' (known: {', '.join(CLUSTERERS)})")
    clusterer = CLUSTERERS[name]
    if clusterer.needs_k and n_clusters is not None and not 1 <= n_clusters <= len(X):
        raise ClusteringError(f"{name}: cannot make {n_clusters} clusters from {len(X)} tracks")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if clusterer.needs_k and n_clusters is None:
            found = choose_k(name, X, random_state, **params)
        else:
            found = clusterer.run(X, n_clusters, random_state, **params)
    for warning in caught:  # what scikit-learn says once per k and seed is said once here
        if issubclass(warning.category, ConvergenceWarning) and "distinct clusters" in str(warning.message):
            say_once(logger, f"{name}: fewer distinct points than clusters (tracks with identical inputs, such "
                     "as the same lyrics); some clusters stay empty")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    found.labels = np.asarray(found.labels, np.int64)
    return found
