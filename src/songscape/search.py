"""Finding tracks in a finished run: by what their lyrics say, in any language (the e5
similarity of a query to the lyrics; multilingual-e5 puts a Bangla and an English text on the
same theme close together), and by a track (`similar`: sound, optionally mixed with lyrics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from songscape.library import LibraryError, SavedRun
from songscape.report.cards import display_names
from songscape.text.embed import e5_model
from songscape.text.normalize import normalize_lyrics
from songscape.track_space import lyric_vectors, track_space

EXCERPT_CHARACTERS = 80


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


def similar(run_dir: Path, track_id: str, k: int = 10, representation: str | None = None,
            lyrics_weight: float = 0.0) -> pd.DataFrame:
    """The ``k`` tracks nearest to ``track_id``: cosine similarity in a representation's
    embedding (first seed; default: the run's best representation), mixed with the e5
    similarity of the lyrics when ``lyrics_weight`` w > 0: (1 − w)·sound + w·lyrics (a track
    without lyrics counts 0 there)."""
    space = track_space(SavedRun.open(run_dir), representation, lyrics_weight)
    position = space.position(track_id)
    if lyrics_weight > 0 and not space.has_lyrics[position]:
        raise LibraryError(f"track '{track_id}' has no lyrics: use a lyrics weight of 0")
    scores = space.vectors @ space.vectors[position]
    order = [i for i in np.argsort(-scores, kind="stable") if i != position][:k]
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "track_id": space.ids[order],
                         "track": display_names(space.rows(order)).to_numpy(), "similarity": np.round(scores[order], 4)})
