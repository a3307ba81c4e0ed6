"""The EfficientAT mn04_as port, tested as a port is tested when the original cannot run here:
its packaged weights load strictly into the network and are checked by SHA-256; known sounds
land on their AudioSet classes; music gets music classes; the input features behave as their
definition says."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from songscape.audio import efficientat
from songscape.audio.efficientat import (
    BLOCKS_EMBEDDING_SIZE,
    EMBEDDING_SIZE,
    SAMPLE_RATE,
    WEIGHTS_FILE,
    WEIGHTS_SHA256,
    EfficientAT,
    WeightsError,
    file_sha256,
    kaldi_mel_filterbank,
    log_mel,
)
from songscape.demo.synth import STYLES, render_track

SECONDS = 4.0


@pytest.fixture(scope="module")
def network() -> EfficientAT:
    return EfficientAT()


def _top(network: EfficientAT, clip: np.ndarray, count: int) -> list[str]:
    probabilities = network.predict([clip.astype(np.float32)]).probabilities[0]
    return [network.class_names[i] for i in np.argsort(-probabilities)[:count]]


def _time(seconds: float = SECONDS) -> np.ndarray:
    return np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE


def test_the_packaged_weights_are_the_published_ones() -> None:
    assert file_sha256(WEIGHTS_FILE) == WEIGHTS_SHA256
    assert len(efficientat.class_names()) == 527


def test_damaged_weights_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = tmp_path / WEIGHTS_FILE.name
    shutil.copyfile(WEIGHTS_FILE, damaged)
    with open(damaged, "r+b") as handle:
        handle.seek(100_000)
        byte = handle.read(1)
        handle.seek(100_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr(efficientat, "WEIGHTS_FILE", damaged)
    with pytest.raises(WeightsError, match="SHA-256 .* expected 899a8c62"):
        EfficientAT()
    monkeypatch.setattr(efficientat, "WEIGHTS_FILE", tmp_path / "absent.pt")
    with pytest.raises(WeightsError, match="not found"):
        EfficientAT()


def test_a_pure_tone_is_a_sine_wave(network: EfficientAT) -> None:
    assert _top(network, 0.3 * np.sin(2 * np.pi * 440.0 * _time()), 1) == ["Sine wave"]


def test_white_noise_is_noise(network: EfficientAT) -> None:
    noise = 0.1 * np.random.default_rng(0).standard_normal(len(_time()))
    assert {"White noise", "Pink noise", "Static", "Noise"} & set(_top(network, noise, 3))


def test_silence_is_silence(network: EfficientAT) -> None:
    assert _top(network, np.zeros(len(_time())), 1) == ["Silence"]


def test_a_click_train_ticks(network: EfficientAT) -> None:
    rng = np.random.default_rng(0)
    clip, length = np.zeros(len(_time())), int(0.015 * SAMPLE_RATE)
    for start in range(0, len(clip) - length, SAMPLE_RATE):  # a 15-ms click every second
        clip[start:start + length] = 0.8 * np.exp(-np.arange(length) / (length / 5)) * rng.standard_normal(length)
    assert {"Tick", "Tick-tock"} & set(_top(network, clip, 2))


@pytest.mark.parametrize("style", STYLES)
def test_music_is_music(network: EfficientAT, style: str) -> None:
    clip = render_track(style, 6.0, SAMPLE_RATE, np.random.default_rng(STYLES.index(style)))
    top = _top(network, clip, 5)
    assert top[0] == "Music" and len(top) == 5


def test_clips_of_any_length_give_one_embedding_each(network: EfficientAT) -> None:
    clips = [0.2 * np.sin(2 * np.pi * 220.0 * _time(seconds)).astype(np.float32) for seconds in (0.5, 3.0, 10.0)]
    predictions = network.predict(clips)
    assert predictions.embeddings.shape == (3, EMBEDDING_SIZE) and predictions.probabilities.shape == (3, 527)
    assert np.all((predictions.probabilities >= 0) & (predictions.probabilities <= 1))


def test_the_blocks_embedding_adds_every_blocks_mean_to_the_last_layer(network: EfficientAT) -> None:
    clips = [render_track(style, SECONDS, SAMPLE_RATE, np.random.default_rng(0)).astype(np.float32)
             for style in STYLES[:2]]
    plain, blocks = network.predict(clips), EfficientAT(all_blocks=True).predict(clips)
    assert blocks.embeddings.shape == (2, BLOCKS_EMBEDDING_SIZE)
    assert np.allclose(blocks.embeddings[:, -EMBEDDING_SIZE:], plain.embeddings, atol=1e-5)
    assert np.allclose(blocks.probabilities, plain.probabilities, atol=1e-6)  # the same network, the same tags
    assert np.all(np.abs(blocks.embeddings[:, :-EMBEDDING_SIZE]).sum(axis=1) > 0)


def test_kaldi_filterbank_is_triangles_on_the_mel_scale() -> None:
    bank = kaldi_mel_filterbank(n_mels=128, n_fft=1024, sample_rate=32000, f_min=0.0, f_max=15000.0)
    assert bank.shape == (128, 513) and np.all(bank[:, -1] == 0) and bank.max() <= 1.0
    peaks = bank.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0) and peaks[-1] * 32000 / 1024 < 15000
    assert np.all(bank[:, 15000 * 1024 // 32000 + 1:] == 0)  # nothing above f_max


def test_log_mel_frames_follow_the_hop() -> None:
    features = log_mel(np.zeros(SAMPLE_RATE, dtype=np.float32))
    assert features.shape == (128, 1 + (SAMPLE_RATE - 1) // 320)  # centred frames; pre-emphasis drops a sample
    assert np.allclose(features, (np.log(1e-5) + 4.5) / 5.0)
