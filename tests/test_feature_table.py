"""Reading precomputed feature tables: numeric columns, ids, labels and bad rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from songscape.collection import CollectionError, load_collection, read_table
from songscape.feature_table import FeatureTableError, read_feature_table


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_numeric_columns_become_features_and_bad_rows_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", "filename,tempo,rms,label,note\n"
                                      "a.wav,120,0.5,rock,x\n"
                                      "b.wav,,0.4,jazz,y\n"
                                      "c.wav,inf,0.3,rock,z\n"
                                      "d.wav,95,n/a,jazz,w\n"
                                      "e.wav,100,0.2,jazz,v\n"
                                      "f.wav,101,0.2,rock,u\n"
                                      "g.wav,102,0.2,rock,t\n"
                                      "h.wav,103,0.2,jazz,s\n"
                                      "i.wav,104,0.2,jazz,r\n"
                                      "j.wav,105,0.2,rock,q\n")
    table = read_feature_table(read_table(path), path)
    assert table.id_column == "filename" and table.names == ["tempo", "rms"]
    assert list(table.metadata.columns) == ["filename", "label", "note"]
    assert table.bad_rows == {1: "features: empty in column 'tempo'",
                              2: "features: 'inf' is not a finite number in column 'tempo'",
                              3: "features: 'n/a' is not a finite number in column 'rms'"}
    assert table.values[0].tolist() == [120.0, 0.5]


def test_label_columns_are_never_features_and_rows_get_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", "x,y,cluster\n1,2,0\n3,4,1\n5,6,0\n")
    table = read_feature_table(read_table(path), path, label_columns=["cluster"])
    assert table.names == ["x", "y"] and table.ids == ["row-1", "row-2", "row-3"]
    with pytest.raises(FeatureTableError, match="id column 'song' not found"):
        read_feature_table(read_table(path), path, id_column="song")


def test_no_numeric_columns_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", "id,genre\na,rock\nb,jazz\n")
    with pytest.raises(CollectionError, match=r"f.csv: no numeric columns to use as features \(columns: id, genre\)"):
        load_collection(features=path)


def test_duplicate_ids_are_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", "id,x\na,1\nb,2\na,3\n")
    with pytest.raises(CollectionError, match=r"f.csv: duplicate id \(id\) 'a' in rows 1, 3"):
        load_collection(features=path)


def test_empty_label_column_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", "id,x,genre\na,1,\nb,2,\n")
    with pytest.raises(CollectionError, match="label column 'genre' is empty in every row"):
        load_collection(features=path, label_columns=["genre"])


def test_parquet_features_with_a_lyrics_table_matched_by_id(tmp_path: Path) -> None:
    frame = pd.DataFrame({"track_id": ["t1", "t2", "t3"], "f1": [0.1, 0.2, np.nan], "f2": [1, 2, 3],
                          "genre": ["a", "b", "a"]})
    features = tmp_path / "f.parquet"
    frame.to_parquet(features)
    table = _write(tmp_path / "lyrics.csv", "track_id,lyrics\nt2,আমার সোনার বাংলা\nt1,hello world\nt9,lost\n")
    collection = load_collection(table=table, features=features)
    tracks = collection.tracks.set_index("track_id")
    assert tracks.loc["t2", "lyrics"] == "আমার সোনার বাংলা" and tracks.loc["t3", "lyrics"] == ""
    assert tracks.loc["t3", "status"] == "skipped" and "column 'f1'" in tracks.loc["t3", "reason"]
    assert collection.rows_without_file == ["row 3 (track_id='t9')"]
    assert collection.features.shape == (3, 2) and not collection.has_audio
    assert collection.label_columns == ["genre"]
