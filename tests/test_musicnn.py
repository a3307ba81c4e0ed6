"""The PyTorch musicnn matches the original TensorFlow model (fixtures made once with it by
tools/convert_musicnn.py; TensorFlow is not needed here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from songscape.audio.musicnn import MODELS, PATCH_FRAMES, Musicnn, log_mel, patches

FIXTURES = Path(__file__).parent / "data" / "musicnn"


@pytest.mark.parametrize("model", MODELS)
def test_network_matches_tensorflow_within_1e_4(model: str) -> None:
    tags, penultimate = Musicnn(model).predict_patches(np.load(FIXTURES / "patches.npy"))
    np.testing.assert_allclose(tags, np.load(FIXTURES / f"{model}_tags.npy"), atol=1e-4, rtol=0)
    np.testing.assert_allclose(penultimate, np.load(FIXTURES / f"{model}_penultimate.npy"), atol=1e-4, rtol=0)


def test_front_end_matches_librosa_and_stays_finite_on_loud_audio() -> None:
    audio = np.load(FIXTURES / "audio.npy")
    power = np.load(FIXTURES / "mel_power.npy")  # librosa.feature.melspectrogram, musicnn's settings
    ours = log_mel(audio)
    np.testing.assert_allclose(ours, np.log10(10000 * power.astype(np.float64) + 1), atol=1e-4, rtol=0)
    assert np.isfinite(ours).all()
    with np.errstate(over="ignore"):  # the original's float16 cast: inf in the loud passage
        assert np.isinf(np.log10(10000 * power.astype(np.float16) + 1)).any()
    np.testing.assert_allclose(patches(ours), np.load(FIXTURES / "patches.npy"), atol=1e-4, rtol=0)


def test_whole_track_tags_and_embedding_are_patch_means() -> None:
    tagger = Musicnn("MTT_musicnn")
    audio = np.load(FIXTURES / "audio.npy")
    result = tagger.track(audio)
    assert result.patch_tags.shape == (2, 50) and result.patch_embeddings.shape == (2, 200)
    np.testing.assert_allclose(result.embedding, result.patch_embeddings.mean(axis=0))
    assert len(tagger.tag_names) == 50 and tagger.tag_names[:3] == ["guitar", "classical", "slow"]
    short = tagger.track(audio[:8000])  # half a second: padded with silence to one patch
    assert short.patch_tags.shape == (1, 50) and np.isfinite(short.tags).all()


def test_patches_cut_three_second_blocks() -> None:
    frames = np.arange(3 * PATCH_FRAMES + 5, dtype=np.float32)[:, None].repeat(96, axis=1)
    cut = patches(frames)
    assert cut.shape == (3, PATCH_FRAMES, 96) and cut[1, 0, 0] == PATCH_FRAMES


def test_unknown_model_or_missing_weights_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown musicnn model 'MTT_vgg'"):
        Musicnn("MTT_vgg")
    with pytest.raises(FileNotFoundError, match="musicnn weights not found"):
        Musicnn(weights=tmp_path / "none.npz")
