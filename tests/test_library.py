"""Similar songs and playlists on a saved run, from the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from songscape.library import LibraryError, assign, write_playlists
from songscape.search import similar
from songscape.workspace import read_npz

CONFIG = """preset: easy
seeds: [0]
map_methods: [tsne]
audio: {excerpt: centre, excerpt_seconds: 30}  # the corpus's 3-s clips whole (segments are for real tracks)
representations: [{name: pca, kind: pca, params: {n_components: 4}},
                  {name: lyrics, kind: raw, input: lyrics}]
lyrics: {method: tfidf, n_components: 4, min_df: 1}
clusterers: [{name: kmeans}, {name: gmm, params: {covariance_type: diag}}, {name: agglomerative}]
"""
runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    scratch = tmp_path_factory.mktemp("library")
    (scratch / "run.yaml").write_text(CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(tiny_corpus.parent), "--table", str(tiny_corpus),
                                 "--k", "4", "--config", str(scratch / "run.yaml"),
                                 "--label-columns", "style,language", "--workspace", str(scratch / "run")])
    assert result.exit_code == 0, result.output
    return scratch / "run"


def test_similar_ranks_by_cosine_similarity(run_dir: Path) -> None:
    table = similar(run_dir, "demo-0001", k=5, representation="pca")
    assert list(table["rank"]) == [1, 2, 3, 4, 5] and "demo-0001" not in set(table["track_id"])
    stored = read_npz(run_dir / "embeddings" / "pca__seed0.npz")
    vectors = stored["embedding"] / np.linalg.norm(stored["embedding"], axis=1, keepdims=True)
    ids = list(stored["track_id"])
    expected = vectors @ vectors[ids.index("demo-0001")]
    for track_id, score in zip(table["track_id"], table["similarity"]):
        assert score == pytest.approx(expected[ids.index(track_id)], abs=1e-4)
    assert table["similarity"].is_monotonic_decreasing


def test_similar_on_the_command_line_and_its_errors(run_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["similar", str(run_dir), "demo-0002", "-k", "3"])
    assert result.exit_code == 0 and result.output.count("demo-") == 3, result.output
    result = runner.invoke(app, ["similar", str(run_dir), "demo-0099"])
    assert result.exit_code == 2 and "unknown track 'demo-0099' in this run; did you mean" in result.output
    instrumental = pd.read_parquet(run_dir / "tracks.parquet").query("lyrics == ''")["track_id"].iloc[0]
    result = runner.invoke(app, ["similar", str(run_dir), instrumental, "--representation", "lyrics"])
    assert result.exit_code == 2 and "has no lyrics embedding" in result.output
    result = runner.invoke(app, ["similar", str(tmp_path), "demo-0001"])
    assert result.exit_code == 2 and "not a finished songscape run" in result.output


def test_read_only_commands_on_what_is_not_a_run(run_dir: Path, tmp_path: Path) -> None:
    absent = tmp_path / "no-such-run"
    for command in (["search", str(absent), "rain"], ["similar", str(absent), "x"], ["playlists", str(absent),
                                                                                      "--out", str(tmp_path / "l")]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2 and "no such run folder" in result.output, (command, result.output)
    assert list(tmp_path.iterdir()) == []  # nothing created
    a_file = tmp_path / "passwd"
    a_file.write_text("root:x:0:0", encoding="utf-8")
    result = runner.invoke(app, ["search", str(a_file), "rain"])
    assert result.exit_code == 2 and "not a run folder (a file)" in result.output, result.output
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "embeddings")
    result = runner.invoke(app, ["similar", str(copy), "demo-0002"])
    assert result.exit_code == 2 and "embeddings/" in result.output, result.output
    assert "missing; run `songscape run`" in result.output and "to rebuild it" in result.output
    (copy / "tracks.parquet").unlink()
    result = runner.invoke(app, ["search", str(copy), "rain"])
    assert result.exit_code == 2 and "tracks.parquet" in result.output, result.output


def test_playlists_one_per_cluster_with_relative_paths(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lists"
    result = runner.invoke(app, ["playlists", str(run_dir), "--out", str(out), "--representation", "pca"])
    assert result.exit_code == 0, result.output
    playlists = sorted(out.glob("*.m3u8"))
    labels = pd.read_parquet(run_dir / "labels" / "pca__kmeans.parquet")
    assert len(playlists) == labels["seed_0"].nunique()
    entries = []
    for playlist in playlists:
        lines = playlist.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "#EXTM3U" and playlist.name.startswith("cluster-")
        files = [line for line in lines if not line.startswith("#")]
        assert all(not Path(f).is_absolute() and (out / f).resolve().is_file() for f in files)
        entries += files
    assert len(entries) == len(labels)  # every track in exactly one playlist
    tracks = pd.read_parquet(run_dir / "tracks.parquet")
    first = pd.Series(labels["seed_0"].to_numpy(), index=labels["track_id"])
    dominant = tracks.set_index("track_id").loc[first.index[first == 0], "language"].mode().iloc[0]
    assert any(p.name.startswith(f"cluster-0-{dominant}-") for p in playlists)


def test_playlists_need_audio(tmp_path: Path, run_dir: Path) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    tracks = pd.read_parquet(copy / "tracks.parquet")
    tracks["path"] = ""
    tracks.to_parquet(copy / "tracks.parquet")
    with pytest.raises(LibraryError, match="no audio files"):
        write_playlists(copy, tmp_path / "lists")


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm"])
def test_assign_gives_files_of_the_run_their_own_clusters(run_dir: Path, tmp_path: Path, algorithm: str) -> None:
    tracks = pd.read_parquet(run_dir / "tracks.parquet")
    files = [Path(p) for p in tracks["path"]]
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"not audio")
    table = assign(run_dir, [*files, broken], representation="pca", algorithm=algorithm)
    labels = pd.read_parquet(run_dir / "labels" / f"pca__{algorithm}.parquet").set_index("track_id")["seed_0"]
    expected = labels.loc[tracks["track_id"]].to_numpy()
    assert (table["cluster"].to_numpy()[:-1] == expected).all()
    assert set(table["rule"][:-1]) == {"nearest centre" if algorithm == "kmeans" else "most probable mixture component"}
    last = table.iloc[-1]
    assert last["status"] == "skipped" and last["cluster"] == -1 and "cannot decode" in last["reason"]


def test_assign_on_the_command_line_and_its_errors(run_dir: Path, tiny_corpus: Path) -> None:
    some_file = next(iter(sorted((tiny_corpus.parent / "audio").glob("*.flac"))))
    result = runner.invoke(app, ["assign", str(run_dir), str(some_file), "--representation", "pca"])
    assert result.exit_code == 0 and some_file.name in result.output and " ok " in result.output, result.output
    result = runner.invoke(app, ["assign", str(run_dir), str(some_file), "--representation", "lyrics"])
    assert result.exit_code == 2 and "assign needs one on audio statistics" in result.output
    result = runner.invoke(app, ["assign", str(run_dir), str(some_file), "--algorithm", "dbscan"])
    assert result.exit_code == 2 and "no algorithm 'dbscan' in this run" in result.output
    result = runner.invoke(app, ["assign", str(run_dir), str(some_file), "--algorithm", "agglomerative"])
    assert result.exit_code == 0 and "5 nearest neighbours" in result.output, result.output


def test_assign_without_a_rule_follows_the_nearest_neighbours(run_dir: Path) -> None:
    """Agglomerative clusters have no rule: the run's own files, placed by their neighbours,
    land in the clusters they have (nearly all; a file on a border may be outvoted)."""
    tracks = pd.read_parquet(run_dir / "tracks.parquet")
    table = assign(run_dir, [Path(p) for p in tracks["path"]], representation="pca", algorithm="agglomerative")
    labels = pd.read_parquet(run_dir / "labels" / "pca__agglomerative.parquet").set_index("track_id")["seed_0"]
    agreement = np.mean(table["cluster"].to_numpy() == labels.loc[tracks["track_id"]].to_numpy())
    assert agreement >= 0.9 and set(table["rule"]) == {"5 nearest neighbours"}


def test_every_library_command_refuses_an_empty_run(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    empty = tmp_path / "empty"
    shutil.copytree(run_dir, empty)
    pd.read_parquet(empty / "results.parquet").iloc[:0].to_parquet(empty / "results.parquet")
    some_file = pd.read_parquet(empty / "tracks.parquet")["path"].iloc[0]
    for command in (["similar", str(empty), "demo-0001"], ["playlists", str(empty), "--out", str(tmp_path / "l")],
                    ["assign", str(empty), some_file]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2 and "the run has no results" in result.output, (command, result.output)
    assert not (tmp_path / "l").exists()


def test_similar_with_a_lyrics_weight_mixes_in_the_lyrics(run_dir: Path) -> None:
    from songscape.search import lyric_vectors
    from songscape.library import SavedRun

    tracks = pd.read_parquet(run_dir / "tracks.parquet")
    sung = tracks.loc[tracks["lyrics"] != "", "track_id"].iloc[0]
    sound = similar(run_dir, sung, k=15, representation="pca")
    lyrics_only = similar(run_dir, sung, k=15, representation="pca", lyrics_weight=1.0)
    ids, vectors = lyric_vectors(SavedRun.open(run_dir))
    expected = pd.Series(vectors @ vectors[list(ids).index(sung)], index=ids).drop(sung)
    top = expected.reindex(tracks["track_id"]).fillna(0.0).drop(sung).sort_values(ascending=False, kind="stable")
    assert list(lyrics_only["track_id"]) == list(top.index[:15])
    assert list(sound["track_id"]) != list(lyrics_only["track_id"])
    instrumental = tracks.loc[tracks["lyrics"] == "", "track_id"].iloc[0]
    with pytest.raises(LibraryError, match="has no lyrics"):
        similar(run_dir, instrumental, representation="pca", lyrics_weight=0.3)
