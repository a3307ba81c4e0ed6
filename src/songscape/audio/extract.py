"""Audio features for a whole collection: a parallel map of one pure function over tracks.

A track that fails (cannot be decoded, silent, too short) is marked skipped with its reason;
the others go on. Results keep the `tracks.parquet` row order.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn,
                           TimeRemainingColumn)
from rich.text import Text

from songscape.audio.decode import DecodeError, centre_excerpt, decode
from songscape.audio.features import SpectralSettings, stat_names, track_features
from songscape.workspace import Workspace, content_key, read_npz, write_npz

if TYPE_CHECKING:
    from songscape.config import AudioConfig

_SILENCE_PEAK = 1e-5  # -100 dBFS


@dataclass(frozen=True)
class TrackFeatures:
    """One track's features, or the reason it has none."""

    stats: np.ndarray | None
    mel: np.ndarray | None
    duration_s: float
    error: str = ""


@dataclass
class CollectionFeatures:
    """Features of every track in row order; rows of skipped tracks hold NaN and ``ok`` False."""

    stats: np.ndarray  # (n, n_stats)
    mel: np.ndarray  # (n, n_mels, patch_frames)
    duration_s: np.ndarray  # (n,)
    errors: list[str]

    @property
    def ok(self) -> np.ndarray:
        return np.array([not e for e in self.errors])


def extract_track(path: str, settings: SpectralSettings, excerpt_seconds: float | None) -> TrackFeatures:
    """Decode ``path``, cut the centre excerpt and compute its features; never raises for bad audio."""
    try:
        decoded = decode(Path(path), settings.sample_rate)
        samples = centre_excerpt(decoded.samples, settings.sample_rate, excerpt_seconds)
        if len(samples) < settings.n_fft:
            raise DecodeError(f"too short ({len(samples)} samples after decoding)")
        if np.max(np.abs(samples)) < _SILENCE_PEAK:
            raise DecodeError("silent (peak below -100 dBFS)")
        stats, mel = track_features(samples, settings)
        return TrackFeatures(stats, mel, decoded.duration_s)
    except (DecodeError, OSError) as error:
        return TrackFeatures(None, None, float("nan"), str(error))


class _RateColumn(ProgressColumn):
    """Tracks per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0.0:.1f} tracks/s")


def _progress_bar() -> Progress:
    """Tracks done, tracks/s and time left, on stderr; cleared when finished."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    _RateColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                    transient=True)


def extract_collection(paths: list[str], settings: SpectralSettings,
                       excerpt_seconds: float | None, workers: int | None = None) -> CollectionFeatures:
    """Features of every path, computed on ``workers`` processes (default: all cores)."""
    workers = workers or os.cpu_count() or 1
    args = ([settings] * len(paths), [excerpt_seconds] * len(paths))
    with _progress_bar() as bar:
        task = bar.add_task("extracting audio features", total=len(paths))
        if workers == 1 or len(paths) < 8:
            results = [bar.advance(task) or r for r in map(extract_track, paths, *args)]
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = [bar.advance(task) or r
                           for r in pool.map(extract_track, paths, *args, chunksize=4)]
    n = len(paths)
    stats = np.full((n, len(stat_names(settings))), np.nan, dtype=np.float32)
    mel = np.zeros((n, settings.n_mels, settings.patch_frames), dtype=np.float32)
    for row, result in enumerate(results):
        if not result.error:
            stats[row], mel[row] = result.stats, result.mel
    return CollectionFeatures(stats, mel, np.array([r.duration_s for r in results]),
                              [r.error for r in results])


def cached_audio_features(workspace: Workspace, tracks: pd.DataFrame, audio: AudioConfig,
                          log: Callable[[str], None] = print) -> tuple[CollectionFeatures, Path]:
    """Features of ``tracks`` from ``features/audio-<key>.npz``, extracting and writing them
    first when no file matches these settings and these file contents."""
    settings = audio.spectral()
    key = content_key("audio", asdict(settings), audio.excerpt_seconds,
                      list(zip(tracks["track_id"], tracks["sha1"])))
    path = workspace.audio_features(key)
    if path.exists():
        stored = read_npz(path)
        log(f"audio features: reused {path.relative_to(workspace.root)}")
        return CollectionFeatures(stored["stats"], stored["mel"], stored["duration_s"],
                                  [str(e) for e in stored["errors"]]), path
    started = time.perf_counter()
    features = extract_collection(list(tracks["path"]), settings, audio.excerpt_seconds,
                                  audio.workers)
    write_npz(path, stats=features.stats, mel=features.mel, duration_s=features.duration_s,
              errors=np.array(features.errors, dtype=str), names=np.array(stat_names(settings)),
              track_id=tracks["track_id"].to_numpy(dtype=str))
    log(f"audio features: {len(tracks)} tracks in {time.perf_counter() - started:.1f} s "
        f"→ {path.relative_to(workspace.root)}")
    return features, path
