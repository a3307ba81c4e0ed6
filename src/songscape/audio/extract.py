"""Audio features of a whole collection in one pass per track, on a runner.

Each track is decoded once by one worker, which computes the statistics, the log-mel patch
and, when the run uses it, the pretrained network (`songscape.audio.track`). Each part is
cached per track under the file's content hash and its settings as soon as it arrives, so an
interrupted run resumes where it stopped and a job asks only for the parts still missing.
Tracks run on a local process pool or a Dask cluster (`songscape.runners`), always with one
thread per worker, so the features are the same wherever they were computed. Statistics and
mel patches are streamed into `.npy` memmaps in `tracks.parquet` row order, so memory stays
bounded. A track that fails (cannot be decoded, silent, too short, unreadable, the network
failed) is marked skipped with its reason; the others go on.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.format import open_memmap

from songscape.audio.decode import ExcerptSpec
from songscape.audio.device_batches import DeviceBatches
from songscape.audio.features import SpectralSettings, descriptors, stat_names
from songscape.audio.musicnn import TrackTags
from songscape.audio.plan import AudioPlan
from songscape.audio.tagging import (
    TAGS_FILE,
    CollectionTags,
    network_key,
    read_track_tags,
    write_track_tags,
)
from songscape.audio.track import NetworkSpec, TrackFeatures, TrackJob, failed_track, run_job, tagger
from songscape.progress import stage
from songscape.runners import Runner, local_runner
from songscape.workspace import Workspace, content_key, read_cached_npz, read_npz, write_npz

STATS_FILE, SEGMENT_STATS_FILE, MEL_FILE, META_FILE = "stats.npy", "segment_stats.npy", "mel.npy", "tracks.npz"


@dataclass
class CollectionFeatures:
    """Features of every track in row order (memmaps when read from disk); rows of skipped
    tracks hold NaN statistics and an error. ``segment_stats`` holds each piece's statistics
    (the excerpt's segments, or one piece), ``stats`` their mean. ``tags`` holds the network's
    results when computed."""

    stats: np.ndarray  # (n, n_stats)
    segment_stats: np.ndarray  # (n, pieces, n_stats)
    mel: np.ndarray  # (n, n_mels, patch_frames)
    duration_s: np.ndarray  # (n,)
    padded: np.ndarray  # (n,) bool
    errors: list[str]
    computed: int = 0  # tracks decoded in this call; the rest came from the per-track cache
    tags: CollectionTags | None = None

    @property
    def ok(self) -> np.ndarray:
        return np.array([not e for e in self.errors], dtype=bool)


_CACHED = ("stats", "segment_stats", "mel", "duration_s", "padded")


def track_descriptors(features: CollectionFeatures, settings: SpectralSettings) -> dict[str, np.ndarray]:
    """Tempo and loudness per track (`descriptors`), NaN where extraction failed."""
    found = descriptors(np.asarray(features.stats), stat_names(settings))
    return {column: np.where(features.ok, values, np.nan) for column, values in found.items()}


def _to_cache(cache_file: Path, result: TrackFeatures) -> None:
    write_npz(cache_file, stats=result.stats, segment_stats=result.segment_stats, mel=result.mel,
              duration_s=np.asarray(result.duration_s), padded=np.asarray(result.padded))


def _from_cache(cache_file: Path) -> TrackFeatures | None:
    stored = read_cached_npz(cache_file, _CACHED)
    if stored is None:
        return None
    return TrackFeatures(stored["stats"], stored["mel"], float(stored["duration_s"]),
                         bool(stored["padded"]), segment_stats=stored["segment_stats"])


@dataclass
class _Plan:
    """Per track: what the cache already holds and the job for the rest (None: nothing to do)."""

    stats: dict[int, TrackFeatures]
    tags: dict[int, TrackTags]
    jobs: dict[int, TrackJob]


def _plan(paths: list[str], settings: SpectralSettings, excerpt: ExcerptSpec, network: NetworkSpec | None,
          cache_files: list[Path | None], network_cache_files: list[Path | None]) -> _Plan:
    stats = {index: found for index, cache in enumerate(cache_files)
             if cache is not None and (found := _from_cache(cache)) is not None}
    tags = ({index: found for index, cache in enumerate(network_cache_files)
             if cache is not None and (found := read_track_tags(cache)) is not None} if network else {})
    jobs = {}
    for index, path in enumerate(paths):
        wants_network = network is not None and index not in tags
        if index not in stats or wants_network:
            jobs[index] = TrackJob(path, None if index in stats else settings, excerpt,
                                   network if wants_network else None)
    return _Plan(stats, tags, jobs)


def extract_collection(paths: list[str], settings: SpectralSettings,
                       excerpt: ExcerptSpec = ExcerptSpec(), workers: int | None = None,
                       cache_files: list[Path] | None = None,
                       out_dir: Path | None = None, runner: Runner | None = None,
                       network: NetworkSpec | None = None,
                       network_cache_files: list[Path] | None = None) -> CollectionFeatures:
    """Features of every path (and the pretrained network's when ``network`` is given), on
    ``runner`` (default: a local pool of ``workers`` processes, all cores when not given).

    With ``cache_files`` / ``network_cache_files`` (one per path), parts already cached are
    read back instead of computed and new results are cached as they arrive. With
    ``out_dir``, statistics, segment statistics and mel patches are written into `.npy`
    memmaps there instead of being held in memory.
    """
    runner = runner or local_runner(workers)
    n = len(paths)
    plan = _plan(paths, settings, excerpt, network, cache_files or [None] * n, network_cache_files or [None] * n)
    n_stats, pieces = len(stat_names(settings)), excerpt.pieces
    shapes = {STATS_FILE: (n, n_stats), SEGMENT_STATS_FILE: (n, pieces, n_stats),
              MEL_FILE: (n, settings.n_mels, settings.patch_frames)}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        stats, segment_stats, mel = (open_memmap(out_dir / name, mode="w+", dtype=np.float32, shape=shape)
                                     for name, shape in shapes.items())
    else:
        stats, segment_stats, mel = (np.empty(shape, np.float32) for shape in shapes.values())
    duration_s, padded, errors = np.full(n, np.nan), np.zeros(n, dtype=bool), [""] * n
    tags = (CollectionTags.empty(n, tagger(network).tag_names, tagger(network).embedding_size, pieces)
            if network else None)
    computed = runner(run_job, list(plan.jobs.values()), failed_track)
    on_device = DeviceBatches(network) if network is not None and not network.in_worker else None

    def store(row: int, result: TrackFeatures | None) -> None:
        """Row ``row`` from its computed ``result`` and the caches (None: all cached)."""
        if result is not None and not result.error and result.network_result is not None:
            plan.tags[row] = result.network_result
            if network_cache_files:
                write_track_tags(network_cache_files[row], result.network_result)
        if result is not None and result.error:
            errors[row] = result.error
            stats[row], segment_stats[row], mel[row] = np.nan, np.nan, 0.0
            if tags is not None:
                tags.errors[row] = result.error
            return
        if row not in plan.stats:
            plan.stats[row] = result
            if cache_files:
                _to_cache(cache_files[row], result)
        track = plan.stats.pop(row)
        stats[row], segment_stats[row], mel[row] = track.stats, track.segment_stats, track.mel
        duration_s[row], padded[row] = track.duration_s, track.padded
        if tags is not None:
            tags.fill(row, plan.tags.pop(row), pieces)

    with stage("audio features" + (f" + {network.model}" if network else ""), n) as advance:
        for row in range(n):
            result = next(computed) if row in plan.jobs else None
            waits = on_device is not None and result is not None and result.network_input is not None
            for done_row, done in (on_device.add(row, result) if waits else [(row, result)]):
                store(done_row, done)
                advance(1)
        for done_row, done in (on_device.flush() if on_device is not None else []):
            store(done_row, done)
            advance(1)
    if out_dir is not None:
        for array in (stats, segment_stats, mel):
            array.flush()
    return CollectionFeatures(stats, segment_stats, mel, duration_s, padded, errors, computed=len(plan.jobs),
                              tags=tags)


def _track_cache_files(workspace: Workspace, sha1s: list[str], settings_key: str) -> list[Path]:
    root = workspace.root / "features" / "tracks" / settings_key
    return [root / sha1[:2] / f"{sha1}.npz" for sha1 in sha1s]


def read_collection_features(directory: Path) -> CollectionFeatures:
    """Collection features written by `cached_audio_features`, with memmapped arrays."""
    meta = read_npz(directory / META_FILE)
    tags = CollectionTags.read(directory / TAGS_FILE) if (directory / TAGS_FILE).exists() else None
    return CollectionFeatures(*(np.load(directory / name, mmap_mode="r") for name in (STATS_FILE, SEGMENT_STATS_FILE,
                                                                                      MEL_FILE)),
                              meta["duration_s"], meta["padded"], [str(e) for e in meta["errors"]], tags=tags)


def extract_tracks(workspace: Workspace, tracks: pd.DataFrame, plan: AudioPlan, runner: Runner | None = None,
                   out_dir: Path | None = None) -> CollectionFeatures:
    """Features of ``tracks`` (rows with ``path`` and ``sha1``) as ``plan`` says, through the
    workspace's per-track caches: what is cached is read back, the rest computed on ``runner``
    (default: a local pool of ``plan.workers`` processes) and cached; with ``out_dir``, arrays
    are memmaps written there."""
    network = plan.network
    tags_key = network_key(network, plan.excerpt) if network else None
    sha1s = list(tracks["sha1"])
    return extract_collection(list(tracks["path"]), plan.settings, plan.excerpt, plan.workers,
                              _track_cache_files(workspace, sha1s, plan.settings_key), out_dir=out_dir,
                              runner=runner, network=network,
                              network_cache_files=(_track_cache_files(workspace, sha1s, f"musicnn-{tags_key}")
                                                   if tags_key else None))


def cached_audio_features(workspace: Workspace, tracks: pd.DataFrame, plan: AudioPlan,
                          log: Callable[[str], None] = print, runner: Runner | None = None,
                          ) -> tuple[CollectionFeatures, Path]:
    """Features of ``tracks`` as ``plan`` says (with the pretrained network's when it names
    one) from ``features/audio-<key>/``, computing what is missing first (`extract_tracks`:
    resuming from the per-track caches) when no folder matches this plan and these file contents."""
    network = plan.network
    contents = list(zip(tracks["track_id"], tracks["sha1"]))
    tags_key = network_key(network, plan.excerpt) if network else None
    key = (content_key(plan.settings_key, tags_key, contents) if tags_key
           else content_key(plan.settings_key, contents))
    directory = workspace.audio_features(key)
    if (directory / META_FILE).exists():
        log(f"audio features: reused {directory.relative_to(workspace.root)}")
        return read_collection_features(directory), directory
    started = time.perf_counter()
    building = directory.with_name(f".{directory.name}.{os.getpid()}.tmp")
    shutil.rmtree(building, ignore_errors=True)
    features = extract_tracks(workspace, tracks, plan, runner, out_dir=building)
    track_ids = tracks["track_id"].to_numpy(dtype=str)
    if features.tags is not None:
        features.tags.write(building / TAGS_FILE, track_ids)
    write_npz(building / META_FILE, duration_s=features.duration_s, padded=features.padded,
              errors=np.array(features.errors, dtype=str), names=np.array(stat_names(plan.settings)),
              track_id=track_ids)
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(building, directory)
    elapsed = time.perf_counter() - started
    log(f"audio features{' + ' + network.model if network else ''}: {features.computed} tracks extracted, "
        f"{len(tracks) - features.computed} from the per-track cache, in {elapsed:.1f} s "
        f"→ {directory.relative_to(workspace.root)}")
    return read_collection_features(directory), directory
