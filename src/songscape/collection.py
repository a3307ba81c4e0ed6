"""A collection: audio files found under a folder, matched to the rows of an optional table.

The table (CSV, TSV, JSON or Parquet; UTF-8 with or without BOM) is matched to files by a
track id, file-name or path column. Lyrics come from a column or from `.txt`/`.lrc` files
beside the audio. Other categorical columns become label columns. Rows that match no file
and files without a row are listed and counted, never fatal.
"""

from __future__ import annotations

import codecs
from collections import Counter
import io
import json
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from songscape.beets_source import BeetsLibraryError, library_root, read_beets_items
from songscape.feature_table import (
    ID_COLUMN_CANDIDATES,
    FeatureTable,
    FeatureTableError,
    read_feature_table,
)
from songscape.filenames import stored_path, stored_text
from songscape.labels import LabelColumnError, choose_label_columns, merge_label_spellings
from songscape.scan import AUDIO_EXTENSIONS, Scan, scan_audio, unusable_file
from songscape.tags import LYRICS_SIDECARS, TAG_COLUMNS, FileTags, read_file_tags
from songscape.text.language import detect_language
from songscape.text.normalize import normalize_lyrics
from songscape.workspace import file_sha1

MATCH_COLUMN_CANDIDATES = ("path", "file", "filename", "file_name", "audio_path", "audio",
                           "track_id", "id")
LYRICS_COLUMN_CANDIDATES = ("lyrics", "lyric", "text")
MAX_TEXT_BYTES = 256 << 20  # a table or a lyrics file larger than this is refused, not read


class CollectionError(ValueError):
    """The collection cannot be read; the message names the file, row or column."""


@dataclass
class Collection:
    """The tracks of a collection and what did not line up.

    ``tracks`` has one row per track (audio file, else feature-table row, else table row):
    `track_id`, `path` and `sha1` (empty without audio), `lyrics`, `language`, the label
    columns, metadata columns, `status` ("ok" or "skipped") and `reason`.
    """

    tracks: pd.DataFrame
    label_columns: list[str]
    rows_without_file: list[str] = field(default_factory=list)
    files_without_row: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    has_audio: bool = True
    features: np.ndarray | None = None  # (n_tracks, d) from a feature table; NaN rows unusable
    feature_names: list[str] = field(default_factory=list)
    features_key: str = ""
    audio_dir: Path | None = None  # the folder the audio files were found under


