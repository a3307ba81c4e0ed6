"""The workspace: one folder per run holding every artifact listed in
docs/architecture.md ("What a run writes").

Artifacts are content-keyed (`<key>` = short hash of a stage's settings and inputs) so a rerun
reuses what is still valid, and every write goes to a temporary file renamed into place.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

KEY_LENGTH = 12


def content_key(*parts: Any) -> str:
    """Short stable hash of JSON-serialisable parts (settings, input keys, file hashes)."""
    payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def file_sha1(path: Path, chunk_size: int = 1 << 20) -> str:
    """SHA-1 of a file's bytes."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``,
    on failure it is removed, so readers never see a half-written file."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_parquet(frame: pd.DataFrame, target: Path) -> None:
    """Write a table atomically as Parquet."""
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv(frame: pd.DataFrame, target: Path) -> None:
    """Write a table atomically as UTF-8 CSV."""
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")


def write_npz(target: Path, **arrays: np.ndarray) -> None:
    """Write arrays atomically as an uncompressed ``.npz``."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def write_text(target: Path, text: str) -> None:
    """Write UTF-8 text atomically (the undecodable bytes of a file name, lone surrogates in
    Python, as their escapes ``\\udcXX``)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", errors="backslashreplace")


class RunFileError(ValueError):
    """A file of a run that cannot be read (missing, truncated, not what it should be); the
    message names it and the command that writes it again."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: cannot be read ({reason}); `songscape run` with this run's options writes it "
                         "again (cached features and models are reused)")
        self.path = path


def _reason(error: Exception, what: str) -> str:
    """Why a run file could not be read, in a few words: the system's reason, or that it is not
    ``what`` (damaged or cut short)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON at line {error.lineno}, column {error.colno}"
    return f"damaged or cut short: not {what}"


# what reading a damaged file raises: OSError, a bad zip/npz/pickle (ValueError, BadZipFile,
# EOFError, KeyError), a bad Parquet file (pyarrow's ArrowException, a subclass of neither)
_DAMAGED = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, pa.ArrowException)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz`` into memory (no pickled objects); `RunFileError` when
    it cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except _DAMAGED as error:
        raise RunFileError(Path(path), _reason(error, "a NumPy archive")) from None


def read_parquet(path: Path, **options: Any) -> pd.DataFrame:
    """A Parquet table of a run; `RunFileError` when it cannot be read."""
    try:
        return pd.read_parquet(path, **options)
    except _DAMAGED as error:
        raise RunFileError(Path(path), _reason(error, "a Parquet table")) from None


def read_json(path: Path) -> Any:
    """A JSON file of a run; `RunFileError` when it cannot be read."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except _DAMAGED as error:
        raise RunFileError(Path(path), _reason(error, "UTF-8 JSON")) from None


def read_cached_npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """A per-track cache file with the arrays ``names``, or None when it is missing or damaged
    (the caller computes it again)."""
    try:
        stored = read_npz(path)
    except RunFileError:
        return None
    return stored if all(name in stored for name in names) else None


def make_folder(path: Path) -> Path:
    """Create the output folder ``path`` (and its parents) when missing; a `NotADirectoryError`
    that names it when a file is in the way."""
    path = Path(path)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file is there, not a folder; name a folder", str(part))
    path.mkdir(parents=True, exist_ok=True)
    return path


class Workspace:
    """Paths of one run's artifacts under ``root`` (default ``./songscape-runs/<name>``)."""

    def __init__(self, root: Path, create: bool = True) -> None:
        """``create``: make the folder now (a run being written); False for a run being read."""
        self.root = Path(root)
        if create:
            make_folder(self.root)

    @property
    def tracks(self) -> Path:
        return self.root / "tracks.parquet"

    @property
    def results_parquet(self) -> Path:
        return self.root / "results.parquet"

    @property
    def results_csv(self) -> Path:
        return self.root / "results.csv"

    @property
    def k_selection(self) -> Path:
        """Automatic-k curves: representation, algorithm, seed, criterion, k, score."""
        return self.root / "k_selection.parquet"

    @property
    def track_tags(self) -> Path:
        """The pretrained network's tag probabilities per track (`track_id` + one column per tag), when computed."""
        return self.root / "tags.parquet"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    def audio_features(self, key: str) -> Path:
        """A folder: `stats.npy` and `mel.npy` memmaps plus `tracks.npz` (names, errors, …)."""
        return self.root / "features" / f"audio-{key}"

    def lyrics_features(self, key: str) -> Path:
        return self.root / "features" / f"lyrics-{key}.npz"

    def model_dir(self, model: str, key: str) -> Path:
        return self.root / "models" / f"{model}-{key}"

    def embedding(self, representation: str, seed: int) -> Path:
        return self.root / "embeddings" / f"{representation}__seed{seed}.npz"

    def cluster_rule(self, representation: str, algorithm: str, seed: int) -> Path:
        """A clusterer's fitted rule for new tracks (K-Means centres, mixture parameters)."""
        return self.root / "clusters" / f"{representation}__{algorithm}__seed{seed}.npz"

    def labels(self, representation: str, algorithm: str) -> Path:
        return self.root / "labels" / f"{representation}__{algorithm}.parquet"
