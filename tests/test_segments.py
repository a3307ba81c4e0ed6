"""Segments: pooling posteriors, models that learn from segments and give one code per track,
and the group VAE (the shared contract, and what its track code gains from a track's segments)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from songscape.models import VAE, Autoencoder, GroupVAE, MultimodalVAE, Representation, VaDE
from songscape.models.base import as_segments
from songscape.models.nets import pooled_posterior
from tests.model_contract import N_ROWS, NeuralContract, low_rank_features

FAST = {"latent_dim": 3, "hidden": (16,), "epochs": 60}
TRAINED = {**FAST, "epochs": 200, "batch_size": 16}  # a batch is 16 tracks of 8 segments


def noisy_segments(n: int = 48, segments: int = 8, noise: float = 3.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tracks of three classes whose segments scatter widely around the track: one segment
    says little about its class, eight say much. Returns (tracks, segments, 10) and the classes."""
    rng = np.random.default_rng(seed)
    truth = np.arange(n) % 3
    centres = rng.standard_normal((3, 10)) * 2.5
    tracks = centres[truth] + 0.3 * rng.standard_normal((n, 10))
    return tracks[:, None, :] + noise * rng.standard_normal((n, segments, 10)), truth


def kmeans_nmi(codes: np.ndarray, truth: np.ndarray) -> float:
    labels = KMeans(3, n_init=10, random_state=0).fit_predict(codes)
    return normalized_mutual_info_score(truth, labels)


def test_pooled_posterior_multiplies_or_averages_the_segments_gaussians() -> None:
    mean = torch.tensor([[[0.0], [3.0]]])  # one track, two segments, one dimension
    log_variance = torch.log(torch.tensor([[[1.0], [0.5]]]))
    product_mean, product_log_variance = pooled_posterior(mean, log_variance)
    assert torch.allclose(product_mean, torch.tensor([[2.0]]))  # precisions 1 and 2
    assert torch.allclose(product_log_variance.exp(), torch.tensor([[1 / 3]]))
    tempered_mean, tempered_log_variance = pooled_posterior(mean, log_variance, tempered=True)
    assert torch.allclose(tempered_mean, product_mean)
    assert torch.allclose(tempered_log_variance.exp(), torch.tensor([[2 / 3]]))
    single = pooled_posterior(mean[:, :1], log_variance[:, :1])
    assert torch.allclose(single[0], mean[:, 0]) and torch.allclose(single[1], log_variance[:, 0])


def test_as_segments_reads_rows_as_one_segment_and_refuses_other_shapes() -> None:
    assert as_segments(np.ones((4, 3))).shape == (4, 1, 3)
    assert as_segments(np.ones((4, 2, 3))).shape == (4, 2, 3)
    with pytest.raises(ValueError, match="segments"):
        as_segments(np.ones(4))


@pytest.mark.parametrize("build", [lambda: VAE(random_state=0, **FAST), lambda: Autoencoder(random_state=0, **FAST),
                                   lambda: VaDE(n_components=3, pretrain_epochs=20, n_init=1, random_state=0, **FAST),
                                   lambda: GroupVAE(random_state=0, **FAST)])
def test_rows_are_tracks_of_one_segment(build: Any) -> None:
    rows = low_rank_features()
    assert np.array_equal(build().fit(rows).transform(rows), build().fit(rows[:, None, :]).transform(rows[:, None, :]))


@pytest.mark.parametrize("build", [lambda: VAE(random_state=0, **TRAINED), lambda: GroupVAE(random_state=0, **TRAINED),
                                   lambda: VaDE(n_components=3, pretrain_epochs=40, n_init=1, random_state=0, **TRAINED)])
def test_a_tracks_code_from_all_its_segments_finds_what_one_segment_cannot(build: Any) -> None:
    segments, truth = noisy_segments()
    model = build().fit(segments)
    codes = model.transform(segments)
    assert codes.shape == (len(truth), 3) and model.reconstruct(segments).shape == (len(truth), 10)
    from_all, from_one = kmeans_nmi(codes, truth), kmeans_nmi(model.transform(segments[:, 0]), truth)
    assert from_all > 0.9 and from_all > from_one + 0.15


def test_the_multimodal_vae_reads_audio_segments_with_the_tracks_lyrics() -> None:
    audio, truth = noisy_segments()
    lyrics = np.eye(3)[truth] * 2 + 0.1 * np.random.default_rng(1).standard_normal((len(truth), 3))
    mask = np.arange(len(truth)) % 4 != 0
    model = MultimodalVAE(random_state=0, **{**TRAINED, "latent_dim": 4}).fit(audio, lyrics, mask)
    codes = model.transform(audio, lyrics, mask)
    assert codes.shape == (len(truth), 4) and np.all(np.isfinite(codes))
    assert model.reconstruct(audio, lyrics, mask)["audio"].shape == (len(truth), 10)
    assert kmeans_nmi(codes[mask], truth[mask]) > 0.8


class TestGroupVAE(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return GroupVAE(segment_dim=2, random_state=random_state, **FAST)

    def inputs(self) -> dict[str, Any]:
        rows = low_rank_features()
        noise = 0.3 * np.random.default_rng(2).standard_normal((N_ROWS, 4, rows.shape[1]))
        return {"X": rows[:, None, :] + noise}


def test_the_group_vae_sweeps_its_track_code() -> None:
    segments, _ = noisy_segments()
    model = GroupVAE(random_state=0, **FAST).fit(segments)
    assert model.latent_traversal(segments, 1).shape == (7, 10)
    with pytest.raises(ValueError, match="dimension"):
        model.latent_traversal(segments, 3)
