"""musicnn embeddings and tags for a whole collection, cached like the other features.

Each track is decoded at 16 kHz (the run's excerpt), cut into 3-s patches and passed through
musicnn; its embedding is the mean penultimate vector over its patches and its tags the mean
tag probabilities. Results are cached per track under its content hash (an interrupted run
resumes) and per collection in ``features/musicnn-<key>.npz``. A track that cannot be decoded
is marked with its reason; the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.audio.decode import DecodeError, ExcerptSpec, decode
from songscape.audio.extract import progress_bar
from songscape.audio.musicnn import SAMPLE_RATE, Musicnn, TrackTags
from songscape.workspace import Workspace, content_key, read_cached_npz, read_npz, write_npz

EMBEDDING_SIZE = 200


@dataclass
class CollectionTags:
    """musicnn embeddings (n, 200) and tag probabilities (n, tags) in track order; rows of
    tracks that failed are NaN, with their error."""

    embeddings: np.ndarray
    tags: np.ndarray
    tag_names: list[str]
    errors: list[str]

    @property
    def ok(self) -> np.ndarray:
        return np.array([not error for error in self.errors])


def file_tags(tagger: Musicnn, path: str | Path, excerpt: ExcerptSpec) -> TrackTags:
    """musicnn over the excerpt of one audio file, decoded at 16 kHz (raises DecodeError)."""
    return tagger.track(decode(Path(path), SAMPLE_RATE, excerpt).samples)


def _track(tagger: Musicnn, path: str, excerpt: ExcerptSpec, cache_file: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(embedding, tags) of one file, from its cache file or computed (and cached when a
    cache file is given)."""
    stored = read_cached_npz(cache_file, ("embedding", "tags")) if cache_file else None
    if stored is not None:
        return stored["embedding"], stored["tags"]
    result = file_tags(tagger, path, excerpt)
    if cache_file:
        write_npz(cache_file, embedding=result.embedding, tags=result.tags)
    return result.embedding, result.tags


def tag_collection(paths: list[str], excerpt: ExcerptSpec, tagger: Musicnn,
                   cache_files: list[Path] | None = None) -> CollectionTags:
    """musicnn over every file (cached per track in ``cache_files`` when given); never raises
    for bad audio."""
    n = len(paths)
    embeddings = np.full((n, EMBEDDING_SIZE), np.nan, dtype=np.float32)
    tags = np.full((n, len(tagger.tag_names)), np.nan, dtype=np.float32)
    errors = [""] * n
    with progress_bar() as bar:
        task = bar.add_task(f"{tagger.model} embeddings", total=n)
        for row, (path, cache_file) in enumerate(zip(paths, cache_files or [None] * n)):
            try:
                embeddings[row], tags[row] = _track(tagger, path, excerpt, cache_file)
            except (DecodeError, OSError) as error:
                errors[row] = str(error)
            bar.advance(task)
    return CollectionTags(embeddings, tags, tagger.tag_names, errors)


def cached_collection_tags(workspace: Workspace, tracks: pd.DataFrame, excerpt: ExcerptSpec, model: str,
                           weights: Path | None = None,
                           log: Callable[[str], None] = print) -> tuple[CollectionTags, Path]:
    """musicnn features of ``tracks`` from ``features/musicnn-<key>.npz``, computing what is
    missing first (resuming from the per-track cache)."""
    weights_key = content_key(str(weights), weights.stat().st_size) if weights else model
    settings_key = content_key("musicnn", weights_key, asdict(excerpt))
    path = workspace.root / "features" / f"musicnn-{content_key(settings_key, list(tracks['sha1']))}.npz"
    if path.exists():
        stored = read_npz(path)
        log(f"musicnn features: reused {path.relative_to(workspace.root)}")
        return CollectionTags(stored["embeddings"], stored["tags"], [str(t) for t in stored["tag_names"]],
                              [str(e) for e in stored["errors"]]), path
    started = time.perf_counter()
    tagger = Musicnn(model, weights)
    cache_dir = workspace.root / "features" / "tracks" / f"musicnn-{settings_key}"
    found = tag_collection(list(tracks["path"]), excerpt, tagger,
                           [cache_dir / sha1[:2] / f"{sha1}.npz" for sha1 in tracks["sha1"]])
    write_npz(path, embeddings=found.embeddings, tags=found.tags, tag_names=np.array(found.tag_names),
              errors=np.array(found.errors, dtype=str), track_id=tracks["track_id"].to_numpy(dtype=str))
    log(f"musicnn features ({model}): {int(found.ok.sum())} of {len(tracks)} tracks in "
        f"{time.perf_counter() - started:.1f} s → {path.relative_to(workspace.root)}")
    return found, path
