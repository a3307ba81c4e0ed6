"""The same checks for every representation (build, shapes, save/load, determinism)."""

from pathlib import Path

import numpy as np
import pytest

from songscape.models import REPRESENTATIONS, VAE, Autoencoder, load_representation

FAST = {"raw": {}, "pca": {"n_components": 3},
        "ae": {"latent_dim": 3, "hidden": (16,), "epochs": 40},
        "vae": {"latent_dim": 3, "hidden": (16,), "epochs": 40, "warmup_epochs": 5}}


@pytest.fixture
def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((60, 3))
    return latent @ rng.standard_normal((3, 10)) * 3 + 5 + 0.1 * rng.standard_normal((60, 10))


@pytest.mark.parametrize("kind", sorted(REPRESENTATIONS))
class TestEveryRepresentation:
    def test_shapes(self, kind: str, data: np.ndarray) -> None:
        embedding = REPRESENTATIONS[kind](random_state=0, **FAST[kind]).fit_transform(data)
        expected = data.shape[1] if kind == "raw" else 3
        assert embedding.shape == (60, expected) and embedding.dtype == np.float32
        assert np.all(np.isfinite(embedding))

    def test_save_load_round_trip(self, kind: str, data: np.ndarray, tmp_path: Path) -> None:
        model = REPRESENTATIONS[kind](random_state=0, **FAST[kind]).fit(data)
        model.save(tmp_path / "model", metadata={"fit_seconds": 1.0})
        loaded = load_representation(tmp_path / "model")
        assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
        assert np.array_equal(loaded.transform(data), model.transform(data))

    def test_same_seed_same_output(self, kind: str, data: np.ndarray) -> None:
        first = REPRESENTATIONS[kind](random_state=1, **FAST[kind]).fit_transform(data)
        second = REPRESENTATIONS[kind](random_state=1, **FAST[kind]).fit_transform(data)
        assert np.array_equal(first, second)


@pytest.mark.parametrize("kind", ["pca", "ae", "vae"])
def test_transform_before_fit_fails_clearly(kind: str, data: np.ndarray) -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        REPRESENTATIONS[kind](**FAST[kind]).transform(data)


@pytest.mark.parametrize("cls", [Autoencoder, VAE])
def test_training_lowers_reconstruction_error(cls: type, data: np.ndarray) -> None:
    model = cls(random_state=0, **{**FAST[cls.kind], "epochs": 150, "batch_size": 16}).fit(data)
    history = model.history_
    assert history[-1]["train_reconstruction"] < 0.5 * history[0]["train_reconstruction"]
    reconstruction = model.reconstruct(data)
    assert reconstruction.shape == data.shape
    assert np.mean((reconstruction - data) ** 2) < np.var(data)


def test_different_seeds_differ(data: np.ndarray) -> None:
    first = VAE(random_state=0, **FAST["vae"]).fit_transform(data)
    second = VAE(random_state=1, **FAST["vae"]).fit_transform(data)
    assert not np.array_equal(first, second)


def test_vae_beta_is_a_parameter_and_kl_shrinks_with_beta(data: np.ndarray) -> None:
    params = {**FAST["vae"], "epochs": 80}
    low = VAE(beta=0.1, random_state=0, **params).fit(data).history_[-1]["train_kl"]
    high = VAE(beta=8.0, random_state=0, **params).fit(data).history_[-1]["train_kl"]
    assert high < low


def test_early_stopping_keeps_best_epoch(data: np.ndarray) -> None:
    model = Autoencoder(random_state=0, latent_dim=3, hidden=(16,), epochs=500, patience=5,
                        batch_size=8, learning_rate=0.05).fit(data)
    assert len(model.history_) < 500
    best = min(row["val_loss"] for row in model.history_)
    assert len(model.history_) - 1 - [r["val_loss"] for r in model.history_].index(best) == 5
