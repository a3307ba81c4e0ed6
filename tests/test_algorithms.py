import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from songscape.cluster import algorithms
from songscape.cluster.algorithms import ClusteringError, choose_k, cluster, k_distance_eps


@pytest.mark.parametrize("name", ["kmeans", "agglomerative", "dbscan"])
def test_recovers_blobs(name: str, blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, truth = blobs
    labels = cluster(name, X, 3, random_state=0)
    assert labels.shape == truth.shape
    assert adjusted_rand_score(truth, labels) > 0.9


def test_same_seed_same_labels(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    assert np.array_equal(cluster("kmeans", X, 4, 5), cluster("kmeans", X, 4, 5))


def test_dbscan_marks_outliers_as_noise(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    with_outlier = np.vstack([X, np.full((1, 5), 100.0)])
    labels = cluster("dbscan", with_outlier, None, 0)
    assert labels[-1] == -1


def test_k_distance_eps_between_within_and_between_distances(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    eps = k_distance_eps(X, 5)
    assert 0.5 < eps < 8.0


def test_choose_k_finds_three(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    assert choose_k(X, 0) == 3
    assert len(set(cluster("kmeans", X, None, 0))) == 3


def test_errors_name_the_problem(blobs: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    X, _ = blobs
    with pytest.raises(ClusteringError, match="unknown clusterer 'kmean'"):
        cluster("kmean", X, 3, 0)
    with pytest.raises(ClusteringError, match="cannot make 200 clusters from 90 tracks"):
        cluster("kmeans", X, 200, 0)
    monkeypatch.setattr(algorithms, "AGGLOMERATIVE_LIMIT", 50)
    with pytest.raises(ClusteringError, match="refuses 90 > 50 tracks; use kmeans"):
        cluster("agglomerative", X, 3, 0)
