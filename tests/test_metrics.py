import numpy as np
import pytest

from sklearn.metrics import normalized_mutual_info_score

from songscape.cluster.metrics import (
    agreement,
    evaluate,
    external_metrics,
    hungarian_accuracy,
    internal_metrics,
    purity,
    stability,
)

# Hand-computed case: clusters {0,0,0,1,1,1} vs truth {a,a,b,b,b,c}.
# Contingency: cluster0 = a2 b1, cluster1 = b2 c1 → purity = (2 + 2) / 6.
# Best one-to-one matching: 0→a (2), 1→b (2) → accuracy = 4 / 6.
TRUTH = np.array(["a", "a", "b", "b", "b", "c"])
LABELS = np.array([0, 0, 0, 1, 1, 1])


def test_purity_and_accuracy_by_hand() -> None:
    assert purity(TRUTH, LABELS) == pytest.approx(4 / 6)
    assert hungarian_accuracy(TRUTH, LABELS) == pytest.approx(4 / 6)


def test_accuracy_penalises_extra_clusters_where_purity_does_not() -> None:
    truth = np.array(["a", "a", "b", "b"])
    singletons = np.array([0, 1, 2, 3])
    assert purity(truth, singletons) == 1.0
    assert hungarian_accuracy(truth, singletons) == pytest.approx(0.5)


def test_ari_nmi_perfect_and_permuted() -> None:
    result = external_metrics(np.array([1, 1, 0, 0]), np.array(["x", "x", "y", "y"]))
    assert result == {"ari": 1.0, "nmi": 1.0, "purity": 1.0, "accuracy": 1.0}
    # ARI of {0,0,1,1} vs {0,1,0,1} by hand: every pair-count is 0 beyond chance → −0.5
    assert external_metrics(np.array([0, 0, 1, 1]), np.array(["a", "b", "a", "b"]))["ari"] == pytest.approx(-0.5)


def test_missing_truth_is_skipped() -> None:
    result = external_metrics(np.array([0, 0, 1, 1, 1]), np.array(["a", "a", "b", "b", None], dtype=object))
    assert result["accuracy"] == 1.0
    assert np.isnan(external_metrics(np.array([0, 1]), np.array([None, ""], dtype=object))["nmi"])


def test_internal_metrics_by_hand_and_ignore_noise() -> None:
    # Two tight pairs far apart: a = 1 within, b = 11 to the other pair → silhouette = 1 - 1/11
    X = np.array([[0.0], [1.0], [11.0], [12.0]])
    labels = np.array([0, 0, 1, 1])
    assert internal_metrics(X, labels)["silhouette"] == pytest.approx(1 - 1 / ((11 + 12) / 2 / 1) * 1, rel=0.1)
    exact = np.mean([1 - 1 / 11.5, 1 - 1 / 10.5, 1 - 1 / 10.5, 1 - 1 / 11.5])
    assert internal_metrics(X, labels)["silhouette"] == pytest.approx(exact)
    with_noise = np.vstack([X, [[5.5]]])
    assert internal_metrics(with_noise, np.append(labels, -1))["silhouette"] == pytest.approx(exact)


def test_evaluate_noise_policy() -> None:
    X = np.array([[0.0], [1.0], [11.0], [12.0], [50.0]])
    labels = np.array([0, 0, 1, 1, -1])
    truth = {"genre": np.array(["a", "a", "b", "b", "c"], dtype=object)}
    result = evaluate(X, labels, truth)
    assert result["noise_fraction"] == pytest.approx(0.2) and result["coverage"] == pytest.approx(0.8)
    assert result["n_clusters"] == 2
    assert result["nmi_genre"] == 1.0  # noise is a group of its own and matches class c
    single = evaluate(X, np.zeros(5, dtype=int), truth)
    assert np.isnan(single["silhouette"])


