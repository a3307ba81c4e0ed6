"""Precomputed feature tables (e.g. GTZAN's ``features_30_sec.csv``): numeric columns become
one feature block, the other columns ids, labels and metadata; rows with missing, non-numeric
or infinite values are reported, never imputed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ID_COLUMN_CANDIDATES = ("track_id", "id", "filename", "file_name", "file", "path")
NUMERIC_SHARE = 0.9  # a column is numeric when this share of its filled cells are numbers


class FeatureTableError(ValueError):
    """The feature table cannot be used; the message names the file and column."""


@dataclass
class FeatureTable:
    """One row per track: ``ids``, the numeric ``values`` (NaN where a row is bad), their column
    ``names``, the other columns as text in ``metadata``, and why each bad row is bad."""

    path: Path
    id_column: str | None
    ids: list[str]
    values: np.ndarray
    names: list[str]
    metadata: pd.DataFrame
    bad_rows: dict[int, str] = field(default_factory=dict)

    def digest(self) -> str:
        """A short hash of the values and names (the feature block's cache key)."""
        digest = hashlib.sha1(np.ascontiguousarray(self.values).tobytes())
        digest.update("\x1f".join(self.names).encode("utf-8"))
        return digest.hexdigest()[:12]


def _numeric_columns(frame: pd.DataFrame, exclude: set[str]) -> list[str]:
    numeric = []
    for column in frame.columns:
        if column in exclude:
            continue
        filled = frame[column][frame[column] != ""]
        parsed = pd.to_numeric(filled, errors="coerce")
        if len(filled) and parsed.notna().mean() >= NUMERIC_SHARE:
            numeric.append(column)
    return numeric


def _bad_rows(frame: pd.DataFrame, numeric: list[str], values: np.ndarray) -> dict[int, str]:
    """Row index → the first problem in it: an empty cell, text, NaN or ±inf."""
    bad: dict[int, str] = {}
    for row in np.flatnonzero(~np.isfinite(values).all(axis=1)):
        column_index = int(np.flatnonzero(~np.isfinite(values[row]))[0])
        column = numeric[column_index]
        cell = frame[column].iloc[row]
        what = "empty" if cell == "" else f"'{cell}' is not a finite number"
        bad[int(row)] = f"features: {what} in column '{column}'"
    return bad


def read_feature_table(frame: pd.DataFrame, path: Path, id_column: str | None = None,
                       label_columns: list[str] | None = None) -> FeatureTable:
    """Split a table read by `collection.read_table` into ids, numeric features and metadata.

    The id column is ``id_column`` or the first of track_id / id / filename / file_name / file /
    path; without one, rows are named ``row-1``, ``row-2``, …. Columns named in
    ``label_columns`` are never features, even when numeric. Ids are not checked here (the
    collection checks them with every other id).
    """
    lookup = {c.lower(): c for c in frame.columns}
    if id_column is not None:
        if id_column.lower() not in lookup:
            raise FeatureTableError(f"{path}: id column '{id_column}' not found "
                                    f"(columns: {', '.join(frame.columns)})")
        id_column = lookup[id_column.lower()]
    else:
        id_column = next((lookup[c] for c in ID_COLUMN_CANDIDATES if c in lookup), None)
    ids = (list(frame[id_column]) if id_column else [f"row-{i + 1}" for i in range(len(frame))])
    labels = {lookup.get(c.lower(), c) for c in (label_columns or [])}
    numeric = _numeric_columns(frame, exclude={id_column or ""} | labels)
    if not numeric:
        raise FeatureTableError(f"{path}: no numeric columns to use as features "
                                f"(columns: {', '.join(frame.columns)})")
    values = frame[numeric].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    metadata = frame[[c for c in frame.columns if c not in numeric]]
    return FeatureTable(path, id_column, ids, values, numeric, metadata.reset_index(drop=True),
                        _bad_rows(frame, numeric, values))
