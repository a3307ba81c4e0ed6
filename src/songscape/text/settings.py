"""How lyrics become vectors: the settings that key the lyric caches. A module of its own, so
that the configuration can name them without importing the embedding machinery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LyricsMethod = Literal["tfidf", "e5", "both"]


@dataclass(frozen=True)
class LyricsSettings:
    """How lyrics become vectors; part of the lyrics cache key."""

    method: LyricsMethod = "e5"
    n_components: int = 32
    min_df: int = 2
    max_features: int = 50_000
    stop_words: bool = True
    collapse_repeats: bool = True
    chunk_tokens: int = 256
    max_tokens: int | None = None
    random_state: int = 0
