"""CVAE: the shared contract, conditioning, marginalised transform and the leak flag."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from songscape.models import CVAE, Representation
from songscape.models.cvae import MISSING, condition_values
from tests.model_contract import N_ROWS, NeuralContract, low_rank_features

FAST = {"latent_dim": 3, "hidden": (16,), "epochs": 40, "warmup_epochs": 5}


def conditions(n: int = N_ROWS) -> np.ndarray:
    return np.array(["bangla", "english", None], dtype=object)[np.arange(n) % 3]


class TestCVAE(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return CVAE(random_state=random_state, **FAST)

    def inputs(self) -> dict[str, Any]:
        return {"X": low_rank_features(), "condition": conditions()}


def test_missing_values_are_their_own_category() -> None:
    assert condition_values(["a", None, float("nan"), " ", 3]) == ["a", MISSING, MISSING, MISSING, "3"]


def test_marginalised_transform_averages_the_categories_by_frequency() -> None:
    data = low_rank_features()
    model = CVAE(random_state=0, **FAST).fit(data, condition=conditions())
    assert model.shape_["categories"] == [MISSING, "bangla", "english"]
    per_category = [model.transform(data, condition=[c] * len(data)) for c in model.shape_["categories"]]
    assert np.allclose(model.transform(data), np.mean(per_category, axis=0), atol=1e-6)
    assert not np.allclose(per_category[1], per_category[2])  # the condition reaches the encoder


def test_condition_changes_the_reconstruction_and_unseen_values_fail() -> None:
    data = low_rank_features()
    model = CVAE(random_state=0, **FAST).fit(data, condition=conditions())
    as_bangla = model.reconstruct(data, condition=["bangla"] * len(data))
    as_english = model.reconstruct(data, condition=["english"] * len(data))
    assert as_bangla.shape == data.shape and not np.allclose(as_bangla, as_english)
    with pytest.raises(ValueError, match=r"\['french'\] were not seen"):
        model.transform(data, condition=["french"] * len(data))
    with pytest.raises(ValueError, match="needs a condition"):
        CVAE(**FAST).fit(data)
    assert model.latent_traversal(data, 0, condition=conditions()).shape == (7, data.shape[1])
