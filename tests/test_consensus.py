"""Consensus over seeds: one clustering from several, and the stability of a consensus."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from songscape.cluster.consensus import consensus_labels, consensus_stability, memberships
from songscape.cluster.metrics import NOISE


def _three_groups(n: int = 30) -> np.ndarray:
    return np.arange(n) // (n // 3)


def _relabelled_with_errors(truth: np.ndarray, seed: int, errors: int = 3) -> np.ndarray:
    """``truth`` with its cluster numbers permuted and ``errors`` tracks moved at random."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(3)[truth]
    moved = rng.choice(len(truth), errors, replace=False)
    labels[moved] = (labels[moved] + 1) % 3
    return labels


def test_memberships_are_one_hot_per_labeling_and_noise_joins_nothing() -> None:
    features = memberships([np.array([0, 0, 1, NOISE]), np.array([2, 5, 5, 5])])
    assert features.shape == (4, 4)
    assert np.array_equal(features.sum(axis=1), [2, 2, 2, 1])
    assert not features[3, :2].any()


def test_the_consensus_undoes_each_seeds_own_mistakes() -> None:
    truth = _three_groups()
    labelings = [_relabelled_with_errors(truth, seed) for seed in range(5)]
    assert all(adjusted_rand_score(truth, labels) < 1.0 for labels in labelings)
    agreed = consensus_labels(labelings, 3)
    assert adjusted_rand_score(truth, agreed) == 1.0
    assert np.array_equal(agreed, consensus_labels(labelings, 3))  # deterministic


def test_without_k_the_consensus_takes_the_median_cluster_count() -> None:
    truth = _three_groups()
    coarse = np.where(truth == 2, 1, truth)
    agreed = consensus_labels([truth, truth, coarse], None)
    assert len(np.unique(agreed)) == 3


def test_consensus_stability_compares_two_disjoint_halves_of_the_seeds() -> None:
    truth = _three_groups()
    assert consensus_stability([truth] * 4, 3) == 1.0
    assert np.isnan(consensus_stability([truth], 3))
    rng = np.random.default_rng(0)
    unrelated = [truth, truth, rng.integers(0, 3, len(truth)), rng.integers(0, 3, len(truth))]
    assert consensus_stability(unrelated, 3) < 0.5


def test_tracks_that_most_seeds_call_noise_are_noise_in_the_consensus() -> None:
    truth = _three_groups(12)
    noisy = [np.where(np.arange(12) < 2, NOISE, truth)] * 2 + [truth]
    agreed = consensus_labels(noisy, 3)
    assert (agreed[:2] == NOISE).all() and adjusted_rand_score(truth[2:], agreed[2:]) == 1.0
    assert (consensus_labels([np.full(12, NOISE)] * 3, 3) == NOISE).all()
