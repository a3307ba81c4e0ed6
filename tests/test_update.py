"""`songscape update`: a folder that gained, changed and lost files is taken into a finished
run without refitting; every other track keeps its cluster, whatever the clusterer."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from songscape.update import diff_tracks
from songscape.workspace import read_npz

CONFIG = """preset: easy
seeds: [0, 1]
map_methods: [tsne]
representations: [{name: pca, kind: pca, params: {n_components: 4}},
                  {name: cvae, kind: cvae, condition: language, params: {latent_dim: 2, epochs: 3}},
                  {name: lyrics, kind: raw, input: lyrics}]
lyrics: {method: tfidf, n_components: 4, min_df: 1}
clusterers: [{name: kmeans}, {name: spectral}]
"""
runner = CliRunner()


@pytest.fixture(scope="module")
def grown(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """A run on 14 of the tiny corpus's 16 files; then the folder gains the other two, one
    file changes (another recording under its name) and one is deleted. Returns the run, the
    folder and what happened to which file."""
    scratch = tmp_path_factory.mktemp("update")
    folder = scratch / "music"
    shutil.copytree(tiny_corpus.parent / "audio", folder)
    files = sorted(folder.iterdir())
    held_out = scratch / "later"
    held_out.mkdir()
    for file in files[-2:]:
        file.rename(held_out / file.name)
    (scratch / "run.yaml").write_text(CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(folder), "--table", str(tiny_corpus), "--k", "3",
                                 "--config", str(scratch / "run.yaml"), "--workspace", str(scratch / "run")])
    assert result.exit_code == 0, result.output
    for file in held_out.iterdir():
        file.rename(folder / file.name)
    changed, deleted = files[0], files[1]
    shutil.copyfile(files[-1], changed)  # other content under the same name
    deleted.unlink()
    (folder / "zz-broken.wav").write_bytes(b"not audio")  # added, but cannot be analysed
    return scratch / "run", folder, {"added": " ".join(f.stem for f in files[-2:]), "changed": changed.stem,
                                     "deleted": deleted.stem}


def test_diff_matches_by_content() -> None:
    old = pd.DataFrame({"track_id": ["a", "b", "c", "d"], "sha1": ["1", "2", "3", "4"]})
    new = pd.DataFrame({"track_id": ["a", "b", "e", "f"], "sha1": ["1", "9", "3", "5"]})
    diff = diff_tracks(old, new)
    assert diff.carried == {"a": "a", "e": "c"}  # c moved to e: same content
    assert diff.changed == ["b"] and diff.added == ["f"] and diff.deleted == ["d"]


def test_update_keeps_every_other_tracks_cluster(grown: tuple[Path, Path, dict[str, str]]) -> None:
    run_dir, folder, happened = grown
    before = {name: pd.read_parquet(run_dir / "labels" / f"pca__{name}.parquet").set_index("track_id")
              for name in ("kmeans", "spectral")}
    result = runner.invoke(app, ["update", str(run_dir), str(folder)])
    assert result.exit_code == 0, (result.output, result.exc_info)
    assert "3 added, 1 changed, 1 deleted, 12 unchanged" in result.output
    assert "zz-broken" in result.output and "skipped" in result.output
    assert f"deleted: {happened['deleted']}" in result.output
    assert "lyrics: new tracks not placed (lyrics is not a saved model on extracted audio" in result.output
    assert "cvae: new tracks not placed (cvae is conditioned on 'language'" in result.output
    tracks = pd.read_parquet(run_dir / "tracks.parquet")
    assert len(tracks) == 16 and happened["deleted"] not in set(tracks["track_id"])
    assert tracks.set_index("track_id").loc["zz-broken", "status"] == "skipped"
    analysed = tracks.loc[tracks["status"] == "ok", "track_id"]
    for name, old in before.items():
        after = pd.read_parquet(run_dir / "labels" / f"pca__{name}.parquet").set_index("track_id")
        assert list(after.index) == list(analysed)
        kept = [t for t in old.index if t in after.index and t != happened["changed"]]
        assert len(kept) == 12
        assert (after.loc[kept] == old.loc[kept]).all().all()  # no renumbering, every seed
        new_ids = happened["added"].split() + [happened["changed"]]
        assert after.loc[new_ids].ge(0).all().all()  # placed in existing clusters
        assert set(after.loc[new_ids, "seed_0"]) <= set(old["seed_0"])
    embedding = read_npz(run_dir / "embeddings" / "pca__seed0.npz")
    assert list(embedding["track_id"]) == list(analysed) and np.isfinite(embedding["embedding"]).all()
    # drawn again: the report counts the new tracks, the map is newer than the labels it shows
    assert "<p>16 tracks, 15 analysed" in (run_dir / "report" / "index.html").read_text(encoding="utf-8")
    labels_written = (run_dir / "labels" / "pca__kmeans.parquet").stat().st_mtime_ns
    assert (run_dir / "report" / "map.html").stat().st_mtime_ns > labels_written


def test_a_second_update_changes_nothing(grown: tuple[Path, Path, dict[str, str]]) -> None:
    run_dir, folder, _ = grown
    before = pd.read_parquet(run_dir / "labels" / "pca__spectral.parquet")
    lists = run_dir.parent / "lists"
    result = runner.invoke(app, ["update", str(run_dir), str(folder), "--playlists", str(lists)])
    assert result.exit_code == 0 and "0 added, 0 changed, 0 deleted, 16 unchanged" in result.output, result.output
    assert "the run is up to date" in result.output
    assert pd.read_parquet(run_dir / "labels" / "pca__spectral.parquet").equals(before)
    entries = [line for playlist in lists.glob("*.m3u8") for line in playlist.read_text(encoding="utf-8").splitlines()
               if not line.startswith("#")]
    assert len(entries) == 15 and "playlists written to" in result.output  # the broken file is in none


def test_refit_keeps_the_numbers_of_matching_clusters(grown: tuple[Path, Path, dict[str, str]]) -> None:
    """A refit on the same folder finds the same K-Means clusters under other seeds' luck;
    renumbered, they carry the old numbers, and the saved rule places tracks under them."""
    run_dir, folder, _ = grown
    before = pd.read_parquet(run_dir / "labels" / "pca__kmeans.parquet").set_index("track_id")
    result = runner.invoke(app, ["update", str(run_dir), str(folder), "--refit"])
    assert result.exit_code == 0 and "0 added, 0 changed, 0 deleted, 16 unchanged (refitted" in result.output, \
        (result.output, result.exc_info)
    after = pd.read_parquet(run_dir / "labels" / "pca__kmeans.parquet").set_index("track_id").loc[before.index]
    assert (after["seed_0"] == before["seed_0"]).mean() >= 0.8
    from songscape.library import assign

    tracks = pd.read_parquet(run_dir / "tracks.parquet").query("status == 'ok'")
    table = assign(run_dir, [Path(p) for p in tracks["path"]], representation="pca", algorithm="kmeans")
    assert (table["cluster"].to_numpy() == after.loc[tracks["track_id"], "seed_0"].to_numpy()).all()


def test_match_clusters_pairs_by_overlap() -> None:
    from songscape.cluster.algorithms import match_clusters

    old = np.array([0, 0, 0, 1, 1, 2, 2, -1])
    new = np.array([5, 5, 5, 3, 3, 0, 1, -1])
    mapping = match_clusters(old, new, only_new=[7])
    assert mapping[5] == 0 and mapping[3] == 1 and mapping[-1] == -1
    assert {mapping[0], mapping[1]} == {2, 3} and mapping[7] == 4