def find_audio_files(directory: Path, exclude: tuple[str, ...] = ()) -> Scan:
    """Audio files under ``directory`` (recursive, following links, sorted by path under it)
    and the entries that could not be used; an error when there is none."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CollectionError(f"{directory}: audio folder does not exist")
    scan = scan_audio(directory, exclude)
    if not scan.files:
        kinds = ", ".join(sorted(e.lstrip(".") for e in AUDIO_EXTENSIONS))
        left_out = f"; {scan.excluded} left out by --exclude" if scan.excluded else ""
        raise CollectionError(f"{directory}: no audio files found ({kinds}){left_out}")
    return scan


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
    if not os.path.lexists(path):
        raise CollectionError(f"{path}: table does not exist")
    if refused := unusable_file(path, MAX_TEXT_BYTES):
        raise CollectionError(f"{path}: {refused}")
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
        self.root = root.absolute()
        self.by_relative = {self.relative(p): p for p in files}
        self.by_name: dict[str, list[Path]] = {}
        self.by_stem: dict[str, list[Path]] = {}
        for p in files:
            self.by_name.setdefault(p.name, []).append(p)
            self.by_stem.setdefault(p.stem, []).append(p)

    def relative(self, path: Path) -> str:
        """The path under the folder as the user sees it (links not resolved)."""
        return path.absolute().relative_to(self.root).as_posix()

    def find(self, value: str) -> Path | None:
        value = value.replace("\\", "/").strip()
        if not value:
            return None
        as_path = PurePosixPath(value)
        if Path(value).is_absolute() and Path(value).is_relative_to(self.root):
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
        if os.path.lexists(sidecar) and (refused := unusable_file(sidecar, MAX_TEXT_BYTES)):
            warnings.append(f"{sidecar}: {refused}; lyrics ignored")
            return ""
        if sidecar.is_file():
            try:
                text = _decode_text(sidecar)
            except CollectionError as error:
                warnings.append(f"{error}; lyrics ignored")
                return ""
            return unicodedata.normalize("NFC", text).strip()
    return ""


class _IdIndex:
    """Looks up track ids by exact value or by stem (``blues.00000.wav`` finds ``blues.00000``)."""

    def __init__(self, ids: list[str]) -> None:
        self.exact = {value: position for position, value in enumerate(ids)}
        self.by_stem: dict[str, list[int]] = {}
        for position, value in enumerate(ids):
            self.by_stem.setdefault(PurePosixPath(value).stem, []).append(position)

    def find(self, value: str) -> int | None:
        value = value.strip()
        if value in self.exact:
            return self.exact[value]
        for key in (value, PurePosixPath(value).stem):
            found = self.by_stem.get(key, [])
            if len(found) == 1:
                return found[0]
        return None


@dataclass
class _Track:
    """One track before its row data is attached: where it came from and how to find it."""

    track_id: str
    path: str = ""
    sha1: str = ""
    audio: Path | None = None
    tags: FileTags = field(default_factory=FileTags)


def _tracks_from_audio(audio_dir: Path, exclude: tuple[str, ...], warnings: list[str],
                       ) -> tuple[list[_Track], _FileIndex]:
    """A track per audio file (path as the user sees it, content hash, tags); entries that
    cannot be used and unreadable tags go to ``warnings``."""
    scan = find_audio_files(audio_dir, exclude)
    warnings += [f"skipped {problem}" for problem in scan.problems]
    if scan.excluded:
        warnings.append(f"{scan.excluded} files or folders left out by --exclude")
    index = _FileIndex(audio_dir, scan.files)
    relatives = [index.relative(file) for file in scan.files]
    tracks = []
    for file, relative, track_id in zip(scan.files, relatives, file_track_ids(relatives)):
        tags = read_file_tags(file)
        if tags.error:
            warnings.append(f"{relative}: {tags.error}; its tags are ignored")
        tracks.append(_Track(stored_text(track_id), stored_path(file.absolute()), file_sha1(file), file, tags))
    return tracks, index


def file_track_ids(relatives: list[str]) -> list[str]:
    """The track id of each file (its path under the folder): the path without its extension,
    or with it where another file has the same path without one (``song.ogg`` and
    ``song.flac`` are ``song.ogg`` and ``song.flac``)."""
    stems = [str(PurePosixPath(relative).with_suffix("")) for relative in relatives]
    shared = {stem for stem, count in Counter(stems).items() if count > 1}
    return [relative if stem in shared else stem for relative, stem in zip(relatives, stems)]


def unique_ids(ids: list[str]) -> list[str]:
    """``ids`` with every repeat made unique by a ``~2``, ``~3``… suffix (in order), so that a
    track id names one track whatever the table's ids and the files' names are."""
    taken = set(ids)
    seen: set[str] = set()
    unique = []
    for track_id in ids:
        candidate, number = track_id, 1
        while candidate in seen or (number > 1 and candidate in taken):  # taken: another track's own id
            number += 1
            candidate = f"{track_id}~{number}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _match_rows(values: pd.Series, find: Callable[[str], int | None], what: str, path: Path,
                track_names: list[str]) -> tuple[list[int | None], list[str]]:
    """Row of each track (None where no row names it) and the rows that name no track."""
    row_of_track: list[int | None] = [None] * len(track_names)
    unmatched = []
    for row, value in enumerate(values):
        track = find(value)
        if track is None:
            unmatched.append(f"row {row + 1} ({what}={value!r})")
        elif row_of_track[track] is not None:
            raise CollectionError(f"{path}: rows {row_of_track[track] + 1} and {row + 1} both match "
                                  f"{track_names[track]}")
        else:
            row_of_track[track] = row
    return row_of_track, unmatched


def _read_features(path: Path, id_column: str | None, label_columns: list[str] | None) -> FeatureTable:
    try:
        features = read_feature_table(read_table(path), path, id_column, label_columns)
    except FeatureTableError as error:
        raise CollectionError(str(error)) from None
    if features.id_column:
        _check_unique(pd.Series(features.ids), f"id ({features.id_column})", path)
    return features


def _names(tracks: list[_Track], index: _FileIndex | None) -> list[str]:
    """How messages name each track: its file, else its id."""
    return [f"file {index.relative(t.audio)}" if index is not None and t.audio else f"track '{t.track_id}'"
            for t in tracks]


def _first_present(frame: pd.DataFrame, candidates: tuple[str, ...]) -> str | None:
    lookup = {c.lower(): c for c in frame.columns}
    return next((lookup[c] for c in candidates if c in lookup), None)


def _primary_tracks(audio_dir: Path | None, frame: pd.DataFrame, table: Path | None,
                    feature_table: FeatureTable | None, id_column: str | None, exclude: tuple[str, ...],
                    warnings: list[str],
                    ) -> tuple[list[_Track], Callable[[str], int | None], _FileIndex | None]:
    """The tracks (audio files, else feature rows, else table rows), a lookup from a table
    value to a track's position, and the file index when there is audio."""
    if audio_dir is not None:
        tracks, index = _tracks_from_audio(Path(audio_dir), exclude, warnings)
        position = {track.audio: i for i, track in enumerate(tracks)}
        return tracks, lambda value: position.get(index.find(value)), index
    if feature_table is not None:
        ids = feature_table.ids
    else:
        id_source = _column(frame, id_column, table) if id_column else _first_present(frame, ID_COLUMN_CANDIDATES)
        if id_source is not None:
            _check_unique(frame[id_source], f"id ({id_source})", table)
        ids = list(frame[id_source]) if id_source else [f"row-{i + 1}" for i in range(len(frame))]
    return [_Track(str(value)) for value in ids], _IdIndex(ids).find, None


