"""A collection: audio files found under a folder, matched to the rows of an optional table.

The table (CSV, TSV, JSON or Parquet; UTF-8 with or without BOM) is matched to files by a
track id, file-name or path column. Lyrics come from a column or from `.txt`/`.lrc` files
beside the audio. Other categorical columns become label columns. Rows that match no file
and files without a row are listed and counted, never fatal.
"""

from __future__ import annotations

import codecs
import io
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from songscape.text.language import detect_language
from songscape.text.normalize import normalize_lyrics
from songscape.workspace import file_sha1

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aiff", ".aif", ".wma"}
)
LYRICS_SIDECARS = (".lrc", ".txt")
MATCH_COLUMN_CANDIDATES = ("path", "file", "filename", "file_name", "audio_path", "audio",
                           "track_id", "id")
LYRICS_COLUMN_CANDIDATES = ("lyrics", "lyric", "text")
NOT_LABELS = frozenset({"track_id", "id", "path", "file", "filename", "file_name", "audio_path",
                        "audio", "title", "song", "artist", "album", "lyrics", "lyric", "text",
                        "sha1", "status", "reason", "duration_s", "padded", "language_detected",
                        "language_confidence", "script"})
MAX_LABEL_VALUES = 50


class CollectionError(ValueError):
    """The collection cannot be read; the message names the file, row or column."""


