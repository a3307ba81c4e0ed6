"""Consensus over seeds: one clustering from the clusterings that several seeds of a model gave
(evidence accumulation, Fred & Jain 2005), and how stable such a consensus is.

The co-association of two tracks is the share of clusterings that put them together. It is not
built as an n × n matrix: the squared distance between two tracks' one-hot memberships,
concatenated over the m clusterings, is 2·m·(1 − co-association), so K-Means on those
memberships groups tracks that the seeds keep together, in memory linear in the tracks.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from songscape.cluster.metrics import NOISE

CONSENSUS_SEED = 0  # the consensus is one deterministic clustering, whatever the run's seeds
CONSENSUS_RESTARTS = 10
CONSENSUS_PREFIX = "consensus-"  # the algorithm name of a consensus: consensus-<clusterer>


def memberships(labelings: list[np.ndarray]) -> np.ndarray:
    """Each track's one-hot cluster membership in every labeling, side by side: (n, Σ clusters).
    Noise belongs to no cluster (a zero row block), so it never joins a track."""
    blocks = []
    for labels in labelings:
        labels = np.asarray(labels)
        clusters = np.unique(labels[labels != NOISE])
        blocks.append((labels[:, None] == clusters[None, :]).astype(np.float32))
    return np.concatenate(blocks, axis=1)


def consensus_labels(labelings: list[np.ndarray], n_clusters: int | None = None) -> np.ndarray:
    """One clustering of the tracks from ``labelings`` (same tracks, same order): K-Means
    (fixed seed) on their concatenated memberships with ``n_clusters`` clusters, or, when None,
    the median cluster count of the labelings. A track that most labelings call noise (DBSCAN,
    HDBSCAN) is noise. Deterministic for the same labelings."""
    if not labelings:
        raise ValueError("a consensus needs at least one clustering")
    labelings = [np.asarray(labels) for labels in labelings]
    if n_clusters is None:
        n_clusters = max(1, int(np.median([len(np.unique(labels[labels != NOISE])) for labels in labelings])))
    noise = np.mean([labels == NOISE for labels in labelings], axis=0) > 0.5
    agreed = np.full(len(noise), NOISE, dtype=np.int64)
    features = memberships(labelings)[~noise]
    if len(features):
        n_clusters = min(n_clusters, len(np.unique(features, axis=0)))
        agreed[~noise] = KMeans(n_clusters, n_init=CONSENSUS_RESTARTS,
                                random_state=CONSENSUS_SEED).fit_predict(features)
    return agreed


def consensus_stability(labelings: list[np.ndarray], n_clusters: int | None = None) -> float:
    """ARI between the consensus of the first half of ``labelings`` (rounded up) and the
    consensus of the other half: two disjoint sets of seeds. NaN with fewer than two."""
    if len(labelings) < 2:
        return float("nan")
    half = (len(labelings) + 1) // 2
    return float(adjusted_rand_score(consensus_labels(labelings[:half], n_clusters),
                                     consensus_labels(labelings[half:], n_clusters)))
