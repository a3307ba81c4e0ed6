"""Audio features for a whole collection: a parallel map of one pure function over tracks.

Each track's result is cached under its content hash and the settings, written as soon as it
arrives, so an interrupted run resumes where it stopped. The tracks run on a local process pool
or, through `songscape.audio.distributed`, on a Dask cluster; either way every track is
computed by the same function with one BLAS thread, so the features are identical. The collection's
features are streamed into `.npy` memmaps in `tracks.parquet` row order, so memory stays
bounded whatever the collection size. A track that fails (cannot be decoded, silent, too short,
unreadable) is marked skipped with its reason; the others go on.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.lib.format import open_memmap
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from threadpoolctl import threadpool_limits

from songscape.audio.decode import DecodeError, ExcerptSpec, decode
from songscape.audio.features import SpectralSettings, stat_names, track_features
from songscape.workspace import Workspace, content_key, read_cached_npz, read_npz, write_npz

if TYPE_CHECKING:
    from songscape.config import AudioConfig

_SILENCE_PEAK = 1e-5  # -100 dBFS
STATS_FILE, MEL_FILE, META_FILE = "stats.npy", "mel.npy", "tracks.npz"


@dataclass(frozen=True)
class TrackFeatures:
    """One track's features, or the reason it has none."""

    stats: np.ndarray | None
    mel: np.ndarray | None
    duration_s: float
    padded: bool = False
    error: str = ""


@dataclass(frozen=True)
class TrackJob:
    """What a worker needs for one track."""

    path: str
    settings: SpectralSettings
    excerpt: ExcerptSpec


# runs the pending jobs somewhere and yields their results in job order
JobRunner = Callable[[list[TrackJob]], Iterator[TrackFeatures]]


@dataclass
class CollectionFeatures:
    """Features of every track in row order (memmaps when read from disk); rows of skipped
    tracks hold NaN statistics and an error."""

    stats: np.ndarray  # (n, n_stats)
    mel: np.ndarray  # (n, n_mels, patch_frames)
    duration_s: np.ndarray  # (n,)
    padded: np.ndarray  # (n,) bool
    errors: list[str]
    computed: int = 0  # tracks extracted in this call; the rest came from the per-track cache

    @property
    def ok(self) -> np.ndarray:
        return np.array([not e for e in self.errors])


def extract_track(path: str, settings: SpectralSettings, excerpt: ExcerptSpec = ExcerptSpec()) -> TrackFeatures:
    """Decode ``path``, cut the excerpt and compute its features; never raises for bad audio."""
    try:
        decoded = decode(Path(path), settings.sample_rate, excerpt)
        if len(decoded.samples) < settings.n_fft:
            raise DecodeError(f"too short ({len(decoded.samples)} samples after decoding)")
        if max(decoded.samples.max(), -decoded.samples.min()) < _SILENCE_PEAK:
            raise DecodeError("silent (peak below -100 dBFS)")
        stats, mel = track_features(decoded.samples, settings)
        return TrackFeatures(stats, mel, decoded.duration_s, decoded.padded)
    except (DecodeError, OSError) as error:
        return TrackFeatures(None, None, float("nan"), error=str(error))


def run_job(job: TrackJob) -> TrackFeatures:
    """Extract one track (what every runner executes, with one BLAS thread)."""
    return extract_track(job.path, job.settings, job.excerpt)


_CACHED = ("stats", "mel", "duration_s", "padded")


def _to_cache(cache_file: Path, result: TrackFeatures) -> None:
    write_npz(cache_file, stats=result.stats, mel=result.mel, duration_s=np.asarray(result.duration_s),
              padded=np.asarray(result.padded))


def _from_cache(cache_file: Path) -> TrackFeatures | None:
    stored = read_cached_npz(cache_file, _CACHED)
    if stored is None:
        return None
    return TrackFeatures(stored["stats"], stored["mel"], float(stored["duration_s"]),
                         bool(stored["padded"]))


class _RateColumn(ProgressColumn):
    """Tracks per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0.0:.1f} tracks/s")


def progress_bar() -> Progress:
    """Tracks done, tracks/s and time left, on stderr; cleared when finished."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    _RateColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                    transient=True)


def single_threaded() -> None:
    """Worker set-up: one BLAS/OpenMP thread each, or the workers fight over the cores (and
    a different thread count would change the last bits of the matrix products)."""
    threadpool_limits(1)


def local_runner(workers: int | None = None) -> JobRunner:
    """Jobs on a local process pool of ``workers`` processes (default: all cores), or in this
    process when there is one worker or few jobs."""
    workers = workers or os.cpu_count() or 1

    def run(pending: list[TrackJob]) -> Iterator[TrackFeatures]:
        if workers == 1 or len(pending) < 8:
            with threadpool_limits(1):
                yield from map(run_job, pending)
            return
        with ProcessPoolExecutor(max_workers=workers, initializer=single_threaded) as pool:
            yield from pool.map(run_job, pending, chunksize=2)

    return run


