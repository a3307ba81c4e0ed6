import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from songscape.cluster import algorithms
from songscape.cluster.algorithms import (
    CLUSTERERS,
    ClusteringError,
    assign_by_neighbours,
    assign_with_rule,
    choose_k,
    cluster,
    k_distance_eps,
)


@pytest.mark.parametrize("name", sorted(CLUSTERERS))
def test_every_clusterer_recovers_blobs(name: str, blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, truth = blobs
    result = cluster(name, X, 3, random_state=0)
    assert result.labels.shape == truth.shape and result.labels.dtype == np.int64
    assert adjusted_rand_score(truth, result.labels) > 0.9


@pytest.mark.parametrize("name", sorted(CLUSTERERS))
def test_same_seed_same_labels(name: str, blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    assert np.array_equal(cluster(name, X, 4, 5).labels, cluster(name, X, 4, 5).labels)


def test_agglomerative_linkages(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, truth = blobs
    for linkage in ("ward", "average", "complete"):
        assert adjusted_rand_score(truth, cluster("agglomerative", X, 3, 0, linkage=linkage).labels) > 0.9


def test_dbscan_marks_outliers_and_can_call_everything_noise(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    with_outlier = np.vstack([X, np.full((1, 5), 100.0)])
    assert cluster("dbscan", with_outlier, None, 0).labels[-1] == -1
    assert np.all(cluster("dbscan", X, None, 0, eps=1e-3).labels == -1)


def test_k_distance_eps_between_within_and_between_distances(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    eps = k_distance_eps(blobs[0], 5)
    assert 0.5 < eps < 8.0


@pytest.mark.parametrize("name,criterion", [("kmeans", "silhouette"), ("agglomerative", "silhouette"),
                                            ("spectral", "silhouette"), ("gmm", "bic")])
def test_automatic_k_finds_three_and_records_its_curve(name: str, criterion: str,
                                                       blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    result = cluster(name, X, None, 0)
    assert len(set(result.labels)) == 3 and result.criterion == criterion
    assert sorted(result.curve) == list(range(2, 11))
    best = min(result.curve, key=result.curve.get) if criterion == "bic" else max(result.curve, key=result.curve.get)
    assert best == 3


def test_choose_k_on_few_points() -> None:
    X = np.array([[0.0], [0.1], [5.0], [5.1]])
    assert sorted(choose_k("kmeans", X, 0).curve) == [2, 3]


def test_errors_name_the_problem(blobs: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    X, _ = blobs
    with pytest.raises(ClusteringError, match="unknown clusterer 'kmean'"):
        cluster("kmean", X, 3, 0)
    with pytest.raises(ClusteringError, match="cannot make 200 clusters from 90 tracks"):
        cluster("kmeans", X, 200, 0)
    monkeypatch.setattr(algorithms, "QUADRATIC_LIMIT", 50)
    for name in ("agglomerative", "spectral"):
        with pytest.raises(ClusteringError, match=f"{name} needs O\\(n²\\) memory and refuses 90 > 50 "
                                                  "tracks; use kmeans or gmm"):
            cluster(name, X, 3, 0)


def test_mini_batch_above_the_size(blobs: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    X, truth = blobs
    monkeypatch.setattr(algorithms, "MINI_BATCH_ABOVE", 10)
    assert adjusted_rand_score(truth, cluster("kmeans", X, 3, 0).labels) > 0.9


@pytest.mark.parametrize("name,k,params", [("kmeans", 3, {}), ("kmeans", None, {}), ("gmm", 3, {}),
                                           ("gmm", None, {}), ("gmm", 4, {"covariance_type": "diag"})])
def test_saved_rule_gives_the_fitted_labels_and_places_new_points(
        name: str, k: int | None, params: dict, blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, truth = blobs
    result = cluster(name, X, k, 0, **params)
    assert np.array_equal(assign_with_rule(result.rule, X), result.labels)
    moved = X + np.random.default_rng(1).normal(0.0, 0.05, X.shape)  # new tracks near old ones
    assert adjusted_rand_score(result.labels, assign_with_rule(result.rule, moved)) > 0.95


def test_mini_batch_rule_matches_its_labels(blobs: tuple[np.ndarray, np.ndarray],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(algorithms, "MINI_BATCH_ABOVE", 10)
    result = cluster("kmeans", blobs[0], 3, 0)
    assert np.array_equal(assign_with_rule(result.rule, blobs[0]), result.labels)


def test_clusterers_without_a_rule_save_none(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    assert cluster("agglomerative", blobs[0], 3, 0).rule == {}


def test_spectral_on_a_square_embedding_gives_no_warning() -> None:
    """sklearn takes a square X for a precomputed affinity and warns; here it is data."""
    import warnings

    X = np.random.default_rng(0).standard_normal((12, 12))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(cluster("spectral", X, 3, 0).labels) == 12


def test_new_points_join_the_cluster_of_their_nearest_neighbours() -> None:
    known = np.array([[0.0, 0], [0.1, 0], [0.2, 0], [5, 5], [5.1, 5], [9, 9], [9.1, 9], [9.2, 9]])
    known_labels = np.array([0, 0, 0, 1, 1, -1, -1, -1])
    new = np.array([[0.05, 0.0], [5.05, 5.0], [9.05, 9.0]])
    assert list(assign_by_neighbours(known, known_labels, new, neighbours=3)) == [0, 1, -1]
    # a tie (1 vs 1 with two neighbours) goes to the nearer one
    pair, pair_labels = np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([0, 1])
    assert list(assign_by_neighbours(pair, pair_labels, np.array([[0.4, 0.0], [0.6, 0.0]]), neighbours=2)) == [0, 1]


def test_a_disconnected_spectral_graph_is_said_once_with_what_to_do(caplog: pytest.LogCaptureFixture,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    from songscape import notices
    monkeypatch.setattr(notices, "_said", set())
    rng = np.random.default_rng(0)
    far_apart = np.vstack([rng.normal(0, 0.1, (20, 2)), rng.normal(100, 0.1, (20, 2)), rng.normal(-100, 0.1, (20, 2))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Python warning reaches the user
        with caplog.at_level("WARNING", logger=algorithms.__name__):
            for seed in (0, 1):
                found = algorithms.CLUSTERERS["spectral"].run(far_apart, 3, seed, n_neighbors=5)
    assert len(set(found.labels)) == 3
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 1 and "raise n_neighbors" in said[0]


def test_spectral_matches_scikit_learn_and_its_sweep_matches_each_k() -> None:
    """songscape's spectral clustering (kNN graph, normalized Laplacian, QR assignment) gives
    scikit-learn's labels, and the automatic-k sweep (one eigenproblem for every k) gives the
    same partitions as solving each k on its own."""
    from sklearn.cluster import SpectralClustering
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=240, centers=6, cluster_std=2.5, n_features=6, random_state=3)
    for k in (3, 5):
        theirs = SpectralClustering(n_clusters=k, affinity="nearest_neighbors", n_neighbors=10,
                                    assign_labels="cluster_qr", random_state=0).fit_predict(X)
        assert adjusted_rand_score(theirs, cluster("spectral", X, k, 0).labels) == 1.0
    swept = CLUSTERERS["spectral"].sweep(X, range(2, 9), 0)
    for k, found in swept.items():
        assert adjusted_rand_score(cluster("spectral", X, k, 0).labels, found.labels) > 0.98
