"""VaDE: the shared contract, clustering through the posterior over components, restarts."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from songscape.models import Representation, VaDE
from tests.model_contract import NeuralContract

FAST = {"latent_dim": 3, "hidden": (16,), "epochs": 30, "pretrain_epochs": 80, "n_init": 2}


def grouped_features(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated groups in 10-D and their labels."""
    rng = np.random.default_rng(seed)
    truth = np.arange(n) % 3
    centres = rng.standard_normal((3, 10)) * 4
    return centres[truth] + rng.standard_normal((n, 10)), truth


class TestVaDE(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return VaDE(n_components=3, random_state=random_state, **FAST)

    def inputs(self) -> dict[str, Any]:
        return {"X": grouped_features()[0]}


def test_predict_recovers_well_separated_groups() -> None:
    features, truth = grouped_features()
    model = VaDE(n_components=3, random_state=0, **FAST).fit(features)
    probabilities = model.predict_proba(features)
    assert probabilities.shape == (60, 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert adjusted_rand_score(truth, model.predict(features)) > 0.9


def test_component_count_is_chosen_without_labels() -> None:
    features, _ = grouped_features(n=90)
    model = VaDE(random_state=0, **FAST).fit(features)
    assert model.shape_["n_components"] == 3
    assert len(np.unique(model.predict(features))) == 3


def test_history_has_pretraining_and_the_kept_restart() -> None:
    model = VaDE(n_components=3, random_state=0, **FAST).fit(grouped_features()[0])
    phases = {row["phase"] for row in model.history_}
    assert "pretrain" in phases and len(phases) == 2
