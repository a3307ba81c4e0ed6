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


def test_trains_from_a_memmap_and_a_row_view_as_from_memory(tmp_path) -> None:
    """Patches on disk (all rows, or some through a RowView) give the model that patches in
    memory give: standardization in blocks and batch-by-batch reading change nothing."""
    from numpy.lib.format import open_memmap

    from songscape.rows import RowView

    rng = np.random.default_rng(0)
    patches = (rng.normal(-40.0, 10.0, (40, 16, 16)) + np.linspace(0, 20, 16)[None, :, None]).astype(np.float32)
    stored = open_memmap(tmp_path / "mel.npy", mode="w+", dtype=np.float32, shape=patches.shape)
    stored[:] = patches
    keep = np.arange(40) % 5 != 0
    params = dict(latent_dim=2, channels=(4,), hidden=(16,), epochs=3, batch_size=8, random_state=0)
    in_memory = ConvVAE(**params).fit(patches[keep])
    on_disk = ConvVAE(**params).fit(RowView.select(stored, keep))
    np.testing.assert_allclose(on_disk.scalers_["X"].mean, in_memory.scalers_["X"].mean, rtol=1e-10)
    np.testing.assert_allclose(on_disk.scalers_["X"].scale, in_memory.scalers_["X"].scale, rtol=1e-10)
    np.testing.assert_allclose(on_disk.transform(stored), in_memory.transform(patches), atol=1e-5)
