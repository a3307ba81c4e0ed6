"""Conv-VAE on log-mel patches: the shared contract, patch shapes and reconstructions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from songscape.models import ConvVAE, Representation
from tests.model_contract import N_ROWS, NeuralContract

FAST = {"latent_dim": 3, "channels": (4, 8), "hidden": (16,), "epochs": 15, "warmup_epochs": 3}


def patches(n: int = N_ROWS, height: int = 12, width: int = 20, seed: int = 0) -> np.ndarray:
    """Patches in dB: a band whose height depends on the row's group, plus noise."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 3
    values = -60 + 3 * rng.standard_normal((n, height, width))
    for row, g in enumerate(group):
        values[row, 3 * g:3 * g + 3] += 40
    return values.astype(np.float32)


class TestConvVAE(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return ConvVAE(random_state=random_state, **FAST)

    def inputs(self) -> dict[str, Any]:
        return {"X": patches()}


def test_reconstruct_returns_patches_in_db_shaped_like_the_input() -> None:
    data = patches()
    model = ConvVAE(random_state=0, **{**FAST, "epochs": 60}).fit(data)
    reconstruction = model.reconstruct(data[:5])
    assert reconstruction.shape == (5, 12, 20)
    assert np.mean((reconstruction - data[:5]) ** 2) < np.var(data)  # better than the mean
    assert model.latent_traversal(data, 2, values=np.zeros(3)).shape == (3, 12, 20)


def test_sizes_that_do_not_divide_are_padded_and_cropped() -> None:
    data = patches(height=11, width=17)
    model = ConvVAE(random_state=0, **FAST).fit(data)
    assert model.transform(data).shape == (N_ROWS, 3)
    assert model.reconstruct(data[:2]).shape == (2, 11, 17)


def test_flat_input_is_refused_with_the_expected_shape() -> None:
    with pytest.raises(ValueError, match=r"\(n, n_mels, frames\)"):
        ConvVAE(**FAST).fit(patches().reshape(N_ROWS, -1))
