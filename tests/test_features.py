import numpy as np
import pytest

from songscape.audio.features import (
    SpectralSettings,
    centre_patch,
    chroma_filterbank,
    estimate_tempo,
    mel_filterbank,
    onset_strength,
    power_spectrogram,
    power_to_db,
    rolloff_bins,
    spectral_contrast,
    stat_names,
    track_features,
)

SETTINGS = SpectralSettings()
SR = 22050


def sine(freq: float, seconds: float = 1.0) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(int(seconds * SR)) / SR).astype(np.float32)


def test_power_spectrogram_peaks_at_tone_frequency() -> None:
    power = power_spectrogram(sine(1000.0), 2048, 512)
    assert power.shape == (1 + SR // 512, 1025) and power.dtype == np.float32
    assert abs(np.argmax(power[10]) * SR / 2048 - 1000.0) < SR / 2048


def test_mel_filterbank_ordered_and_positive() -> None:
    filters = mel_filterbank(SR, 2048, 64)
    assert filters.shape == (64, 1025) and np.all(filters >= 0)
    assert np.all(filters.sum(axis=1) > 0) and np.all(np.diff(np.argmax(filters, axis=1)) >= 0)


def test_chroma_puts_a440_on_a() -> None:
    power = power_spectrogram(sine(440.0), 2048, 512)
    chroma = chroma_filterbank(SR, 2048) @ power[10]
    assert int(np.argmax(chroma)) == 9  # C, C#, …, A


def test_spectral_contrast_higher_for_tone_than_noise() -> None:
    noise = np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    tone_contrast = spectral_contrast(power_spectrogram(sine(1000.0) + 0.01 * noise, 2048, 512), SR, 2048)
    noise_contrast = spectral_contrast(power_spectrogram(noise, 2048, 512), SR, 2048)
    assert tone_contrast.shape == (7, 44)  # every frame when called directly
    assert tone_contrast[3].mean() > noise_contrast[3].mean() + 20  # the 800–1600 Hz band


def test_rolloff_matches_cumulative_sum() -> None:
    power = power_spectrogram(np.random.default_rng(1).standard_normal(SR).astype(np.float32), 2048, 512)
    total = power.sum(axis=1)
    cumulative = np.cumsum(power.astype(np.float64), axis=1)
    expected = np.argmax(cumulative >= 0.85 * cumulative[:, -1:], axis=1)
    assert np.abs(rolloff_bins(power, total) - expected).max() <= 1


def test_tempo_of_a_click_track() -> None:
    clicks = np.zeros(SR * 10, dtype=np.float32)
    for beat in np.arange(0, 10, 0.5):  # 120 BPM
        clicks[int(beat * SR):int(beat * SR) + 200] = 1.0
    power = power_spectrogram(clicks, 2048, 512)
    onset = onset_strength(power_to_db(power @ mel_filterbank(SR, 2048, 64).T).T)
    bpm, strength = estimate_tempo(onset, SR, 512)
    assert bpm == pytest.approx(120.0, rel=0.03) and strength > 0.5


def test_track_features_named_finite_and_fixed_size() -> None:
    rng = np.random.default_rng(0)
    names = stat_names(SETTINGS)
    assert len(set(names)) == len(names) == 174
    for seconds in (0.5, 30.0):
        stats, patch = track_features(rng.standard_normal(int(SR * seconds)).astype(np.float32), SETTINGS)
        assert stats.shape == (len(names),) and np.all(np.isfinite(stats))
        assert patch.shape == (SETTINGS.n_mels, SETTINGS.patch_frames)
    features = dict(zip(names, track_features(sine(440.0, 3.0), SETTINGS)[0]))
    assert features["zcr_mean"] == pytest.approx(2 * 440 / SR, rel=0.05)
    assert features["centroid_mean"] == pytest.approx(0.44, rel=0.1)


def test_centre_patch_pads_short_input() -> None:
    short = np.arange(6, dtype=np.float32).reshape(2, 3)
    padded = centre_patch(short, 7)
    assert padded.shape == (2, 7) and np.array_equal(padded[:, 2:5], short)
    assert np.all(padded[:, :2] == 0)


@pytest.mark.parametrize("hop", [512, 300])
def test_zero_crossing_rate_matches_counting_in_each_frame(hop: int) -> None:
    from songscape.audio.features import _centred, _frames, zero_crossing_rate

    signal = np.random.default_rng(2).standard_normal(SR // 2).astype(np.float32)
    centred = _centred(signal, 2048)
    signs = np.signbit(_frames(centred, 2048, hop))
    expected = (signs[:, 1:] != signs[:, :-1]).mean(axis=1)
    assert np.allclose(zero_crossing_rate(centred, 2048, hop), expected)