def _results(jobs: list[TrackJob], cached: dict[int, TrackFeatures], runner: JobRunner,
             cache_files: list[Path | None]) -> Iterator[TrackFeatures]:
    """Results in job order: cached ones directly, the rest from ``runner``, each cached as it
    arrives."""
    computed = runner([job for index, job in enumerate(jobs) if index not in cached])
    for index in range(len(jobs)):
        if index in cached:
            yield cached[index]
            continue
        result = next(computed)
        if cache_files[index] is not None and not result.error:
            _to_cache(cache_files[index], result)
        yield result


def extract_collection(paths: list[str], settings: SpectralSettings,
                       excerpt: ExcerptSpec = ExcerptSpec(), workers: int | None = None,
                       cache_files: list[Path] | None = None,
                       out_dir: Path | None = None, runner: JobRunner | None = None) -> CollectionFeatures:
    """Features of every path, on ``runner`` (default: a local pool of ``workers`` processes,
    all cores when not given).

    With ``cache_files`` (one per path), tracks already cached are read back instead of
    extracted and new results are cached as they arrive. With ``out_dir``, statistics and
    mel patches are written into `.npy` memmaps there instead of being held in memory.
    """
    runner = runner or local_runner(workers)
    cache_files = cache_files or [None] * len(paths)
    jobs = [TrackJob(path, settings, excerpt) for path in paths]
    cached = {index: found for index, cache in enumerate(cache_files)
              if cache is not None and (found := _from_cache(cache)) is not None}
    n, n_stats = len(paths), len(stat_names(settings))
    mel_shape = (n, settings.n_mels, settings.patch_frames)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        stats = open_memmap(out_dir / STATS_FILE, mode="w+", dtype=np.float32, shape=(n, n_stats))
        mel = open_memmap(out_dir / MEL_FILE, mode="w+", dtype=np.float32, shape=mel_shape)
    else:
        stats, mel = np.empty((n, n_stats), np.float32), np.empty(mel_shape, np.float32)
    duration_s, padded, errors = np.full(n, np.nan), np.zeros(n, dtype=bool), []
    with progress_bar() as bar:
        task = bar.add_task("extracting audio features", total=n)
        for row, result in enumerate(_results(jobs, cached, runner, cache_files)):
            stats[row] = result.stats if not result.error else np.nan
            mel[row] = result.mel if not result.error else 0.0
            duration_s[row], padded[row] = result.duration_s, result.padded
            errors.append(result.error)
            bar.advance(task)
    if out_dir is not None:
        stats.flush()
        mel.flush()
    return CollectionFeatures(stats, mel, duration_s, padded, errors, computed=n - len(cached))


def _track_cache_files(workspace: Workspace, sha1s: list[str], settings_key: str) -> list[Path]:
    root = workspace.root / "features" / "tracks" / settings_key
    return [root / sha1[:2] / f"{sha1}.npz" for sha1 in sha1s]


def read_collection_features(directory: Path) -> CollectionFeatures:
    """Collection features written by `cached_audio_features`, with memmapped arrays."""
    meta = read_npz(directory / META_FILE)
    return CollectionFeatures(np.load(directory / STATS_FILE, mmap_mode="r"),
                              np.load(directory / MEL_FILE, mmap_mode="r"),
                              meta["duration_s"], meta["padded"], [str(e) for e in meta["errors"]])


def cached_audio_features(workspace: Workspace, tracks: pd.DataFrame, audio: AudioConfig,
                          log: Callable[[str], None] = print,
                          runner: JobRunner | None = None) -> tuple[CollectionFeatures, Path]:
    """Features of ``tracks`` from ``features/audio-<key>/``, extracting what is missing
    first (resuming from the per-track cache, on ``runner``: default a local pool of
    ``audio.workers`` processes) when no folder matches these settings and these file
    contents."""
    settings, excerpt = audio.spectral(), audio.excerpt_spec()
    settings_key = content_key("audio", asdict(settings), asdict(excerpt))
    key = content_key(settings_key, list(zip(tracks["track_id"], tracks["sha1"])))
    directory = workspace.audio_features(key)
    if (directory / META_FILE).exists():
        log(f"audio features: reused {directory.relative_to(workspace.root)}")
        return read_collection_features(directory), directory
    started = time.perf_counter()
    building = directory.with_name(f".{directory.name}.{os.getpid()}.tmp")
    shutil.rmtree(building, ignore_errors=True)
    features = extract_collection(list(tracks["path"]), settings, excerpt, audio.workers,
                                  _track_cache_files(workspace, list(tracks["sha1"]), settings_key),
                                  out_dir=building, runner=runner)
    write_npz(building / META_FILE, duration_s=features.duration_s, padded=features.padded,
              errors=np.array(features.errors, dtype=str), names=np.array(stat_names(settings)),
              track_id=tracks["track_id"].to_numpy(dtype=str))
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(building, directory)
    elapsed = time.perf_counter() - started
    log(f"audio features: {features.computed} tracks extracted, "
        f"{len(tracks) - features.computed} from the per-track cache, in {elapsed:.1f} s "
        f"→ {directory.relative_to(workspace.root)}")
    return read_collection_features(directory), directory
