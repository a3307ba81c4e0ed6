"""Lyrics vectors: TF-IDF over word 1–2-grams and character 2–5-grams, reduced with SVD.

Tracks without lyrics get a zero vector and ``has_lyrics`` False; the vectorisers are fitted
on the tracks that have lyrics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from songscape.text.normalize import normalize_lyrics
from songscape.text.tokenize import word_tokens
from songscape.workspace import Workspace, content_key, read_npz, write_npz


@dataclass(frozen=True)
class LyricsSettings:
    """TF-IDF and SVD settings; part of the lyrics cache key."""

    n_components: int = 32
    min_df: int = 2
    max_features: int = 50_000
    random_state: int = 0


@dataclass
class LyricsFeatures:
    """Dense lyric vectors (n, d), the has-lyrics mask and the fitted word vocabulary."""

    vectors: np.ndarray
    has_lyrics: np.ndarray
    vocabulary: np.ndarray


def _vectorizers(settings: LyricsSettings, n_documents: int) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    min_df = settings.min_df if n_documents >= 4 * settings.min_df else 1
    words = TfidfVectorizer(tokenizer=word_tokens, token_pattern=None, lowercase=False,
                            ngram_range=(1, 2), min_df=min_df, max_features=settings.max_features,
                            sublinear_tf=True)
    characters = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=min_df,
                                 max_features=settings.max_features, sublinear_tf=True)
    return words, characters


def embed_lyrics(lyrics: list[str], settings: LyricsSettings) -> LyricsFeatures:
    """TF-IDF (words + characters) → TruncatedSVD → L2-normalised vectors, one row per track."""
    texts = [normalize_lyrics(text or "") for text in lyrics]
    has_lyrics = np.array([bool(text) for text in texts])
    documents = [text for text in texts if text]
    vectors = np.zeros((len(texts), 0), dtype=np.float32)
    vocabulary = np.array([], dtype=str)
    if len(documents) >= 2:
        words, characters = _vectorizers(settings, len(documents))
        matrix = sp.hstack([words.fit_transform(documents), characters.fit_transform(documents)]).tocsr()
        n_components = max(1, min(settings.n_components, matrix.shape[0] - 1, matrix.shape[1] - 1))
        svd = TruncatedSVD(n_components=n_components, random_state=settings.random_state)
        reduced = normalize(svd.fit_transform(matrix))
        vectors = np.zeros((len(texts), n_components), dtype=np.float32)
        vectors[has_lyrics] = reduced
        vocabulary = np.array(sorted(words.vocabulary_), dtype=str)
    return LyricsFeatures(vectors, has_lyrics, vocabulary)


def cached_lyrics_features(workspace: Workspace, lyrics: list[str], settings: LyricsSettings,
                           log: Callable[[str], None] = print) -> tuple[LyricsFeatures, Path]:
    """Lyrics vectors from ``features/lyrics-<key>.npz``, computing and writing them first
    when no file matches these settings and texts."""
    key = content_key("lyrics", asdict(settings), lyrics)
    path = workspace.lyrics_features(key)
    if path.exists():
        stored = read_npz(path)
        log(f"lyrics features: reused {path.relative_to(workspace.root)}")
        return LyricsFeatures(stored["vectors"], stored["has_lyrics"], stored["vocabulary"]), path
    features = embed_lyrics(lyrics, settings)
    write_npz(path, vectors=features.vectors, has_lyrics=features.has_lyrics,
              vocabulary=features.vocabulary)
    log(f"lyrics features: {int(features.has_lyrics.sum())} of {len(lyrics)} tracks have lyrics "
        f"→ {path.relative_to(workspace.root)}")
    return features, path
