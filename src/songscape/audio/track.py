"""One track, one pass: decode the file once and compute everything the run needs from it.

The excerpt is read at the file's own rate, then resampled once per rate a stage needs: the
analysis rate for the statistics and the log-mel patch, 16 kHz for musicnn. On the CPU the
worker also runs musicnn (one patch per forward, one thread: see `songscape.threads`); when
musicnn runs on a GPU, the worker returns the log-mel patches and the process that owns the
GPU runs the network. A job asks only for the parts that are not cached yet. Bad audio never
raises: the result carries the reason instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from songscape.audio.decode import DecodeError, ExcerptSpec, SourceExcerpt, at_rate, read_excerpt
from songscape.audio.features import SpectralSettings, track_features
from songscape.audio.musicnn import SAMPLE_RATE, Musicnn, TrackTags, log_mel, patches

_SILENCE_PEAK = 1e-5  # -100 dBFS


@dataclass(frozen=True)
class MusicnnSpec:
    """Which musicnn to run, on which PyTorch ``device``, and whether each worker runs it
    (the CPU case) or returns the log-mel patches for the process that owns the device (a
    GPU: one process feeds it)."""

    model: str = "MTT_musicnn"
    weights: str | None = None
    device: str = "cpu"
    in_worker: bool = True


@lru_cache(maxsize=2)
def tagger(spec: MusicnnSpec) -> Musicnn:
    """The network of ``spec``, loaded once per process."""
    return Musicnn(spec.model, Path(spec.weights) if spec.weights else None, device=spec.device)


@dataclass(frozen=True)
class TrackJob:
    """What a worker computes for one track: the statistics and mel patch when ``settings``
    is given, musicnn when ``musicnn`` is (each None when already cached)."""

    path: str
    settings: SpectralSettings | None
    excerpt: ExcerptSpec = ExcerptSpec()
    musicnn: MusicnnSpec | None = None


@dataclass(frozen=True)
class TrackFeatures:
    """One track's features, or the reason it has none. ``musicnn_patches`` holds the
    log-mel patches when musicnn is to run outside the worker."""

    stats: np.ndarray | None
    mel: np.ndarray | None
    duration_s: float
    padded: bool = False
    error: str = ""
    musicnn: TrackTags | None = None
    musicnn_patches: np.ndarray | None = None


def failed_track(reason: str) -> TrackFeatures:
    """The result of a track that could not be analysed."""
    return TrackFeatures(None, None, float("nan"), error=reason)


def _statistics(source: SourceExcerpt, settings: SpectralSettings, excerpt: ExcerptSpec,
                ) -> tuple[np.ndarray, np.ndarray, bool]:
    decoded = at_rate(source, settings.sample_rate, excerpt)
    if len(decoded.samples) < settings.n_fft:
        raise DecodeError(f"too short ({len(decoded.samples)} samples after decoding)")
    if max(decoded.samples.max(), -decoded.samples.min()) < _SILENCE_PEAK:
        raise DecodeError("silent (peak below -100 dBFS)")
    stats, mel = track_features(decoded.samples, settings)
    return stats, mel, decoded.padded


def run_job(job: TrackJob) -> TrackFeatures:
    """Decode the track once and compute the parts ``job`` asks for (what every runner
    executes)."""
    try:
        source = read_excerpt(Path(job.path), job.excerpt)
        stats = mel = None
        padded = False
        if job.settings is not None:
            stats, mel, padded = _statistics(source, job.settings, job.excerpt)
        tags = cut = None
        if job.musicnn is not None:
            cut = patches(log_mel(at_rate(source, SAMPLE_RATE, job.excerpt).samples))
            if job.musicnn.in_worker:
                try:
                    tags, cut = tagger(job.musicnn).track_patches(cut), None
                except (RuntimeError, ValueError) as error:  # the network failed on this track
                    return failed_track(f"musicnn failed: {error}")
        return TrackFeatures(stats, mel, source.duration_s, padded, musicnn=tags, musicnn_patches=cut)
    except (DecodeError, OSError) as error:
        return failed_track(str(error))


def extract_track(path: str, settings: SpectralSettings, excerpt: ExcerptSpec = ExcerptSpec()) -> TrackFeatures:
    """Decode ``path``, cut the excerpt and compute its statistics and mel patch."""
    return run_job(TrackJob(path, settings, excerpt))
