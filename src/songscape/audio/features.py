"""Features from one STFT per track: log-mel, MFCC statistics, spectral shape and onsets.

Small pure functions over arrays with explicit sample rates. `track_features` computes the
power spectrogram once and derives everything else from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import dct, rfft

_AMIN = 1e-10  # power floor before the logarithm (-100 dB)


@dataclass(frozen=True)
class SpectralSettings:
    """Analysis settings; part of the feature cache key."""

    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 64
    n_mfcc: int = 20
    patch_frames: int = 128


def power_spectrogram(samples: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """|STFT|² with a Hann window and centred (reflect-padded) frames; shape (n_fft//2+1, frames)."""
    padded = np.pad(samples.astype(np.float32), n_fft // 2, mode="reflect")
    frames = sliding_window_view(padded, n_fft)[::hop_length]
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)  # periodic Hann
    spectrum = rfft(frames * window, axis=1)
    return (spectrum.real**2 + spectrum.imag**2).T.astype(np.float32)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


@lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Triangular, area-normalised (Slaney) mel filters; shape (n_mels, n_fft//2+1)."""
    fmax = sample_rate / 2 if fmax is None else fmax
    bin_hz = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bin_hz - lower) / (centre - lower)
    falling = (upper - bin_hz) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (upper - lower))
    weights.setflags(write=False)
    return weights.astype(np.float32)


def power_to_db(power: np.ndarray) -> np.ndarray:
    """10·log10(power), floored at -100 dB."""
    return 10.0 * np.log10(np.maximum(power, _AMIN))


def mfcc_from_log_mel(log_mel_db: np.ndarray, n_mfcc: int) -> np.ndarray:
    """Orthonormal DCT-II over mel bands; shape (n_mfcc, frames)."""
    return dct(log_mel_db, type=2, axis=0, norm="ortho")[:n_mfcc]


def onset_strength(log_mel_db: np.ndarray) -> np.ndarray:
    """Mean positive change of log-mel energy between frames; shape (frames,)."""
    rise = np.maximum(0.0, np.diff(log_mel_db, axis=1, prepend=log_mel_db[:, :1]))
    return rise.mean(axis=0)


def spectral_shape(power: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """Per-frame centroid (Hz), 85% roll-off (Hz), flatness (0–1) and RMS."""
    bin_hz = np.linspace(0, sample_rate / 2, power.shape[0], dtype=np.float32)[:, None]
    total = power.sum(axis=0) + _AMIN
    centroid = (bin_hz * power).sum(axis=0) / total
    cumulative = np.cumsum(power, axis=0)
    rolloff = bin_hz[np.argmax(cumulative >= 0.85 * cumulative[-1], axis=0), 0]
    flatness = np.exp(np.log(power + _AMIN).mean(axis=0)) / (power.mean(axis=0) + _AMIN)
    n_fft = 2 * (power.shape[0] - 1)
    rms = np.sqrt(2 * total / n_fft**2)
    return {"centroid": centroid, "rolloff": rolloff, "flatness": flatness, "rms": rms}


def centre_patch(log_mel_db: np.ndarray, frames: int) -> np.ndarray:
    """The centre ``frames`` columns of a log-mel; shorter input is padded with its minimum."""
    n = log_mel_db.shape[1]
    if n >= frames:
        start = (n - frames) // 2
        return log_mel_db[:, start:start + frames]
    before = (frames - n) // 2
    return np.pad(log_mel_db, ((0, 0), (before, frames - n - before)),
                  constant_values=float(log_mel_db.min()))


_SHAPE_NAMES = ("centroid", "rolloff", "flatness", "rms", "onset")


def stat_names(settings: SpectralSettings) -> list[str]:
    """Name of every dimension of the vector `track_features` returns, in order."""
    mfcc = [f"mfcc{i:02d}" for i in range(settings.n_mfcc)]
    return ([f"{m}_mean" for m in mfcc] + [f"{m}_std" for m in mfcc]
            + [f"{m}_delta_std" for m in mfcc]
            + [f"{name}_{stat}" for name in _SHAPE_NAMES for stat in ("mean", "std")])


def track_features(samples: np.ndarray, settings: SpectralSettings) -> tuple[np.ndarray, np.ndarray]:
    """Statistics vector (named by `stat_names`) and a (n_mels, patch_frames) log-mel patch,
    all from one STFT of ``samples``."""
    power = power_spectrogram(samples, settings.n_fft, settings.hop_length)
    filters = mel_filterbank(settings.sample_rate, settings.n_fft, settings.n_mels)
    log_mel_db = power_to_db(filters @ power)
    mfcc = mfcc_from_log_mel(log_mel_db, settings.n_mfcc)
    delta = np.diff(mfcc, axis=1) if mfcc.shape[1] > 1 else np.zeros_like(mfcc)
    shape = spectral_shape(power, settings.sample_rate)
    shape["onset"] = onset_strength(log_mel_db)
    shape["centroid"] = shape["centroid"] / 1000.0  # kHz keeps magnitudes comparable
    shape["rolloff"] = shape["rolloff"] / 1000.0
    stats = np.concatenate(
        [mfcc.mean(axis=1), mfcc.std(axis=1), delta.std(axis=1)]
        + [np.array([shape[name].mean(), shape[name].std()]) for name in _SHAPE_NAMES]
    )
    patch = centre_patch(log_mel_db, settings.patch_frames)
    return stats.astype(np.float32), patch.astype(np.float32)
