"""The contrastive term (two halves of a track's segments are a positive pair, the batch's other
tracks negatives) inside the group VAE, and the plain contrastive encoder that shows what the
VAE part adds."""

from __future__ import annotations

from pathlib import Path
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


def test_fused_blocks_weigh_the_same_whatever_their_width() -> None:
    from songscape.experiment import _unit_blocks

    rng = np.random.default_rng(0)
    narrow, wide = rng.normal(5, 3, (40, 3)), rng.normal(-2, 0.1, (40, 300))
    usable = np.arange(40) != 7
    fused = _unit_blocks([narrow, wide], usable)
    assert fused.shape == (40, 303) and not fused[7].any()
    for part in (fused[usable, :3], fused[usable, 3:]):  # each block: mean squared row norm 1
        assert abs(float((part ** 2).sum(axis=1).mean()) - 1.0) < 1e-4


def test_the_fused_input_reads_the_statistics_and_two_networks(tiny_corpus: Path,
                                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    from songscape.collection import load_collection
    from songscape.experiment import run_experiment
    from songscape.workspace import Workspace, read_npz

    config = validate_config({
        "representations": [{"name": "gv-fused", "kind": "group-vae", "input": "fused",
                             "params": {**FAST, "contrast_weight": 0.3}},
                            {"name": "pretrained", "kind": "raw", "input": "pretrained"}],
        "clusterers": [{"name": "kmeans"}], "seeds": [0], "n_clusters": 2,
        "audio": {"excerpt": "segments", "excerpt_seconds": 3.0, "crops": 2, "fused_network": "MTT_musicnn"},
        "lyrics": {"method": "tfidf", "n_components": 4, "min_df": 1}})
    collection = load_collection(tiny_corpus.parent, tiny_corpus)
    workspace = Workspace(tmp_path_factory.mktemp("fused"))
    outcome = run_experiment(config, collection, workspace, log=lambda _: None)
    rows = outcome.results.set_index("representation")
    assert rows.loc["gv-fused", "input"] == "fused" and bool(rows.loc["gv-fused", "segments"])
    assert np.isfinite(read_npz(workspace.embedding("gv-fused", 0))["embedding"]).all()
    model_inputs = sorted(path.name for path in (workspace.root / "features").glob("audio-*"))
    assert len(model_inputs) == 2  # the statistics with mn04_as, and MTT_musicnn's embeddings
