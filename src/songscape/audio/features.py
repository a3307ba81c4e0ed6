"""Features from one STFT per track.

Small pure functions over arrays with explicit sample rates. `track_features` computes the
power spectrogram once and derives everything from it (and from the same frames): log-mel
patch, MFCC + Δ + ΔΔ, chroma, spectral contrast, centroid, bandwidth, roll-off, flatness, RMS,
zero-crossing rate, onset strength and a tempo estimate. `stat_names` names every dimension.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import dct, rfft

_AMIN = 1e-10  # power floor before the logarithm (-100 dB)
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
CONTRAST_BANDS = 6  # octave bands above 200 Hz, plus the band below: 7 contrast values
CONTRAST_QUANTILE = 0.02
CONTRAST_FRAME_STEP = 8  # contrast statistics from every 8th frame: its sort dominated the cost
FRAME_BLOCK = 256  # frames whose spectrum is reduced together (a multiple of the step above)
_FRAME_SERIES = ("centroid", "bandwidth", "rolloff", "flatness", "rms", "zcr", "onset")


@dataclass(frozen=True)
class SpectralSettings:
    """Analysis settings; part of the feature cache key."""

    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 64
    n_mfcc: int = 20
    patch_frames: int = 128


def _centred(samples: np.ndarray, n_fft: int, pad_mode: str = "reflect") -> np.ndarray:
    """The signal padded by half a frame on each side (``reflect`` or ``constant`` zeros), so
    frame t is centred on t·hop."""
    return np.pad(samples.astype(np.float32, copy=False), n_fft // 2, mode=pad_mode)


@lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    return np.hanning(n_fft + 1)[:-1].astype(np.float32)  # periodic Hann


def _frames(centred: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """Overlapping frames of the centred signal as a read-only view; shape (frames, n_fft)."""
    return sliding_window_view(centred, n_fft)[::hop_length]


def _power(frames: np.ndarray) -> np.ndarray:
    spectrum = rfft(frames * _hann(frames.shape[1]), axis=1, workers=1, overwrite_x=True)
    interleaved = spectrum.view(np.float32)  # re, im, re, im, …
    interleaved *= interleaved
    return interleaved[:, 0::2] + interleaved[:, 1::2]


def power_spectrogram(samples: np.ndarray, n_fft: int, hop_length: int,
                      pad_mode: str = "reflect") -> np.ndarray:
    """|STFT|² with a Hann window and centred frames, frames first; shape
    (frames, n_fft//2+1), float32."""
    return _power(_frames(_centred(samples, n_fft, pad_mode), n_fft, hop_length))


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


def _bin_frequencies(sample_rate: int, n_fft: int) -> np.ndarray:
    return np.linspace(0, sample_rate / 2, n_fft // 2 + 1)


@lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Triangular, area-normalised (Slaney) mel filters; shape (n_mels, n_fft//2+1)."""
    fmax = sample_rate / 2 if fmax is None else fmax
    bin_hz = _bin_frequencies(sample_rate, n_fft)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bin_hz - lower) / (centre - lower)
    falling = (upper - bin_hz) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (upper - lower))
    weights = weights.astype(np.float32)
    weights.setflags(write=False)
    return weights


@lru_cache(maxsize=16)
def chroma_filterbank(sample_rate: int, n_fft: int, fmin: float = 55.0,
                      fmax: float = 5000.0) -> np.ndarray:
    """Maps FFT bins between ``fmin`` and ``fmax`` onto 12 pitch classes (C first), each bin
    split linearly between its two nearest semitones; shape (12, n_fft//2+1)."""
    bin_hz = _bin_frequencies(sample_rate, n_fft)
    weights = np.zeros((12, len(bin_hz)), dtype=np.float32)
    usable = (bin_hz >= fmin) & (bin_hz <= fmax)
    semitone = 12.0 * np.log2(bin_hz[usable] / 440.0) + 69.0  # MIDI number, fractional
    lower = np.floor(semitone).astype(int)
    upper_share = (semitone - lower).astype(np.float32)
    columns = np.nonzero(usable)[0]
    np.add.at(weights, (lower % 12, columns), 1.0 - upper_share)
    np.add.at(weights, ((lower + 1) % 12, columns), upper_share)
    weights.setflags(write=False)
    return weights


def power_to_db(power: np.ndarray) -> np.ndarray:
    """10·log10(power), floored at -100 dB."""
    return 10.0 * np.log10(np.maximum(power, _AMIN))


def mfcc_from_log_mel(log_mel_db: np.ndarray, n_mfcc: int) -> np.ndarray:
    """Orthonormal DCT-II over mel bands; shape (n_mfcc, frames)."""
    return dct(log_mel_db, type=2, axis=0, norm="ortho")[:n_mfcc]


def delta(series: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression slope over ±``width`` frames along the last axis (edges repeated)."""
    padded = np.pad(series, ((0, 0), (width, width)), mode="edge")
    n = series.shape[1]
    slope = sum(k * (padded[:, width + k:width + k + n] - padded[:, width - k:width - k + n])
                for k in range(1, width + 1))
    return slope / (2 * sum(k * k for k in range(1, width + 1)))


def onset_strength(log_mel_db: np.ndarray) -> np.ndarray:
    """Mean positive change of log-mel energy between frames; shape (frames,)."""
    rise = np.maximum(0.0, np.diff(log_mel_db, axis=1, prepend=log_mel_db[:, :1]))
    return rise.mean(axis=0)


def estimate_tempo(onset: np.ndarray, sample_rate: int, hop_length: int,
                   bpm_range: tuple[float, float] = (40.0, 240.0)) -> tuple[float, float]:
    """Tempo (BPM) at the strongest autocorrelation peak of the onset envelope, weighted by a
    log-normal prior around 120 BPM; and that peak's normalised strength (0–1). (0, 0) where
    nothing repeats: no tempo."""
    envelope = onset - onset.mean()
    size = 1 << (2 * len(envelope) - 1).bit_length()
    spectrum = np.fft.rfft(envelope, n=size)
    autocorrelation = np.fft.irfft(spectrum * np.conj(spectrum), n=size)[:len(envelope)]
    if autocorrelation[0] <= 0:
        return 0.0, 0.0
    autocorrelation /= autocorrelation[0]
    frames_per_minute = 60.0 * sample_rate / hop_length
    lags = np.arange(len(autocorrelation))
    valid = (lags >= frames_per_minute / bpm_range[1]) & (lags <= frames_per_minute / bpm_range[0])
    if not valid.any():
        return 0.0, 0.0
    bpm = frames_per_minute / lags[valid]
    prior = np.exp(-0.5 * (np.log2(bpm / 120.0)) ** 2)
    best = int(np.argmax(autocorrelation[valid] * prior))
    strength = float(autocorrelation[valid][best])
    if strength <= 0:  # no lag repeats the envelope (a steady tone, a DC offset with codec noise): no tempo
        return 0.0, 0.0
    return float(bpm[best]), strength


def spectral_contrast(power: np.ndarray, sample_rate: int, n_fft: int) -> np.ndarray:
    """Peak-to-valley ratio (dB) per octave band: mean of the top and bottom 2% of bins in
    each band; bands below 200 Hz, 200–400, … up to Nyquist. ``power`` is frames first;
    returns (7, frames)."""
    bin_hz = _bin_frequencies(sample_rate, n_fft)
    edges = [0.0, *(200.0 * 2**i for i in range(CONTRAST_BANDS)), sample_rate / 2 + 1]
    contrast = np.zeros((len(edges) - 1, power.shape[0]), dtype=np.float32)
    for band, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        columns = np.nonzero((bin_hz >= low) & (bin_hz < high))[0]
        if len(columns) < 2:
            continue
        k = max(1, int(round(CONTRAST_QUANTILE * len(columns))))
        ordered = np.partition(power[:, columns[0]:columns[-1] + 1], (k - 1, len(columns) - k), axis=1)
        valley = ordered[:, :k].mean(axis=1)
        peak = ordered[:, -k:].mean(axis=1)
        contrast[band] = power_to_db(peak) - power_to_db(valley)
    return contrast


def zero_crossing_rate(centred: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """Share of sign changes between neighbouring samples within each frame of the centred
    signal: sign changes are counted once per hop, then summed over each frame's hops."""
    signs = np.signbit(centred)
    flips = signs[1:] != signs[:-1]  # flips[i]: between samples i and i + 1
    starts = np.arange(0, len(centred) - n_fft + 1, hop_length)
    if n_fft % hop_length:
        counts = np.concatenate([[0], np.cumsum(flips, dtype=np.int32)])
        return (counts[starts + n_fft - 1] - counts[starts]) / (n_fft - 1)
    per_hop = np.add.reduceat(flips, np.arange(0, len(flips), hop_length), dtype=np.int32)
    hops = n_fft // hop_length
    windows = np.lib.stride_tricks.sliding_window_view(per_hop, hops)[: len(starts)].sum(axis=1)
    last = flips[np.minimum(starts + n_fft - 1, len(flips) - 1)]  # belongs to the next frame
    return (windows - last) / (n_fft - 1)


def rolloff_bins(power: np.ndarray, total: np.ndarray, share: float = 0.85,
                 block: int = 16) -> np.ndarray:
    """Per frame, the first bin at which the cumulative power reaches ``share`` of ``total``:
    found among blocks of ``block`` bins first, then inside the block (exact, and cheaper than
    a cumulative sum over every bin)."""
    n_frames, n_bins = power.shape
    n_blocks = -(-n_bins // block)
    padded = np.pad(power, ((0, 0), (0, n_blocks * block - n_bins)))
    block_totals = np.cumsum(padded.reshape(n_frames, n_blocks, block).sum(axis=2), axis=1)
    threshold = share * total
    chosen = np.minimum(np.argmax(block_totals >= threshold[:, None], axis=1), n_blocks - 1)
    before = np.where(chosen > 0, block_totals[np.arange(n_frames), chosen - 1], 0.0)
    inside = padded.reshape(n_frames, n_blocks, block)[np.arange(n_frames), chosen]
    reached = before[:, None] + np.cumsum(inside, axis=1) >= threshold[:, None]
    return np.minimum(chosen * block + np.argmax(reached, axis=1), n_bins - 1)


@lru_cache(maxsize=8)
def _summary_weights(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Mel filters, chroma filters and the spectral moments (1, f, f² in kHz) stacked into one
    (n_mels + 12 + 3, bins) matrix, so one product per block gives all three."""
    bin_khz = (_bin_frequencies(sample_rate, n_fft) / 1000.0).astype(np.float32)
    weights = np.vstack([mel_filterbank(sample_rate, n_fft, n_mels), chroma_filterbank(sample_rate, n_fft),
                         np.ones_like(bin_khz), bin_khz, bin_khz * bin_khz]).astype(np.float32)
    weights.setflags(write=False)
    return weights


def spectral_summaries(centred: np.ndarray, settings: SpectralSettings) -> dict[str, np.ndarray]:
    """One STFT, reduced as it is computed, a block of frames at a time so the spectrum stays
    in cache: mel power (frames, n_mels), chroma (frames, 12), spectral contrast of every
    `CONTRAST_FRAME_STEP`-th frame (7, frames/step), and per frame the total power, centroid
    and bandwidth (kHz), 85% roll-off (kHz) and flatness (0–1)."""
    frames = _frames(centred, settings.n_fft, settings.hop_length)
    n, n_mels = len(frames), settings.n_mels
    weights = _summary_weights(settings.sample_rate, settings.n_fft, n_mels)
    reduced = np.empty((n, len(weights)), np.float32)  # mel | chroma | moments, per frame
    rolloff_bin, log_power = np.empty(n, np.int64), np.empty(n, np.float32)
    contrast = []
    for start in range(0, n, FRAME_BLOCK):  # FRAME_BLOCK is a multiple of CONTRAST_FRAME_STEP
        block = slice(start, start + FRAME_BLOCK)
        power = _power(frames[block])
        np.matmul(power, weights.T, out=reduced[block])
        rolloff_bin[block] = rolloff_bins(power, reduced[block, -3])
        contrast.append(spectral_contrast(power[::CONTRAST_FRAME_STEP], settings.sample_rate,
                                          settings.n_fft))
        np.log(np.maximum(power, _AMIN, out=power), out=power)  # last use: in place
        log_power[block] = power.mean(axis=1)
    total = reduced[:, -3] + _AMIN
    centroid = reduced[:, -2] / total
    bin_khz = weights[-2]
    return {
        "mel": reduced[:, :n_mels], "chroma": reduced[:, n_mels:n_mels + 12],
        "contrast": np.concatenate(contrast, axis=1), "total": total, "centroid": centroid,
        "bandwidth": np.sqrt(np.maximum(reduced[:, -1] / total - centroid**2, 0.0)),
        "rolloff": bin_khz[rolloff_bin],
        "flatness": np.exp(log_power) / (total / len(bin_khz)),
    }


def centre_patch(log_mel_db: np.ndarray, frames: int) -> np.ndarray:
    """The centre ``frames`` columns of a log-mel; shorter input is padded with its minimum."""
    n = log_mel_db.shape[1]
    if n >= frames:
        start = (n - frames) // 2
        return log_mel_db[:, start:start + frames]
    before = (frames - n) // 2
    return np.pad(log_mel_db, ((0, 0), (before, frames - n - before)),
                  constant_values=float(log_mel_db.min()))


def stat_names(settings: SpectralSettings) -> list[str]:
    """Name of every dimension of the vector `track_features` returns, in order."""
    names = []
    for suffix in ("", "_d", "_dd"):  # MFCC, Δ, ΔΔ
        for stat in ("mean", "std"):
            names += [f"mfcc{i:02d}{suffix}_{stat}" for i in range(settings.n_mfcc)]
    for stat in ("mean", "std"):
        names += [f"chroma_{pc}_{stat}" for pc in PITCH_CLASSES]
    for stat in ("mean", "std"):
        names += [f"contrast{band}_{stat}" for band in range(CONTRAST_BANDS + 1)]
    names += [f"{series}_{stat}" for series in _FRAME_SERIES for stat in ("mean", "std")]
    return names + ["tempo_bpm", "tempo_strength"]


def _mean_std(matrix: np.ndarray) -> list[np.ndarray]:
    return [matrix.mean(axis=1), matrix.std(axis=1)]


def track_features(samples: np.ndarray, settings: SpectralSettings) -> tuple[np.ndarray, np.ndarray]:
    """Statistics vector (named by `stat_names`) and a (n_mels, patch_frames) log-mel patch,
    all from one STFT of ``samples``."""
    centred = _centred(samples, settings.n_fft)
    spectral = spectral_summaries(centred, settings)
    log_mel_db = power_to_db(spectral["mel"]).T
    mfcc = mfcc_from_log_mel(log_mel_db, settings.n_mfcc)
    mfcc_delta = delta(mfcc)
    chroma = spectral["chroma"].T / (spectral["chroma"].max(axis=1) + _AMIN)
    series = {name: spectral[name] for name in ("centroid", "bandwidth", "rolloff", "flatness")}
    series["rms"] = np.sqrt(2 * spectral["total"]) / settings.n_fft
    series["zcr"] = zero_crossing_rate(centred, settings.n_fft, settings.hop_length)
    series["onset"] = onset_strength(log_mel_db)
    tempo = estimate_tempo(series["onset"], settings.sample_rate, settings.hop_length)
    stats = np.concatenate(
        _mean_std(mfcc) + _mean_std(mfcc_delta) + _mean_std(delta(mfcc_delta))
        + _mean_std(chroma) + _mean_std(spectral["contrast"])
        + [np.array([series[name].mean(), series[name].std()]) for name in _FRAME_SERIES]
        + [np.array(tempo)]
    )
    patch = centre_patch(log_mel_db, settings.patch_frames)
    return stats.astype(np.float32), patch.astype(np.float32)


DESCRIPTORS = ("tempo_bpm", "loudness_db")  # per-track values a person reads (cluster cards)


def descriptors(stats: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Per track, from its statistics: the tempo estimate (BPM; NaN where the track has none)
    and the mean RMS level (dBFS)."""
    stats = np.asarray(stats, dtype=np.float64)
    rms = stats[:, names.index("rms_mean")]
    with np.errstate(invalid="ignore"):
        loudness = 20 * np.log10(np.maximum(rms, 1e-10))
    tempo = stats[:, names.index("tempo_bpm")]
    return {"tempo_bpm": np.where(tempo > 0, tempo, np.nan), "loudness_db": np.where(np.isnan(rms), np.nan, loudness)}
