"""Baselines (raw, PCA) and the plain autoencoder under the shared contract; the training loop."""

from __future__ import annotations

import numpy as np
import pytest

from songscape.models import Autoencoder, PCARepresentation, RawFeatures, Representation
from songscape.models.training import epoch_limit
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
    model = Autoencoder(random_state=0, latent_dim=3, hidden=(16,), epochs=500, patience=5, min_improvement=0.0,
                        batch_size=8, learning_rate=0.05, validate_every=1).fit(low_rank_features())
    assert len(model.history_) < 500
    losses = [row["val_loss"] for row in model.history_]
    assert len(losses) - 1 - losses.index(min(losses)) == 5


def test_validation_runs_every_few_epochs_and_after_the_last() -> None:
    """Validated epochs are every ``validate_every``-th and the last; patience counts epochs,
    so training stops at the first validation ``patience`` epochs or more after the best."""
    history = Autoencoder(random_state=0, latent_dim=3, hidden=(16,), epochs=23, patience=100,
                          validate_every=5).fit(low_rank_features()).history_
    validated = [int(row["epoch"]) for row in history if "val_loss" in row]
    assert validated == [4, 9, 14, 19, 22]
    assert all("train_loss" in row for row in history)
    stopped = Autoencoder(random_state=0, latent_dim=3, hidden=(16,), epochs=500, patience=6, batch_size=8,
                          min_improvement=0.0, learning_rate=0.05, validate_every=4).fit(low_rank_features()).history_
    losses = {int(row["epoch"]): row["val_loss"] for row in stopped if "val_loss" in row}
    best = min(losses, key=losses.get)
    assert len(stopped) < 500 and int(stopped[-1]["epoch"]) == best + 8  # first check ≥ 6 epochs after


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


def test_block_scaling_keeps_the_proportions_of_the_dimensions() -> None:
    """Scaled as one block, a leading axis stays leading (lyric vectors from an SVD) and the
    total variance equals the width, as per-dimension standardizing gives; reading the block
    in pieces gives the same scale."""
    from songscape.models.base import Standardizer

    rng = np.random.default_rng(0)
    values = rng.normal(size=(400, 4)) * [4.0, 2.0, 1.0, 0.5] + [1.0, -1.0, 0.0, 3.0]
    block = RawFeatures(scaling="block").fit_transform(values)
    spread = block.std(axis=0)
    np.testing.assert_allclose(spread / spread[0], [1.0, 0.5, 0.25, 0.125], rtol=0.1)
    assert abs(float((spread ** 2).sum()) - 4.0) < 1e-3 and np.allclose(block.mean(axis=0), 0, atol=1e-5)
    per_dimension = RawFeatures().fit_transform(values)
    assert np.allclose(per_dimension.std(axis=0), 1, atol=1e-4)
    pieces = Standardizer().fit_blocks(np.array_split(values, 7), per_dimension=False)
    np.testing.assert_allclose(pieces.scale, Standardizer().fit(values, per_dimension=False).scale, rtol=1e-9)
    first_axis = PCARepresentation(n_components=2, scaling="block").fit_transform(values)
    assert first_axis[:, 0].std() > 1.8 * first_axis[:, 1].std()  # per dimension, the axes would tie


def test_a_run_scales_lyric_models_as_a_block_unless_told_and_passes_its_device(tmp_path) -> None:
    import json

    import pandas as pd
    from rich.console import Console

    from songscape.config import validate_config
    from songscape.pipeline import CollectionSource, run_pipeline

    themes = ["rain falls on the river boat", "dance all night in the city lights",
              "নদীর বুকে নৌকা বাই বৃষ্টি", "আজ রাতে নাচব আমরা আলো"]
    rows = [{"track_id": f"t{i}", "lyrics": f"{themes[i % 4]} {word}"} for i, word in enumerate("abcdefgh")]
    pd.DataFrame(rows).to_csv(tmp_path / "lyrics.csv", index=False)
    config = validate_config({
        "representations": [{"name": "raw", "kind": "raw", "input": "lyrics"},
                            {"name": "pca", "kind": "pca", "input": "lyrics",
                             "params": {"n_components": 2, "scaling": "dimension"}},
                            {"name": "vae", "kind": "vae", "input": "lyrics", "params": {"latent_dim": 2, "epochs": 2}}],
        "clusterers": [{"name": "kmeans"}], "lyrics": {"method": "tfidf", "n_components": 3, "min_df": 1},
        "seeds": [0], "n_clusters": 2, "map_methods": ["tsne"], "device": "cpu"})
    run_pipeline(config, CollectionSource(None, tmp_path / "lyrics.csv"), tmp_path / "run", Console(quiet=True))
    saved = {}
    for path in (tmp_path / "run" / "models").glob("*/config.json"):
        stored = json.loads(path.read_text())
        saved[stored["kind"]] = stored["params"]
    assert {kind: params["scaling"] for kind, params in saved.items()} == {"raw": "block", "pca": "dimension",
                                                                            "vae": "block"}
    assert saved["vae"]["device"] == "cpu"  # the run's device, though VAE takes it through **kwargs
    with pytest.raises(ValueError, match="scaling must be one of dimension, block"):
        RawFeatures(scaling="column")


def test_small_falls_of_the_loss_are_not_progress() -> None:
    """With ``min_improvement``, patience counts from the last fall larger than that share of
    the loss, so training stops sooner; the weights kept are still those of the lowest loss."""
    data = low_rank_features(n=400)
    settings = dict(random_state=0, latent_dim=3, hidden=(16,), epochs=300, patience=10, batch_size=32,
                    learning_rate=0.003, validate_every=2)
    strict = Autoencoder(**settings, min_improvement=0.0).fit(data)
    relative = Autoencoder(**settings, min_improvement=0.02).fit(data)
    assert len(relative.history_) < len(strict.history_)
    losses = {int(row["epoch"]): row["val_loss"] for row in relative.history_ if "val_loss" in row}
    progress, last = float("inf"), 0
    for epoch, loss in losses.items():
        if loss < progress * 0.98:
            progress, last = loss, epoch
    assert int(relative.history_[-1]["epoch"]) == last + 10  # the first check 10 epochs after the last progress
    settings["epochs"] = min(losses, key=losses.get) + 1
    kept = Autoencoder(**settings, min_improvement=0.02).fit(data)  # the same seed, trained to the best epoch only
    np.testing.assert_allclose(relative.transform(data), kept.transform(data), atol=1e-5)


@pytest.mark.parametrize(("rows", "expected"), [(100, 300), (200, 300), (1000, 60), (10**6, 1)])
def test_the_track_budget_shortens_training_on_large_collections(rows: int, expected: int) -> None:
    assert epoch_limit(300, 60_000, rows) == expected
    assert epoch_limit(300, None, rows) == 300


def test_a_fit_runs_the_epochs_its_track_budget_allows() -> None:
    data = low_rank_features()  # 60 rows: 51 train, 9 validation
    history = Autoencoder(random_state=0, latent_dim=3, hidden=(16,), epochs=50, track_budget=510,
                          patience=1000).fit(data).history_
    assert len(history) == 10 and "val_loss" in history[-1]