@dataclass
class Collection:
    """The tracks of a collection and what did not line up.

    ``tracks`` has one row per audio file: `track_id`, `path`, `sha1`, `lyrics`, `language`,
    the label columns, `status` ("ok") and `reason` ("").
    """

    tracks: pd.DataFrame
    label_columns: list[str]
    rows_without_file: list[str] = field(default_factory=list)
    files_without_row: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def find_audio_files(directory: Path) -> list[Path]:
    """Audio files under ``directory`` (recursive, sorted by relative path)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CollectionError(f"{directory}: audio folder does not exist")
    files = sorted(p for p in directory.rglob("*")
                   if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
    if not files:
        kinds = ", ".join(sorted(e.lstrip(".") for e in AUDIO_EXTENSIONS))
        raise CollectionError(f"{directory}: no audio files found ({kinds})")
    return files


def _decode_text(path: Path) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused by name."""
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CollectionError(
            f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "save it as UTF-8") from None


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV, TSV, JSON (records or columns) or Parquet table with every value as text."""
    path = Path(path)
    if not path.is_file():
        raise CollectionError(f"{path}: table does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".json", ".jsonl"):
            text = _decode_text(path)
            if suffix == ".jsonl":
                frame = pd.DataFrame([json.loads(line) for line in text.splitlines() if line.strip()])
            else:
                frame = pd.DataFrame(json.loads(text))
        elif suffix in (".csv", ".tsv", ".tab", ".txt"):
            separator = "," if suffix == ".csv" else "\t"
            frame = pd.read_csv(io.StringIO(_decode_text(path)), sep=separator, dtype=str,
                                keep_default_na=False)
        else:
            raise CollectionError(f"{path}: unknown table format '{suffix}' "
                                  "(use .csv, .tsv, .json, .jsonl or .parquet)")
    except CollectionError:
        raise
    except (ValueError, pd.errors.ParserError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise CollectionError(f"{path}: cannot parse table: {first_line}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype(object).where(frame.notna(), "").map(
        lambda v: unicodedata.normalize("NFC", str(v).strip()))


class _FileIndex:
    """Looks up audio files by relative path, file name or stem."""

    def __init__(self, root: Path, files: list[Path]) -> None:
        self.root = root.resolve()
        self.by_relative = {self.relative(p): p for p in files}
        self.by_name: dict[str, list[Path]] = {}
        self.by_stem: dict[str, list[Path]] = {}
        for p in files:
            self.by_name.setdefault(p.name, []).append(p)
            self.by_stem.setdefault(p.stem, []).append(p)

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def find(self, value: str) -> Path | None:
        value = value.replace("\\", "/").strip()
        if not value:
            return None
        as_path = PurePosixPath(value)
        if Path(value).is_absolute() and Path(value).resolve().is_relative_to(self.root):
            value = self.relative(Path(value))
        candidates = [self.by_relative.get(value.removeprefix("./"))]
        for index, key in ((self.by_name, as_path.name), (self.by_stem, value),
                           (self.by_stem, as_path.stem)):
            found = index.get(key, [])
            candidates.append(found[0] if len(found) == 1 else None)
        return next((c for c in candidates if c is not None), None)


def _column(frame: pd.DataFrame, name: str, table: Path) -> str:
    lookup = {c.lower(): c for c in frame.columns}
    if name.lower() not in lookup:
        raise CollectionError(f"{table}: column '{name}' not found "
                              f"(columns: {', '.join(frame.columns)})")
    return lookup[name.lower()]


def _choose_match_column(frame: pd.DataFrame, index: _FileIndex, requested: str | None,
                         table: Path) -> str:
    if requested:
        return _column(frame, requested, table)
    lookup = {c.lower(): c for c in frame.columns}
    present = [lookup[c] for c in MATCH_COLUMN_CANDIDATES if c in lookup]
    if not present:
        raise CollectionError(f"{table}: no column to match files by; add one of "
                              f"{', '.join(MATCH_COLUMN_CANDIDATES)} or name it with --id-column")
    return max(present, key=lambda c: sum(index.find(v) is not None for v in frame[c]))


def _check_unique(values: pd.Series, what: str, table: Path) -> None:
    filled = values[values != ""]
    duplicated = filled[filled.duplicated(keep=False)]
    if not duplicated.empty:
        value = duplicated.iloc[0]
        rows = [str(i + 1) for i in duplicated.index[duplicated == value]]
        raise CollectionError(f"{table}: duplicate {what} '{value}' in rows {', '.join(rows)}")


def _sidecar_lyrics(audio: Path, warnings: list[str]) -> str:
    for suffix in LYRICS_SIDECARS:
        sidecar = audio.with_suffix(suffix)
        if sidecar.is_file():
            try:
                text = _decode_text(sidecar)
            except CollectionError as error:
                warnings.append(f"{error}; lyrics ignored")
                return ""
            return unicodedata.normalize("NFC", text).strip()
    return ""


def infer_label_columns(frame: pd.DataFrame, exclude: set[str]) -> list[str]:
    """Columns that look like categories: text or integers with 2…50 distinct values, at most
    one per two rows, excluding ids, paths, titles, artists and lyrics."""
    labels = []
    for column in frame.columns:
        if column.lower() in NOT_LABELS or column in exclude:
            continue
        values = frame[column][frame[column] != ""]
        distinct = values.nunique()
        numeric = pd.to_numeric(values, errors="coerce")
        is_fractional = numeric.notna().all() and (numeric % 1 != 0).any()
        if 2 <= distinct <= min(MAX_LABEL_VALUES, max(2, len(frame) // 2)) and not is_fractional:
            labels.append(column)
    return labels


def load_collection(audio_dir: Path, table: Path | None = None, *, id_column: str | None = None,
                    lyrics_column: str | None = None,
                    label_columns: list[str] | None = None) -> Collection:
    """Discover audio under ``audio_dir``, match it to ``table`` and gather lyrics and labels;
    the table's other columns are kept as metadata (a CVAE can be conditioned on them)."""
    audio_dir = Path(audio_dir)
    files = find_audio_files(audio_dir)
    index = _FileIndex(audio_dir, files)
    warnings: list[str] = []
    frame = read_table(table) if table is not None else pd.DataFrame()
    row_of_file: dict[Path, int] = {}
    rows_without_file: list[str] = []
    lyrics_source = None
    if table is not None:
        match_column = _choose_match_column(frame, index, id_column, table)
        _check_unique(frame[match_column], match_column, table)
        if "track_id" in frame.columns:
            _check_unique(frame["track_id"], "track_id", table)
        for row, value in enumerate(frame[match_column]):
            found = index.find(value)
            if found is None:
                rows_without_file.append(f"row {row + 1} ({match_column}={value!r})")
            elif found in row_of_file:
                raise CollectionError(f"{table}: rows {row_of_file[found] + 1} and {row + 1} "
                                      f"both match file {index.relative(found)}")
            else:
                row_of_file[found] = row
        if lyrics_column:
            lyrics_source = _column(frame, lyrics_column, table)
        else:
            lookup = {c.lower(): c for c in frame.columns}
            lyrics_source = next((lookup[c] for c in LYRICS_COLUMN_CANDIDATES if c in lookup), None)
    labels = ([_column(frame, c, table) for c in label_columns] if label_columns is not None
              else infer_label_columns(frame, exclude={lyrics_source or ""}))

    records = []
    files_without_row = []
    for audio in files:
        row = row_of_file.get(audio)
        values = frame.iloc[row] if row is not None else None
        if row is None and table is not None:
            files_without_row.append(index.relative(audio))
        lyrics = str(values[lyrics_source]) if values is not None and lyrics_source else ""
        lyrics = lyrics or _sidecar_lyrics(audio, warnings)
        track_id = (str(values["track_id"]) if values is not None and "track_id" in frame.columns
                    and values["track_id"] else str(PurePosixPath(index.relative(audio)).with_suffix("")))
        record = {"track_id": track_id, "path": str(audio.resolve()), "sha1": file_sha1(audio),
                  "lyrics": lyrics}
        guess = detect_language(normalize_lyrics(lyrics))
        given_language = values.get("language", "") if values is not None else ""
        record.update(language=given_language or guess.language, language_detected=guess.language,
                      language_confidence=guess.confidence, script=guess.script)
        for column in labels:
            record[column] = (values[column] or None) if values is not None else None
        for column in frame.columns:  # the rest of the row (title, artist, …) as metadata
            if column != lyrics_source and column not in record:
                record[column] = (str(values[column]) or None) if values is not None else None
        record.update(status="ok", reason="")
        records.append(record)
    tracks = pd.DataFrame.from_records(records)
    return Collection(tracks, labels, rows_without_file, files_without_row, warnings)
