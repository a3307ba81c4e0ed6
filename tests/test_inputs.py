"""Runs without audio: a lyrics-only table in two scripts, a precomputed feature table (alone
and with a lyrics table), and the errors such inputs can bring."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from songscape.cli import app
from songscape.demo import make_lyrics

runner = CliRunner()
CONFIG = "preset: easy\nseeds: [0]\nlyrics: {method: tfidf, n_components: 8, min_df: 1}\n"


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _lyrics_table(path: Path, n: int = 40) -> Path:
    """English and Bangla (Bengali script) lyrics from two styles, plus one empty row."""
    rng = np.random.default_rng(0)
    rows = []
    for index in range(n):
        language, style = ("english", "bangla")[index % 2], ("rock", "folk")[(index // 2) % 2]
        rows.append({"song_id": f"s{index}", "title": f"Song {index}", "genre": style,
                     "language": language, "lyrics": make_lyrics(style, language, rng)})
    rows.append({"song_id": "empty", "title": "Silence", "genre": "rock", "language": "english", "lyrics": ""})
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _features_table(path: Path, n: int = 60) -> Path:
    """Three groups in eight numeric columns, an id column, a label column and three bad rows
    (rows 6, 7 and 8)."""
    rng = np.random.default_rng(1)
    group = np.arange(n) % 3
    values = rng.standard_normal((3, 8))[group] * 4 + rng.standard_normal((n, 8))
    frame = pd.DataFrame(values, columns=[f"d{i}" for i in range(8)])
    frame.insert(0, "filename", [f"clip.{i:05d}.wav" for i in range(n)])
    frame["label"] = np.array(["blues", "jazz", "metal"])[group]
    frame["d0"] = frame["d0"].astype(object)
    frame.loc[5, "d0"], frame.loc[6, "d3"] = np.nan, np.inf
    frame.loc[7, "d0"] = "n/a"
    frame.to_csv(path, index=False)
    return path


def test_lyrics_only_table_in_two_scripts(tmp_path: Path) -> None:
    table = _lyrics_table(tmp_path / "lyrics.csv")
    workspace = tmp_path / "run"
    result = runner.invoke(app, ["run", "--table", str(table), "--id-column", "song_id", "--k", "2",
                                 "--config", str(_config(tmp_path)),
                                 "--label-columns", "language,genre", "--workspace", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "collection: 41 lyrics rows" in result.output
    assert "vae: no audio in this collection; runs on the lyrics vectors" in result.output
    results = pd.read_csv(workspace / "results.csv")
    assert set(results["representation"]) == {"pca-lyrics", "ae-lyrics", "vae-lyrics", "lyrics"}  # raw = lyrics here
    assert set(results["input"]) == {"lyrics"}
    assert results.loc[results["representation"] == "lyrics", "nmi_language"].iloc[0] > 0.9
    tracks = pd.read_parquet(workspace / "tracks.parquet").set_index("track_id")
    assert tracks.loc["empty", "status"] == "skipped" and tracks.loc["empty", "reason"] == "no lyrics"
    assert tracks.loc["s1", "title"] == "Song 1"
    assert (workspace / "report" / "index.html").exists()


def test_feature_table_alone(tmp_path: Path) -> None:
    features = _features_table(tmp_path / "features_30_sec.csv")
    workspace = tmp_path / "run"
    result = runner.invoke(app, ["run", "--features", str(features), "--k", "3",
                                 "--config", str(_config(tmp_path)), "--workspace", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "collection: 60 feature-table rows, 8 feature columns" in result.output
    assert "skipped 3 of 60 tracks" in result.output
    tracks = pd.read_parquet(workspace / "tracks.parquet").set_index("track_id")
    assert tracks.loc["clip.00006.wav", "reason"] == "features: 'inf' is not a finite number in column 'd3'"
    results = pd.read_csv(workspace / "results.csv")
    assert set(results["representation"]) == {"raw", "pca", "ae", "vae"}  # no lyrics: skipped
    assert (results["n_tracks"] == 57).all()
    assert results.loc[results["representation"] == "raw", "nmi_label"].iloc[0] > 0.9


def test_feature_table_with_a_lyrics_table(tmp_path: Path) -> None:
    features = _features_table(tmp_path / "features.csv", n=40)
    lyrics = pd.read_csv(_lyrics_table(tmp_path / "lyrics.csv"), keep_default_na=False)
    lyrics["filename"] = [f"clip.{i:05d}" for i in range(len(lyrics))]  # stems match the ids
    lyrics.drop(columns=["song_id"]).to_csv(tmp_path / "lyrics_by_file.csv", index=False)
    workspace = tmp_path / "run"
    result = runner.invoke(app, ["run", "--features", str(features), "--table", str(tmp_path / "lyrics_by_file.csv"),
                                 "--k", "3", "--config", str(_config(tmp_path)),
                                 "--label-columns", "label,language", "--workspace", str(workspace)])
    assert result.exit_code == 0, result.output
    assert re.search(r"^1 table rows without a track", result.output, re.MULTILINE)  # the 41st row
    results = pd.read_csv(workspace / "results.csv")
    assert set(results["representation"]) == {"raw", "pca", "ae", "vae", "lyrics"}
    assert results.loc[results["representation"] == "lyrics", "nmi_language"].iloc[0] > 0.6  # k = 3


def test_fewer_tracks_than_k_is_a_clear_error(tmp_path: Path) -> None:
    features = _features_table(tmp_path / "f.csv", n=20)  # rows 6, 7 and 8 are bad
    result = runner.invoke(app, ["run", "--features", str(features), "--k", "18",
                                 "--config", str(_config(tmp_path)), "--workspace", str(tmp_path / "w")])
    assert result.exit_code == 2, result.output
    assert "only 17 tracks were found, fewer than k = 18" in result.output  # said before the run folder is made
    assert "Traceback" not in result.output


def test_nothing_to_read_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--workspace", str(tmp_path / "w")])
    assert result.exit_code == 2 and "give --audio FOLDER, --table FILE, --features FILE or --beets LIBRARY.db" in result.output