def _table_rows(frame: pd.DataFrame, table: Path, tracks: list[_Track], find: Callable[[str], int | None],
                index: _FileIndex | None, id_column: str | None, feature_table: FeatureTable | None,
                ) -> tuple[list[int | None], list[str]]:
    """The table row of each track and the rows that match no track."""
    if index is not None:
        match_column = _choose_match_column(frame, index, id_column, table)
    elif feature_table is None:  # the table's rows are the tracks
        return list(range(len(frame))), []
    else:
        match_column = (_column(frame, id_column, table) if id_column
                        else _first_present(frame, ID_COLUMN_CANDIDATES + MATCH_COLUMN_CANDIDATES))
        if match_column is None:
            raise CollectionError(f"{table}: no column to match feature rows by; add one of "
                                  f"{', '.join(ID_COLUMN_CANDIDATES)} or name it with --id-column")
    _check_unique(frame[match_column], match_column, table)
    return _match_rows(frame[match_column], find, match_column, table, _names(tracks, index))


def load_collection(audio_dir: Path | None = None, table: Path | None = None, *,
                    features: Path | None = None, id_column: str | None = None,
                    lyrics_column: str | None = None,
                    label_columns: list[str] | None = None, exclude: tuple[str, ...] = (),
                    duration_range: tuple[float | None, float | None] = (None, None),
                    beets: Path | None = None) -> Collection:
    """Gather a collection from any of: a folder of audio files, a lyrics/metadata ``table`` and
    a precomputed ``features`` table.

    Tracks are the audio files when a folder is given, else the feature table's rows, else the
    table's rows (a lyrics-only collection). The table is matched to them by path, file name or
    id, the feature table by its id column (exact value or file stem). The table's other
    columns are kept as metadata (a CVAE can be conditioned on them). Audio files also bring
    their own tags (title, artist, album, genre, …, lyrics), which the table overrides per
    column; ``exclude`` globs leave files out, and files whose duration lies outside
    ``duration_range`` (seconds, either end open) are skipped with the reason.

    A ``beets`` library file stands for the table: its items are the tracks, matched by path
    to the audio files under ``audio_dir`` (default: the folder that holds them all); files
    beets does not hold are left out and counted, items without their file listed.
    """
    if audio_dir is None and table is None and features is None and beets is None:
        raise CollectionError("nothing to read: give an audio folder, a table or a feature table")
    if beets is not None and (table is not None or features is not None):
        raise CollectionError(f"{beets}: a beets library is the collection's table; give it without a table "
                              "or feature table")
    warnings: list[str] = []
    if beets is not None:
        try:
            frame = read_beets_items(beets, audio_dir)
        except BeetsLibraryError as error:
            raise CollectionError(str(error)) from None
        audio_dir, table, id_column = audio_dir or library_root(frame), Path(beets), "path"
    else:
        frame = read_table(table) if table is not None else pd.DataFrame()
    if table is not None and frame.empty:
        if audio_dir is None and features is None:
            raise CollectionError(f"{table}: no rows (only a header), so no tracks to analyse")
        warnings.append(f"{table}: no rows (only a header); the tracks get nothing from it")
    feature_table = None
    if features is not None:
        own_id = id_column if table is None else None  # --id-column names the table's column
        feature_table = _read_features(features, own_id, label_columns)
    tracks, find, index = _primary_tracks(audio_dir, frame, table, feature_table, id_column, exclude, warnings)
    rows_without_file: list[str] = []
    feature_rows: list[int | None] = [None] * len(tracks)
    if feature_table is not None and (audio_dir is not None or table is not None):
        feature_rows, unmatched = _match_rows(pd.Series(feature_table.ids), find, "id", features,
                                              _names(tracks, index))
        rows_without_file += unmatched
    elif feature_table is not None:
        feature_rows = list(range(len(tracks)))
    table_rows: list[int | None] = [None] * len(tracks)
    lyrics_source = None
    if table is not None:
        if audio_dir is not None or feature_table is not None:
            table_rows, unmatched = _table_rows(frame, table, tracks, find, index, id_column, feature_table)
            rows_without_file += unmatched
        else:
            table_rows = list(range(len(tracks)))
        if "track_id" in frame.columns:
            _check_unique(frame["track_id"], "track_id", table)
        lyrics_source = (_column(frame, lyrics_column, table) if lyrics_column
                         else _first_present(frame, LYRICS_COLUMN_CANDIDATES))
    if beets is not None:
        tracks, table_rows, feature_rows = _held_by_library(tracks, table_rows, audio_dir, warnings)
    metadata = feature_table.metadata if feature_table is not None else pd.DataFrame()
    tag_frame = pd.DataFrame([{column: track.tags.values.get(column, "") for column in TAG_COLUMNS}
                              for track in tracks], columns=list(TAG_COLUMNS))
    try:
        labels = choose_label_columns([frame.reset_index(drop=True), metadata, tag_frame], label_columns,
                                      lyrics_source, table or features or audio_dir)
    except LabelColumnError as error:
        raise CollectionError(str(error)) from None
    frame_rows, metadata_rows = frame.to_dict("records"), metadata.to_dict("records")  # once, not per row
    records = [_record(track, None if table_rows[i] is None else frame_rows[table_rows[i]],
                       None if feature_rows[i] is None else metadata_rows[feature_rows[i]],
                       lyrics_source, labels, warnings) for i, track in enumerate(tracks)]
    for record, track_id in zip(records, unique_ids([str(record["track_id"]) for record in records])):
        if track_id != record["track_id"]:
            warnings.append(f"track id '{record['track_id']}' is taken by another track: this one is '{track_id}'")
            record["track_id"] = track_id
    for record, row, track in zip(records, feature_rows, tracks):
        reason = (_unusable(record, row, feature_table, has_audio=audio_dir is not None)
                  or _outside(track.tags.duration_s, duration_range))
        if reason:
            record.update(status="skipped", reason=reason)
    warnings += merge_label_spellings(records, labels)
    files_without_row = ([index.relative(t.audio) for t, row in zip(tracks, table_rows) if row is None]
                         if index is not None and table is not None else [])
    values = None
    if feature_table is not None:
        values = np.full((len(tracks), len(feature_table.names)), np.nan)
        for position, row in enumerate(feature_rows):
            if row is not None:
                values[position] = feature_table.values[row]
    return Collection(pd.DataFrame.from_records(records), labels, rows_without_file, files_without_row,
                      warnings, has_audio=audio_dir is not None, features=values,
                      feature_names=feature_table.names if feature_table else [],
                      features_key=feature_table.digest() if feature_table else "",
                      audio_dir=Path(audio_dir).absolute() if audio_dir is not None else None)


