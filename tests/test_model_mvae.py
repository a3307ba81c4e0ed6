"""Multimodal VAE: the shared contract, the product of experts and tracks without lyrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from songscape.models import MultimodalVAE, Representation
from songscape.models.multimodal import product_of_experts
from tests.model_contract import N_ROWS, NeuralContract, low_rank_features

FAST = {"latent_dim": 3, "hidden": (16,), "epochs": 40, "warmup_epochs": 5}


def multimodal_inputs() -> dict[str, Any]:
    lyrics_mask = np.arange(N_ROWS) % 4 != 0  # a quarter of the tracks have no lyrics
    lyrics = low_rank_features(seed=1, d=6)
    lyrics[~lyrics_mask] = np.nan  # whatever is there must not be read
    return {"audio": low_rank_features(), "lyrics": lyrics, "lyrics_mask": lyrics_mask}


class TestMultimodalVAE(NeuralContract):
    def build(self, random_state: int = 0) -> Representation:
        return MultimodalVAE(random_state=random_state, **FAST)

    def inputs(self) -> dict[str, Any]:
        return multimodal_inputs()


def test_product_of_experts_with_the_prior() -> None:
    mean = torch.tensor([[2.0], [2.0]])
    log_variance = torch.zeros((2, 1))  # unit variance: precision 1, like the prior
    fused_mean, fused_log_variance = product_of_experts([mean], [log_variance], [torch.tensor([1.0, 0.0])])
    assert torch.allclose(fused_mean, torch.tensor([[1.0], [0.0]]))  # (2·1 + 0·1) / 2, prior alone
    assert torch.allclose(fused_log_variance, torch.tensor([[-float(np.log(2.0))], [0.0]]))


def test_tracks_without_lyrics_are_encoded_from_audio_alone() -> None:
    inputs = multimodal_inputs()
    model = MultimodalVAE(random_state=0, **FAST).fit(**inputs)
    joint = model.transform(**inputs)
    assert np.all(np.isfinite(joint))
    audio_only = model.transform(inputs["audio"])
    without = ~inputs["lyrics_mask"]
    assert np.allclose(joint[without], audio_only[without], atol=1e-6)
    assert not np.allclose(joint[~without], audio_only[~without])
    other_lyrics = {**inputs, "lyrics": np.where(without[:, None], 123.0, inputs["lyrics"])}
    assert np.array_equal(model.transform(**other_lyrics), joint)
    decoded = model.reconstruct(**inputs)
    assert decoded["audio"].shape == (N_ROWS, 10) and decoded["lyrics"].shape == (N_ROWS, 6)


def test_subset_training_adds_single_modality_terms_and_weights_count() -> None:
    inputs = multimodal_inputs()
    terms = MultimodalVAE(random_state=0, **{**FAST, "epochs": 3}).fit(**inputs).history_[-1]
    assert {"train_reconstruction_audio", "train_reconstruction_lyrics",
            "train_reconstruction_audio+lyrics"} <= set(terms)
    joint_only = MultimodalVAE(subset_training=False, random_state=0, **{**FAST, "epochs": 3})
    assert "train_reconstruction_audio" not in joint_only.fit(**inputs).history_[-1]
    heavy_lyrics = MultimodalVAE(lyrics_weight=10.0, random_state=0, **FAST).fit(**inputs).history_[-1]
    light_lyrics = MultimodalVAE(lyrics_weight=0.1, random_state=0, **FAST).fit(**inputs).history_[-1]
    assert heavy_lyrics["train_reconstruction_lyrics"] > light_lyrics["train_reconstruction_lyrics"]


def test_lyrics_are_required_somewhere_and_rows_must_match() -> None:
    inputs = multimodal_inputs()
    with pytest.raises(ValueError, match="needs some rows with lyrics"):
        MultimodalVAE(**FAST).fit(inputs["audio"])
    with pytest.raises(ValueError, match="audio has 60 rows but lyrics 59"):
        MultimodalVAE(**FAST).fit(inputs["audio"], inputs["lyrics"][:59], inputs["lyrics_mask"][:59])


def test_mfa_balance_keeps_a_lyric_direction_that_many_audio_features_drown() -> None:
    """Audio: 60 statistics driven by two strong factors; lyrics: 120 dimensions of
    idiosyncratic noise plus one language direction in 12 of them. Balanced by size, the two
    latent dimensions go to the audio; balanced by each modality's first principal axis
    (multiple factor analysis), language keeps its place in the code."""
    rng = np.random.default_rng(0)
    n = 160
    language = np.repeat([0, 1], n // 2)
    audio = rng.standard_normal((n, 2)) @ rng.standard_normal((2, 60)) + 0.1 * rng.standard_normal((n, 60))
    lyrics = rng.standard_normal((n, 120))
    lyrics[:, :12] += 1.5 * (2 * language[:, None] - 1)
    settings = {**FAST, "latent_dim": 2, "epochs": 150}

    def language_in_code(balance: str) -> float:
        model = MultimodalVAE(balance=balance, random_state=0, **settings).fit(audio, lyrics)
        code = model.transform(audio, lyrics)
        return abs(np.corrcoef(class_mean_projection(code, language), language)[0, 1])

    by_size, by_mfa = language_in_code("size"), language_in_code("mfa")
    assert by_mfa > 0.75 and by_mfa > by_size + 0.3, (by_size, by_mfa)
    with pytest.raises(ValueError, match="balance must be one of mfa, size"):
        MultimodalVAE(balance="equal")


def class_mean_projection(code: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The code projected on the direction between the two class means."""
    direction = code[classes == 1].mean(axis=0) - code[classes == 0].mean(axis=0)
    return code @ direction
