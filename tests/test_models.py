"""Baselines (raw, PCA) and the plain autoencoder under the shared contract; the training loop."""

from __future__ import annotations

import numpy as np

from songscape.models import Autoencoder, PCARepresentation, RawFeatures, Representation
from tests.model_contract import N_FEATURES, NeuralContract, RepresentationContract, low_rank_features


class TestRawFeatures(RepresentationContract):
    embedding_dim = N_FEATURES

    def build(self, random_state: int = 0) -> Representation:
        return RawFeatures(random_state=random_state)

    def test_same_seed_same_output(self) -> None:  # also: standardized columns
        embedding = self.build().fit_transform(low_rank_features())
        assert np.allclose(embedding.mean(axis=0), 0, atol=1e-5)
        assert np.allclose(embedding.std(axis=0), 1, atol=1e-4)


class TestPCA(RepresentationContract):
    def build(self, random_state: int = 0) -> Representation:
        return PCARepresentation(n_components=3, random_state=random_state)

    def test_flattens_patches(self) -> None:
        patches = low_rank_features(d=12).reshape(-1, 3, 4)
        assert self.build().fit_transform(patches).shape == (len(patches), 3)


class TestAutoencoder(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return Autoencoder(latent_dim=3, hidden=(16,), epochs=30, random_state=random_state)


def test_training_lowers_reconstruction_error() -> None:
    data = low_rank_features()
    model = Autoencoder(latent_dim=3, hidden=(16,), epochs=150, batch_size=16, random_state=0).fit(data)
    history = model.history_
    assert history[-1]["train_reconstruction"] < 0.5 * history[0]["train_reconstruction"]
    reconstruction = model.reconstruct(data)
    assert reconstruction.shape == data.shape
    assert np.mean((reconstruction - data) ** 2) < np.var(data)


def test_early_stopping_keeps_best_epoch() -> None:
    model = Autoencoder(random_state=0, latent_dim=3, hidden=(16,), epochs=500, patience=5,
                        batch_size=8, learning_rate=0.05).fit(low_rank_features())
    assert len(model.history_) < 500
    losses = [row["val_loss"] for row in model.history_]
    assert len(losses) - 1 - losses.index(min(losses)) == 5


def test_large_inputs_are_read_in_blocks_with_the_same_result(tmp_path, monkeypatch) -> None:
    """Above the in-memory size, raw features and PCA read a memmap block by block (scaler
    from block moments, incremental PCA) and agree with the in-memory fit."""
    from numpy.lib.format import open_memmap

    from songscape.models import baselines
    from songscape.rows import RowView

    rng = np.random.default_rng(0)
    latent = rng.normal(size=(2500, 3)) * [5.0, 2.5, 1.2]  # three clearly separated directions
    values = (latent @ rng.normal(size=(3, 30)) + 0.3 * rng.normal(size=(2500, 30))).reshape(2500, 6, 5)
    values = (values + np.linspace(-3, 3, 6)[:, None]).astype(np.float32)
    stored = open_memmap(tmp_path / "patches.npy", mode="w+", dtype=np.float32, shape=values.shape)
    stored[:] = values
    keep = np.arange(2500) % 7 != 0
    in_memory_raw = baselines.RawFeatures().fit(values[keep])
    in_memory_pca = baselines.PCARepresentation(n_components=3).fit(values[keep])
    monkeypatch.setattr(baselines, "IN_MEMORY_VALUES", 1000)
    view = RowView.select(stored, keep)
    raw = baselines.RawFeatures().fit(view)
    np.testing.assert_allclose(raw.transform(view), in_memory_raw.transform(values[keep]), atol=1e-5)
    pca = baselines.PCARepresentation(n_components=3).fit(view)
    codes, expected = pca.transform(view), in_memory_pca.transform(values[keep])
    assert codes.shape == expected.shape == (int(keep.sum()), 3)
    signs = np.sign((codes * expected).sum(axis=0))  # components are defined up to sign
    np.testing.assert_allclose(codes * signs, expected, atol=1e-3)