def _held_by_library(tracks: list[_Track], table_rows: list[int | None], audio_dir: Path, warnings: list[str],
                     ) -> tuple[list[_Track], list[int | None], list[int | None]]:
    """The tracks a beets library holds (those with an item), their item rows and (no feature
    table) their feature rows; the files it does not hold are counted in ``warnings``."""
    held = [i for i, row in enumerate(table_rows) if row is not None]
    if len(held) < len(tracks):
        first = next(track.path for track, row in zip(tracks, table_rows) if row is None)
        warnings.append(f"{len(tracks) - len(held)} audio files under {audio_dir} are not in the beets library "
                        f"and were left out (the first: {first})")
    return [tracks[i] for i in held], [table_rows[i] for i in held], [None] * len(held)


def _unusable(record: dict[str, object], feature_row: int | None, feature_table: FeatureTable | None,
              has_audio: bool) -> str:
    """Why a track cannot be analysed before any audio is decoded ("" when it can)."""
    if feature_table is not None:
        if feature_row is None:
            return "features: no row in the feature table"
        return feature_table.bad_rows.get(feature_row, "")
    if not has_audio and not record["lyrics"]:
        return "no lyrics"
    return ""


def _outside(duration_s: float | None, duration_range: tuple[float | None, float | None]) -> str:
    """Why a file's duration is outside the accepted range ("" when inside or unknown)."""
    shortest, longest = duration_range
    if duration_s is None:
        return ""
    if shortest is not None and duration_s < shortest:
        return f"shorter than --min-duration ({duration_s:.1f} s < {shortest:g} s)"
    if longest is not None and duration_s > longest:
        return f"longer than --max-duration ({duration_s:.1f} s > {longest:g} s)"
    return ""


