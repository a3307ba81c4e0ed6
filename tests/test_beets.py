"""The songscape plugin in a real beets (installed from PyPI with the dev extra): a library
built by beets' own import command on generated tracks, `beet songscape RUN` writing each item's
cluster, cluster name and map position, and `beet ls songscape_cluster:N` reading them back."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.beets_source import BeetsLibraryError, read_beets_items
from songscape.cli import app
from tests.conftest import PCA_RUN_CONFIG, write_tone

runner = CliRunner()
BEET = Path(sys.executable).with_name("beet")


def _beet(config_dir: Path, *arguments: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BEET), *arguments], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "BEETSDIR": str(config_dir)})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _beets_config(root: Path, music: Path, plugins: str = "") -> Path:
    """beets' config folder for a library of ``music`` kept in place (no copy, no tags written,
    no autotagger), its database in ``root``."""
    config = root / "beets"
    config.mkdir()
    (config / "config.yaml").write_text(f'''directory: {music}
library: {root / "library.db"}
plugins: [{plugins}]
import:
    copy: no
    move: no
    write: no
    autotag: no
    quiet: yes
''', encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A beets library of eight generated tracks (imported as they are, not moved) and a
    songscape run on their folder, plus a ninth track beets does not hold: beets' config
    folder, the music folder and the run."""
    if not BEET.exists():
        pytest.fail(f"{BEET} is missing: install the dev extra (pip install -e '.[dev]'), as make test does")
    root = tmp_path_factory.mktemp("beets")
    music = root / "music"
    music.mkdir()
    for index in range(8):
        write_tone(music / f"t{index}.flac", 200.0 + 90 * index, 2.0)
    config = _beets_config(root, music, plugins="songscape")
    _beet(config, "import", "-q", str(music))
    write_tone(music / "outside.flac", 999.0, 2.0)  # in the run, not in the library
    (root / "run.yaml").write_text(PCA_RUN_CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(music), "--config", str(root / "run.yaml"), "--k", "2",
                                 "--workspace", str(root / "run")])
    assert result.exit_code == 0, result.output
    return config, music, root / "run"


def test_beet_songscape_writes_clusters_that_beet_ls_reads_back(library: tuple[Path, Path, Path]) -> None:
    config, music, run_dir = library
    done = _beet(config, "songscape", str(run_dir))
    assert "8 items updated" in done.stdout and "1 tracks of the run are not in this library" in done.stdout
    assert "outside.flac" in done.stdout
    labels = pd.read_parquet(run_dir / "labels" / "pca__kmeans.parquet").set_index("track_id")["seed_0"]
    for cluster in (0, 1):
        listed = _beet(config, "ls", "-f", "$path", f"songscape_cluster:{cluster}").stdout.split()
        expected = sorted(str(music / f"{track_id}.flac") for track_id, value in labels.items()
                          if value == cluster and track_id != "outside")
        assert sorted(listed) == expected, cluster
    shown = _beet(config, "ls", "-f", "$songscape_cluster_name|$songscape_x|$songscape_y",
                  f"path:{music / 't0.flac'}").stdout.strip()
    name, x, y = shown.split("|")
    assert name.startswith(f"cluster {labels['t0']}") and float(x) == float(x) and float(y) == float(y)


def test_beet_songscape_without_a_run_is_one_line(library: tuple[Path, Path, Path], tmp_path: Path) -> None:
    config, _, _ = library
    done = subprocess.run([str(BEET), "songscape", str(tmp_path / "nothing")], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "BEETSDIR": str(config)})
    assert done.returncode != 0 and "no such run folder" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr



def test_run_reads_a_beets_library_as_the_collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    music = tmp_path / "music"
    (music / "a").mkdir(parents=True)
    for index in range(7):
        write_tone(music / "a" / f"t{index}.flac", 200.0 + 90 * index, 2.0)
    config = _beets_config(tmp_path, music)
    _beet(config, "import", "-q", str(music))
    _beet(config, "modify", "-y", f"path:{music / 'a' / 't0.flac'}", "lyrics=আমার সোনার বাংলা আমি তোমায় ভালোবাসি",
          "genre=folk")
    _beet(config, "modify", "-y", f"path:{music / 'a' / 't1.flac'}", "lyrics=love me do you know I love you", "genre=pop")
    (music / "a" / "t6.flac").unlink()  # an item whose file is gone
    write_tone(music / "a" / "stray.flac", 999.0, 2.0)  # a file beets does not hold
    (tmp_path / "run.yaml").write_text(PCA_RUN_CONFIG, encoding="utf-8")
    run_dir = tmp_path / "run"
    monkeypatch.setenv("BEETSDIR", str(config))  # beets 2 stores paths relative to the config's directory
    result = runner.invoke(app, ["run", "--beets", str(tmp_path / "library.db"), "--config", str(tmp_path / "run.yaml"),
                                 "--k", "2", "--workspace", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "1 table rows without a track" in result.output and "t6.flac" in result.output
    assert "1 audio files under" in result.output and "stray.flac" in result.output
    tracks = pd.read_parquet(run_dir / "tracks.parquet").set_index("track_id")
    assert sorted(tracks.index) == [f"t{index}" for index in range(6)]  # the library's items, under their folder
    assert tracks.loc["t0", "lyrics"].startswith("আমার সোনার বাংলা") and tracks.loc["t0", "language"] == "bangla"
    assert tracks.loc["t1", "genre"] == "pop" and tracks.loc["t2", "lyrics"] == ""
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["beets"] == str(tmp_path / "library.db") and record["audio_dir"] == str(music / "a")

    write_tone(music / "a" / "t7.flac", 640.0, 2.0)  # beets imports a new track: update takes it in
    _beet(config, "import", "-q", "-s", str(music / "a" / "t7.flac"))
    _beet(config, "modify", "-y", f"path:{music / 'a' / 't7.flac'}", "lyrics=yellow submarine in the sea")
    result = runner.invoke(app, ["update", str(run_dir)])
    assert result.exit_code == 0, result.output
    tracks = pd.read_parquet(run_dir / "tracks.parquet").set_index("track_id")
    assert "t7" in tracks.index and "stray" not in tracks.index
    assert tracks.loc["t7", "lyrics"] == "yellow submarine in the sea"


def test_a_file_that_is_not_a_beets_library_is_one_line(tmp_path: Path) -> None:
    not_a_library = tmp_path / "library.db"
    not_a_library.write_text("hello", encoding="utf-8")
    result = runner.invoke(app, ["run", "--beets", str(not_a_library)])
    assert result.exit_code == 2 and "not a beets library" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_relative_item_paths_need_the_music_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no beets config anywhere
    monkeypatch.delenv("BEETSDIR", raising=False)
    library = tmp_path / "old.db"
    with sqlite3.connect(library) as connection:  # the items table as beets keeps it: paths are bytes
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, path BLOB, title TEXT, genres TEXT)")
        connection.executemany("INSERT INTO items (path, title, genres) VALUES (?, ?, ?)",
                               [(b"x/caf\xe9.flac", "Café", "jazz\\␀swing"), (b"/abs/y.flac", "Y", "")])
    with pytest.raises(BeetsLibraryError, match="relative to beets' music directory.*--audio"):
        read_beets_items(library)
    items = read_beets_items(library, tmp_path / "music")
    assert list(items["path"]) == [os.fsdecode(bytes(tmp_path / "music" / "x") + b"/caf\xe9.flac"), "/abs/y.flac"]
    assert list(items["genre"]) == ["jazz", ""] and list(items["lyrics"]) == ["", ""]
