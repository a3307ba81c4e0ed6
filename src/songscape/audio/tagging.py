"""The pretrained network's results of a collection (EfficientAT or musicnn): embeddings and
tag probabilities in track order, their per-track cache and their key. They are computed in the
same pass as the other audio features (`songscape.audio.extract`); each track's embedding is the
mean over its patches (musicnn: 3-s patches; EfficientAT: the excerpt) and its tags the mean tag
probabilities (the per-patch values are cached too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from songscape.audio.decode import ExcerptSpec, decode
from songscape.audio.musicnn import TrackTags
from songscape.audio.track import NetworkSpec, network_input, network_rate, tagger
from songscape.workspace import content_key, read_cached_npz, read_npz, write_npz

TAGS_FILE = "musicnn.npz"  # the network's results in the audio-features folder (the name runs already have)
_CACHED = ("patch_tags", "patch_embeddings")


@dataclass
class CollectionTags:
    """The network's embeddings (n, d), per-piece embeddings (n, pieces, d: the excerpt's
    segments, or one piece) and tag probabilities (n, tags) in track order; rows of tracks that
    failed are NaN, with their error."""

    embeddings: np.ndarray
    segment_embeddings: np.ndarray
    tags: np.ndarray
    tag_names: list[str]
    errors: list[str]

    @property
    def ok(self) -> np.ndarray:
        return np.array([not error for error in self.errors])

    @classmethod
    def empty(cls, n: int, tag_names: list[str], embedding_size: int, pieces: int) -> CollectionTags:
        return cls(np.full((n, embedding_size), np.nan, dtype=np.float32),
                   np.full((n, pieces, embedding_size), np.nan, dtype=np.float32),
                   np.full((n, len(tag_names)), np.nan, dtype=np.float32), tag_names, [""] * n)

    def fill(self, row: int, found: TrackTags, pieces: int) -> None:
        """Row ``row`` from one track's result; its patches are averaged within each piece."""
        self.embeddings[row], self.tags[row] = found.embedding, found.tags
        per_piece = len(found.patch_embeddings) // pieces
        self.segment_embeddings[row] = found.patch_embeddings[:pieces * per_piece].reshape(
            pieces, per_piece, -1).mean(axis=1)

    def write(self, path: Path, track_ids: np.ndarray) -> None:
        write_npz(path, embeddings=self.embeddings, segment_embeddings=self.segment_embeddings, tags=self.tags,
                  tag_names=np.array(self.tag_names), errors=np.array(self.errors, dtype=str), track_id=track_ids)

    @classmethod
    def read(cls, path: Path) -> CollectionTags:
        stored = read_npz(path)
        return cls(stored["embeddings"], stored["segment_embeddings"], stored["tags"],
                   [str(t) for t in stored["tag_names"]], [str(e) for e in stored["errors"]])


def network_key(spec: NetworkSpec, excerpt: ExcerptSpec) -> str:
    """Key of a network's results: the network, its weights and the excerpt (not the device)."""
    weights = Path(spec.weights) if spec.weights else None
    weights_key = content_key(str(weights), weights.stat().st_size) if weights else spec.model
    return content_key("musicnn", weights_key, asdict(excerpt))


def write_track_tags(cache_file: Path, result: TrackTags) -> None:
    write_npz(cache_file, patch_tags=result.patch_tags, patch_embeddings=result.patch_embeddings)


def read_track_tags(cache_file: Path) -> TrackTags | None:
    """A track's cached network result, or None when missing or damaged."""
    stored = read_cached_npz(cache_file, _CACHED)
    return None if stored is None else TrackTags(stored["patch_tags"], stored["patch_embeddings"])


def file_tags(spec: NetworkSpec, path: str | Path, excerpt: ExcerptSpec) -> TrackTags:
    """The network of ``spec`` over the excerpt of one audio file, decoded at its rate (raises
    DecodeError)."""
    audio = decode(Path(path), network_rate(spec.model), excerpt).samples
    return tagger(spec).track_patches(network_input(spec.model, audio))