def test_everything_noise_is_degenerate_with_no_internal_metrics() -> None:
    X = np.arange(10, dtype=float).reshape(5, 2)
    result = evaluate(X, np.full(5, -1), {"genre": np.array(list("aabbc"), dtype=object)})
    assert result["noise_fraction"] == 1.0 and result["coverage"] == 0.0 and result["degenerate"]
    assert result["n_clusters"] == 0 and np.isnan(result["silhouette"])
    assert result["nmi_genre"] == pytest.approx(0.0)


def test_one_giant_cluster_is_degenerate() -> None:
    X = np.arange(40, dtype=float).reshape(20, 2)
    labels = np.array([0] * 19 + [1])
    result = evaluate(X, labels)
    assert result["largest_cluster"] == pytest.approx(0.95) and result["degenerate"]
    assert not evaluate(X, np.array([0] * 10 + [1] * 10))["degenerate"]


def test_label_column_with_a_single_value() -> None:
    result = external_metrics(np.array([0, 0, 1, 1]), np.array(["x"] * 4, dtype=object))
    assert result["purity"] == 1.0 and result["accuracy"] == pytest.approx(0.5)
    assert result["ari"] == pytest.approx(0.0)


def test_common_space_metrics_expose_a_collapsed_latent() -> None:
    rng = np.random.default_rng(0)
    common = rng.standard_normal((40, 3))  # no structure in the input features
    labels = np.repeat([0, 1], 20)
    collapsed = np.repeat([[0.0], [1.0]], 20, axis=0) + 1e-3 * rng.standard_normal((40, 1))
    result = evaluate(collapsed, labels, common_space=common)
    assert result["silhouette"] > 0.99 and result["silhouette_common"] < 0.1


def test_stability_is_mean_pairwise_ari() -> None:
    a, b = np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0])
    c = np.array([0, 1, 0, 1])
    assert stability([a, b]) == 1.0
    assert stability([a, b, c]) == pytest.approx((1.0 - 0.5 - 0.5) / 3)
    assert np.isnan(stability([a]))


def test_agreement_is_mean_nmi_with_every_other_labeling() -> None:
    rng = np.random.default_rng(0)
    labelings = {name: rng.integers(-1, 4, 200) for name in "abc"}
    labelings["copy of a"] = labelings["a"].copy()
    labelings["one cluster"] = np.zeros(200, dtype=int)
    scores = agreement(labelings)
    for name, labels in labelings.items():
        expected = np.mean([normalized_mutual_info_score(labels, other)
                            for other_name, other in labelings.items() if other_name != name])
        assert scores[name] == pytest.approx(expected, abs=1e-12)
    assert scores["a"] > scores["b"] and scores["one cluster"] == 0.0
    assert np.isnan(agreement({"alone": labelings["a"]})["alone"])


def test_agreement_by_input_lets_no_input_outvote_a_lone_better_one() -> None:
    rng = np.random.default_rng(1)
    truth = np.repeat(np.arange(4), 50)
    shared_bias = rng.integers(0, 4, 200)  # what four representations of one input all find

    def near(labels: np.ndarray, seed: int) -> np.ndarray:
        noisy = labels.copy()
        moved = np.random.default_rng(seed).choice(200, 20, replace=False)
        noisy[moved] = (noisy[moved] + 1) % 4
        return noisy

    labelings = {(f"stats-{i}", "kmeans", 0): near(shared_bias, i) for i in range(4)}
    labelings[("lone", "kmeans", 0)] = near(truth, 10)  # the one representation of another input
    labelings[("lyrics", "kmeans", 0)] = near(truth, 11)  # a third input sees the same as the lone one
    inputs = {key: "audio" if key[0].startswith("stats") else key[0] for key in labelings}
    plain, by_input = agreement(labelings), agreement(labelings, inputs)
    assert max(plain, key=plain.get)[0].startswith("stats")  # four voices of one input win
    assert max(by_input, key=by_input.get)[0] in ("lone", "lyrics")  # one voice per input
    one_input = {key: "audio" for key in labelings}
    assert agreement(labelings, one_input) == pytest.approx(plain)  # nothing to balance
