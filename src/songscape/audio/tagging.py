"""musicnn results of a collection: embeddings and tag probabilities in track order, their
per-track cache and their key. They are computed in the same pass as the other audio features
(`songscape.audio.extract`); each track's embedding is the mean penultimate vector over its
3-s patches and its tags the mean tag probabilities (the per-patch values are cached too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from songscape.audio.decode import ExcerptSpec, decode
from songscape.audio.musicnn import SAMPLE_RATE, Musicnn, TrackTags
from songscape.audio.track import MusicnnSpec
from songscape.workspace import content_key, read_cached_npz, read_npz, write_npz

EMBEDDING_SIZE = 200
TAGS_FILE = "musicnn.npz"  # in the collection's audio-features folder
_CACHED = ("patch_tags", "patch_embeddings")


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

    @classmethod
    def empty(cls, n: int, tag_names: list[str]) -> CollectionTags:
        return cls(np.full((n, EMBEDDING_SIZE), np.nan, dtype=np.float32),
                   np.full((n, len(tag_names)), np.nan, dtype=np.float32), tag_names, [""] * n)

    def write(self, path: Path, track_ids: np.ndarray) -> None:
        write_npz(path, embeddings=self.embeddings, tags=self.tags, tag_names=np.array(self.tag_names),
                  errors=np.array(self.errors, dtype=str), track_id=track_ids)

    @classmethod
    def read(cls, path: Path) -> CollectionTags:
        stored = read_npz(path)
        return cls(stored["embeddings"], stored["tags"], [str(t) for t in stored["tag_names"]],
                   [str(e) for e in stored["errors"]])


def musicnn_key(spec: MusicnnSpec, excerpt: ExcerptSpec) -> str:
    """Key of musicnn results: the network's weights and the excerpt (not the device)."""
    weights = Path(spec.weights) if spec.weights else None
    weights_key = content_key(str(weights), weights.stat().st_size) if weights else spec.model
    return content_key("musicnn", weights_key, asdict(excerpt))


def write_track_tags(cache_file: Path, result: TrackTags) -> None:
    write_npz(cache_file, patch_tags=result.patch_tags, patch_embeddings=result.patch_embeddings)


def read_track_tags(cache_file: Path) -> TrackTags | None:
    """A track's cached musicnn result, or None when missing or damaged."""
    stored = read_cached_npz(cache_file, _CACHED)
    return None if stored is None else TrackTags(stored["patch_tags"], stored["patch_embeddings"])


def file_tags(tagger: Musicnn, path: str | Path, excerpt: ExcerptSpec) -> TrackTags:
    """musicnn over the excerpt of one audio file, decoded at 16 kHz (raises DecodeError)."""
    return tagger.track(decode(Path(path), SAMPLE_RATE, excerpt).samples)
