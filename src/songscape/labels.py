"""Label columns: which columns of a table, feature table or the files' tags are labels (asked
for by name, or inferred as categories), and label values that differ only in case or spacing
merged into one spelling. Labels only score results; they never choose them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

NOT_LABELS = frozenset({"track_id", "id", "path", "file", "filename", "file_name", "audio_path",
                        "audio", "title", "song", "artist", "album", "albumartist", "date", "lyrics", "lyric", "text",
                        "sha1", "status", "reason", "duration_s", "padded", "language_detected",
                        "language_confidence", "script", "tempo_bpm", "loudness_db"})
MAX_LABEL_VALUES = 50


class LabelColumnError(ValueError):
    """A requested label column cannot be used; the message names it and the source."""


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


def choose_label_columns(sources: list[pd.DataFrame], requested: list[str] | None, lyrics_source: str | None,
                         source: Path | None) -> list[str]:
    """The label columns: the requested ones (each must exist in the table, the feature
    table's text columns or the files' tags, and be filled somewhere), or those inferred from
    each of them (a table column wins over a tag of the same name)."""
    taken: set[str] = set()
    distinct = []
    for frame in sources:
        distinct.append(frame.drop(columns=[c for c in frame.columns if c.lower() in taken]))
        taken |= {c.lower() for c in frame.columns}
    if requested is None:
        found = [column for frame in distinct for column in infer_label_columns(frame, exclude={lyrics_source or ""})]
        return list(dict.fromkeys(found))
    labels = []
    for column in requested:
        frame = next((f for f in distinct if column.lower() in {c.lower() for c in f.columns}), None)
        if frame is None:
            known = sorted({c for f in distinct for c in f.columns if (f[c] != "").any()})
            raise LabelColumnError(f"{source}: label column '{column}' not found "
                                   f"(columns and tags: {', '.join(known)})")
        name = {c.lower(): c for c in frame.columns}[column.lower()]
        if (frame[name] == "").all():
            raise LabelColumnError(f"{source}: label column '{column}' is empty in every row")
        labels.append(name)
    return labels


def _label_key(value: str) -> str:
    return " ".join(value.split()).casefold()


def merge_label_spellings(records: list[dict[str, object]], labels: list[str]) -> list[str]:
    """Label values that differ only in case or spacing ("Rock", "rock ") become the most
    common spelling; returns one notice per merge."""
    notices = []
    for column in labels:
        spellings: dict[str, dict[str, int]] = {}
        for record in records:
            value = record.get(column)
            if isinstance(value, str) and value:
                counts = spellings.setdefault(_label_key(value), {})
                counts[value] = counts.get(value, 0) + 1
        chosen = {key: max(sorted(counts), key=counts.get) for key, counts in spellings.items() if len(counts) > 1}
        for record in records:
            value = record.get(column)
            if isinstance(value, str) and _label_key(value) in chosen:
                record[column] = chosen[_label_key(value)]
        notices += [f"label '{column}': {', '.join(repr(v) for v in sorted(spellings[key]))} merged as {name!r}"
                    for key, name in chosen.items()]
    return notices
