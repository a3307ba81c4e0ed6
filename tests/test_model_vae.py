"""VAE and β-VAE: the shared contract, β, the capacity schedule and latent traversals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from songscape.models import VAE, Representation
from tests.model_contract import N_FEATURES, NeuralContract, low_rank_features

FAST = {"latent_dim": 3, "hidden": (16,), "epochs": 40, "warmup_epochs": 5}


class TestVAE(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return VAE(random_state=random_state, **FAST)


class TestBetaVAEWithCapacity(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return VAE(beta=4.0, capacity_max=3.0, capacity_epochs=10, random_state=random_state, **FAST)


def test_kl_shrinks_as_beta_grows() -> None:
    params = {**FAST, "epochs": 80}
    low = VAE(beta=0.1, random_state=0, **params).fit(low_rank_features()).history_[-1]["train_kl"]
    high = VAE(beta=8.0, random_state=0, **params).fit(low_rank_features()).history_[-1]["train_kl"]
    assert high < low


def test_capacity_schedule_steers_kl_towards_its_target() -> None:
    """With a large γ the KL follows the capacity: a higher target gives a higher KL."""
    params = {**FAST, "epochs": 60, "beta": 50.0, "capacity_epochs": 20, "patience": 100,
              "batch_size": 16}
    kl = {capacity: VAE(capacity_max=capacity, random_state=0, **params).fit(low_rank_features())
          .history_[-1]["train_kl"] for capacity in (1.0, 6.0)}
    assert abs(kl[1.0] - 1.0) < 0.5 and abs(kl[6.0] - 6.0) < 1.5
    model = VAE(capacity_max=4.0, capacity_epochs=10)
    assert [model.capacity(e) for e in (0, 4, 9, 30)] == pytest.approx([0.4, 2.0, 4.0, 4.0])


def test_early_stopping_waits_for_the_capacity_schedule() -> None:
    model = VAE(capacity_max=2.0, capacity_epochs=25, random_state=0,
                **{**FAST, "epochs": 200, "patience": 2}).fit(low_rank_features())
    assert len(model.history_) >= 25


def test_latent_traversal_sweeps_one_dimension() -> None:
    data = low_rank_features()
    model = VAE(random_state=0, **FAST).fit(data)
    values = np.linspace(-2, 2, 5)
    traversal = model.latent_traversal(data, dimension=1, values=values)
    assert traversal.shape == (5, N_FEATURES)
    assert not np.allclose(traversal[0], traversal[-1])  # the decoder sees the sweep
    code = model.transform(data).mean(axis=0)
    code[1] = values[2]
    with torch.no_grad():
        decoded = model.module_.decode(torch.from_numpy(code[None])).numpy()
    assert np.allclose(traversal[2], model._input_units(decoded)[0], atol=1e-5)
    with pytest.raises(ValueError, match="dimension"):
        model.latent_traversal(data, dimension=3)
