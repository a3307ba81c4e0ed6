"""Clustering metrics with an explicit noise policy (docs/architecture.md, "Conventions").

Internal metrics (silhouette, Calinski–Harabasz, Davies–Bouldin) are computed on non-noise
points only; ``coverage`` says what share that is. They are computed twice: in the embedding
the clusters were found in, and in one common space (the standardized input features) with the
suffix ``_common``, so that a collapsed latent space cannot win on silhouette alone. External
metrics (ARI, NMI, purity, Hungarian accuracy) count noise as one group of its own and skip
tracks whose truth is missing. A clustering is ``degenerate`` when one cluster holds more than
90% of the tracks or more than half are noise.
"""

from __future__ import annotations

from collections.abc import Hashable
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    normalized_mutual_info_score,
    silhouette_score,
)
from sklearn.metrics.cluster import contingency_matrix

NOISE = -1
SILHOUETTE_SAMPLE = 10_000
INTERNAL = ("silhouette", "calinski_harabasz", "davies_bouldin")
DEGENERATE_LARGEST, DEGENERATE_NOISE = 0.9, 0.5
EXTERNAL = ("ari", "nmi", "purity", "accuracy")


def purity(truth: np.ndarray, labels: np.ndarray) -> float:
    """Share of tracks whose cluster's most common true class is their own."""
    table = contingency_matrix(truth, labels)
    return float(table.max(axis=0).sum() / table.sum())


def hungarian_accuracy(truth: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy under the best one-to-one matching of clusters to classes."""
    table = contingency_matrix(truth, labels)
    rows, columns = linear_sum_assignment(-table)
    return float(table[rows, columns].sum() / table.sum())


def internal_metrics(embedding: np.ndarray, labels: np.ndarray, random_state: int = 0) -> dict[str, float]:
    """Silhouette (seeded sample above 10 000 points), CH and DB on non-noise points; NaN
    when fewer than two clusters remain."""
    kept = labels != NOISE
    X, y = embedding[kept], labels[kept]
    n_clusters = len(np.unique(y))
    if n_clusters < 2 or n_clusters >= len(y):
        return {name: float("nan") for name in INTERNAL}
    sample = min(len(y), SILHOUETTE_SAMPLE) if len(y) > SILHOUETTE_SAMPLE else None
    return {
        "silhouette": float(silhouette_score(X, y, sample_size=sample, random_state=random_state)),
        "calinski_harabasz": float(calinski_harabasz_score(X, y)),
        "davies_bouldin": float(davies_bouldin_score(X, y)),
    }


def external_metrics(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """ARI, NMI, purity and accuracy against ``truth``; missing truth (None/NaN/"") is skipped."""
    truth_series = pd.Series(truth, dtype=object)
    known = truth_series.notna().to_numpy() & (truth_series.astype(str) != "").to_numpy()
    if known.sum() < 2:
        return {name: float("nan") for name in EXTERNAL}
    y_true, y_pred = truth_series[known].astype(str).to_numpy(), labels[known]
    return {
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "purity": purity(y_true, y_pred),
        "accuracy": hungarian_accuracy(y_true, y_pred),
    }


def agreement_matrix(labelings: dict[Hashable, np.ndarray]) -> tuple[list[Hashable], np.ndarray]:
    """The keys of ``labelings`` and the NMI (arithmetic normalisation, noise a group of its
    own) of every pair of them: a symmetric matrix with ones on its diagonal."""
    keys = list(labelings)
    codes, entropies = [], []
    for key in keys:
        _, code = np.unique(np.asarray(labelings[key]), return_inverse=True)
        codes.append(code.astype(np.int64))
        entropies.append(_entropy(np.bincount(code)))
    matrix = np.eye(len(keys))
    for i, j in combinations(range(len(keys)), 2):
        matrix[i, j] = matrix[j, i] = _nmi(codes[i], codes[j], entropies[i], entropies[j])
    return keys, matrix


def agreement(labelings: dict[Hashable, np.ndarray],
              inputs: dict[Hashable, str] | None = None) -> dict[Hashable, float]:
    """For each labeling, how much the run's other clusterings agree with it (NMI).

    Without ``inputs``, or when they name one input only: its mean NMI with every other
    labeling, the label-free consensus score of Strehl & Ghosh (2002). With ``inputs`` (the
    input each labeling's representation read, by labeling key; keys are (representation, …)
    tuples) naming two or more: each input is one vote, the mean NMI with that input's
    clusterings, and the labeling's own representation is left out, so many representations of
    one input cannot outvote a lone better one, nor a representation vote for itself. NaN where
    nothing is left to compare with."""
    keys, matrix = agreement_matrix(labelings)
    balanced = inputs is not None and len(set(inputs.values())) > 1
    scores = {}
    for i, key in enumerate(keys):
        votes: dict[str, list[float]] = {}
        for j, other in enumerate(keys):
            if i == j or (balanced and other[0] == key[0]):
                continue
            votes.setdefault(inputs[other] if balanced else "all", []).append(matrix[i, j])
        scores[key] = float(np.mean([np.mean(v) for v in votes.values()])) if votes else float("nan")
    return scores


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _nmi(a: np.ndarray, b: np.ndarray, entropy_a: float, entropy_b: float) -> float:
    """NMI of two integer codings 0…k-1 of the same items, given their entropies."""
    if entropy_a == 0.0 and entropy_b == 0.0:
        return 1.0
    width = int(b.max()) + 1
    joint = np.bincount(a * width + b, minlength=(int(a.max()) + 1) * width).astype(float)
    return max(0.0, entropy_a + entropy_b - _entropy(joint)) / (0.5 * (entropy_a + entropy_b))


def stability(labelings: list[np.ndarray]) -> float:
    """Mean pairwise ARI between the labelings of different seeds (NaN with fewer than two)."""
    pairs = list(combinations(labelings, 2))
    if not pairs:
        return float("nan")
    return float(np.mean([adjusted_rand_score(a, b) for a, b in pairs]))


def evaluate(embedding: np.ndarray, labels: np.ndarray,
             truth: dict[str, np.ndarray] | None = None, random_state: int = 0,
             common_space: np.ndarray | None = None) -> dict[str, float]:
    """Every metric as one flat dict: cluster count, noise share, largest-cluster share, the
    degenerate flag, internal metrics (also ``<metric>_common`` in ``common_space`` when given)
    and ``<metric>_<label column>`` for each truth column."""
    noise_fraction = float(np.mean(labels == NOISE))
    clustered = labels[labels != NOISE]
    largest = float(np.bincount(clustered).max() / len(labels)) if len(clustered) else 0.0
    result: dict[str, float] = {
        "n_clusters": float(len(np.unique(clustered))),
        "noise_fraction": noise_fraction,
        "coverage": 1.0 - noise_fraction,
        "largest_cluster": largest,
        "degenerate": bool(largest > DEGENERATE_LARGEST or noise_fraction > DEGENERATE_NOISE),
    }
    result.update(internal_metrics(embedding, labels, random_state))
    if common_space is not None:
        result.update({f"{name}_common": value for name, value
                       in internal_metrics(common_space, labels, random_state).items()})
    for column, values in (truth or {}).items():
        result.update({f"{name}_{column}": value
                       for name, value in external_metrics(labels, values).items()})
    return result
