from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from songscape.audio.decode import DecodeError, centre_excerpt, decode
from songscape.audio.extract import extract_collection, extract_track
from songscape.audio.features import (SpectralSettings, centre_patch, mel_filterbank,
                                      power_spectrogram, stat_names, track_features)
from tests.conftest import write_tone

SETTINGS = SpectralSettings()


def test_decode_downmixes_and_resamples(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "stereo.wav", seconds=1.0, sr=44100, channels=2)
    decoded = decode(path, 22050)
    assert decoded.samples.ndim == 1 and decoded.sample_rate == 22050
    assert abs(len(decoded.samples) - 22050) <= 2
    assert decoded.duration_s == pytest.approx(1.0)


def test_decode_rejects_non_audio(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp3"
    fake.write_text("this is not audio")
    with pytest.raises(DecodeError, match="cannot decode"):
        decode(fake, 22050)


def test_centre_excerpt() -> None:
    samples = np.arange(100, dtype=np.float32)
    assert np.array_equal(centre_excerpt(samples, 10, 4.0), np.arange(30, 70))
    assert len(centre_excerpt(samples, 10, 20.0)) == 100
    assert len(centre_excerpt(samples, 10, None)) == 100


def test_power_spectrogram_peaks_at_tone_frequency() -> None:
    sr, n_fft = 22050, 2048
    t = np.arange(sr) / sr
    power = power_spectrogram(np.sin(2 * np.pi * 1000.0 * t), n_fft, 512)
    assert power.shape == (n_fft // 2 + 1, 1 + sr // 512)
    peak_hz = np.argmax(power[:, 10]) * sr / n_fft
    assert abs(peak_hz - 1000.0) < sr / n_fft


def test_mel_filterbank_covers_spectrum() -> None:
    filters = mel_filterbank(22050, 2048, 64)
    assert filters.shape == (64, 1025)
    assert np.all(filters >= 0) and np.all(filters.sum(axis=1) > 0)
    centres = np.argmax(filters, axis=1)
    assert np.all(np.diff(centres) >= 0)  # ordered from low to high


def test_track_features_shapes_and_names() -> None:
    rng = np.random.default_rng(0)
    stats, patch = track_features(rng.standard_normal(22050 * 2).astype(np.float32), SETTINGS)
    assert stats.shape == (len(stat_names(SETTINGS)),) and np.all(np.isfinite(stats))
    assert patch.shape == (SETTINGS.n_mels, SETTINGS.patch_frames)
    assert len(set(stat_names(SETTINGS))) == len(stat_names(SETTINGS))


def test_centre_patch_pads_short_input() -> None:
    short = np.arange(6, dtype=np.float32).reshape(2, 3)
    padded = centre_patch(short, 7)
    assert padded.shape == (2, 7) and np.array_equal(padded[:, 2:5], short)
    assert np.all(padded[:, :2] == 0)


@pytest.mark.parametrize("content,reason", [
    (b"", "cannot decode"),
    (b"RIFF\x00\x00\x00\x00WAVEjunk", "cannot decode"),
])
def test_broken_files_become_errors(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    result = extract_track(str(path), SETTINGS, 30.0)
    assert result.stats is None and reason in result.error


def test_silent_and_too_short_files(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(22050, dtype=np.float32), 22050)
    tiny = tmp_path / "tiny.wav"
    sf.write(tiny, np.full(100, 0.5, dtype=np.float32), 22050)
    assert "silent" in extract_track(str(silent), SETTINGS, 30.0).error
    assert "too short" in extract_track(str(tiny), SETTINGS, 30.0).error


def test_collection_keeps_order_and_skips_bad_rows(tmp_path: Path) -> None:
    good = [write_tone(tmp_path / f"t{i}.wav", freq=200.0 * (i + 1)) for i in range(3)]
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"nope")
    paths = [str(good[0]), str(bad), str(good[1]), str(good[2])]
    features = extract_collection(paths, SETTINGS, 30.0, workers=2)
    assert list(features.ok) == [True, False, True, True]
    assert np.isnan(features.stats[1]).all() and np.isfinite(features.stats[[0, 2, 3]]).all()
    single = extract_collection(paths, SETTINGS, 30.0, workers=1)
    assert np.array_equal(single.stats[[0, 2, 3]], features.stats[[0, 2, 3]])
