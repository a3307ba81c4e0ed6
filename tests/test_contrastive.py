"""The contrastive term (two halves of a track's segments are a positive pair, the batch's other
tracks negatives) inside the group VAE, and the plain contrastive encoder that shows what the
VAE part adds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from songscape.config import validate_config
from songscape.models import ContrastiveEncoder, GroupVAE, MultimodalVAE, Representation
from songscape.models.nets import info_nce, two_views
from tests.model_contract import N_ROWS, NeuralContract, low_rank_features

FAST = {"latent_dim": 3, "hidden": [16], "epochs": 15, "batch_size": 32}


def _segments() -> np.ndarray:
    rows = low_rank_features()
    return rows[:, None, :] + 0.3 * np.random.default_rng(2).standard_normal((N_ROWS, 4, rows.shape[1]))


class TestContrastiveEncoder(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return ContrastiveEncoder(random_state=random_state, **FAST)

    def inputs(self) -> dict[str, Any]:
        return {"X": _segments()}


class TestGroupVAEWithContrast(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return GroupVAE(segment_dim=2, contrast_weight=0.3, temperature=1.0, random_state=random_state, **FAST)

    def inputs(self) -> dict[str, Any]:
        return {"X": _segments()}


class TestMultimodalVAEWithContrast(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return MultimodalVAE(contrast_weight=0.1, random_state=random_state, **FAST)

    def inputs(self) -> dict[str, Any]:
        lyrics = np.random.default_rng(3).standard_normal((N_ROWS, 5))
        return {"audio": _segments(), "lyrics": lyrics, "lyrics_mask": np.arange(N_ROWS) % 4 != 0}


def test_the_multimodal_vae_contrasts_its_audio_segments() -> None:
    inputs = TestMultimodalVAEWithContrast().inputs()
    model = MultimodalVAE(contrast_weight=0.1, **FAST).fit(**inputs)
    assert "train_contrast" in model.history_[-1]
    rows_only = MultimodalVAE(contrast_weight=0.1, **FAST).fit(inputs["audio"].mean(axis=1), inputs["lyrics"],
                                                            inputs["lyrics_mask"])
    assert "train_contrast" not in rows_only.history_[-1]  # one row per track: no second view, no term


def test_info_nce_rewards_views_that_find_each_other() -> None:
    generator = torch.Generator().manual_seed(0)
    views = torch.randn(16, 4, generator=generator)
    aligned = info_nce(views, views + 0.05 * torch.randn(16, 4, generator=generator), 0.5)
    shuffled = info_nce(views, views[torch.randperm(16, generator=generator)], 0.5)
    assert float(aligned) < float(shuffled)
    other = torch.randn(16, 4, generator=generator)
    assert torch.isclose(info_nce(views, other, 0.5), info_nce(other, views, 0.5))  # symmetric


def test_two_views_split_the_segments_in_two_disjoint_halves() -> None:
    torch.manual_seed(0)
    mean = torch.arange(3 * 8, dtype=torch.float32).reshape(3, 8, 1).repeat(1, 1, 2)
    first, second = two_views(mean, torch.zeros_like(mean))  # equal precisions: plain means of 4 segments
    assert first.shape == second.shape == (3, 2)
    assert torch.allclose((first + second) / 2, mean.mean(dim=1))  # together the halves hold every segment
    assert not torch.allclose(first, second)


def _identities() -> np.ndarray:
    """100 tracks of 8 segments: a track's identity in 4 of 30 features, under segment noise and
    louder segment-level variation elsewhere (what reconstruction attends to first)."""
    rng = np.random.default_rng(1)
    segments = rng.normal(0, 1, (100, 8, 30))
    segments[:, :, :4] += 1.5 * rng.normal(0, 1, (100, 1, 4))
    segments[:, :, 4:10] *= 3.0
    return segments


def _found_by_other_half(model: Representation, segments: np.ndarray) -> float:
    """Share of tracks whose first half's code is nearest (cosine) to its own second half's."""
    first, second = model.transform(segments[:, :4]), model.transform(segments[:, 4:])
    first /= np.linalg.norm(first, axis=1, keepdims=True)
    second /= np.linalg.norm(second, axis=1, keepdims=True)
    return float((np.argmax(first @ second.T, axis=1) == np.arange(len(first))).mean())


def test_the_contrastive_term_makes_a_tracks_halves_find_each_other() -> None:
    segments = _identities()
    settings = {"latent_dim": 4, "epochs": 80, "random_state": 0}
    plain = _found_by_other_half(GroupVAE(**settings).fit(segments), segments)
    contrasted = _found_by_other_half(GroupVAE(contrast_weight=0.3, **settings).fit(segments), segments)
    encoder = _found_by_other_half(ContrastiveEncoder(**settings).fit(segments), segments)
    assert contrasted > max(0.4, 2 * plain)  # measured: 0.69 against 0.17
    assert encoder > 0.2  # chance: 0.01


def test_the_contrastive_encoder_needs_segments_and_gives_directions() -> None:
    segments = _segments()
    codes = ContrastiveEncoder(**FAST).fit(segments).transform(segments)
    assert np.allclose(np.linalg.norm(codes, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="two segments or more"):
        ContrastiveEncoder(**FAST).fit(low_rank_features())


def test_a_config_takes_the_contrastive_kind_and_the_terms_parameters() -> None:
    config = validate_config({"representations": [
        {"name": "c", "kind": "contrastive", "input": "pretrained", "params": {"temperature": 1.0}},
        {"name": "g", "kind": "group-vae", "input": "fused", "params": {"contrast_weight": 0.1}}],
        "clusterers": [{"name": "kmeans"}]})
    assert [spec.kind for spec in config.representations] == ["contrastive", "group-vae"]