def _record(track: _Track, table_row: dict | None, feature_metadata: dict | None,
            lyrics_source: str | None, labels: list[str], warnings: list[str]) -> dict[str, object]:
    """One row of ``tracks.parquet``: the track, its lyrics and language, labels, metadata
    (its table row, over its feature row's text columns) and status."""
    values: dict[str, object] = dict(track.tags.values)
    for given in (feature_metadata or {}, table_row or {}):  # a filled table cell overrides the tag
        values.update({column: value for column, value in given.items() if value not in ("", None) or column not in values})
    lyrics = str(values.get(lyrics_source, "")) if lyrics_source else ""
    if not lyrics and track.audio is not None:
        lyrics = _sidecar_lyrics(track.audio, warnings) or track.tags.lyrics
    track_id = str(values.get("track_id") or track.track_id)
    record: dict[str, object] = {"track_id": track_id, "path": track.path, "sha1": track.sha1,
                                 "lyrics": lyrics}
    guess = detect_language(normalize_lyrics(lyrics))
    record.update(language=values.get("language") or guess.language, language_detected=guess.language,
                  language_confidence=guess.confidence, script=guess.script)
    for column in labels:
        record[column] = values.get(column) or None
    for column, value in values.items():  # the rest of the row (title, artist, …) as metadata
        if column != lyrics_source and column not in record:
            record[column] = str(value) or None
    record.update(status="ok", reason="")
    return record
