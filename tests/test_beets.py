"""The songscape plugin in a real beets (installed from PyPI with the dev extra): a library
built by beets' own import command on generated tracks, `beet songscape RUN` writing each item's
cluster, cluster name and map position, and `beet ls songscape_cluster:N` reading them back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from tests.conftest import PCA_RUN_CONFIG, write_tone

runner = CliRunner()
BEET = Path(sys.executable).with_name("beet")


def _beet(config_dir: Path, *arguments: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BEET), *arguments], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "BEETSDIR": str(config_dir)})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


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
    config = root / "beets"
    config.mkdir()
    (config / "config.yaml").write_text(f'''directory: {music}
library: {root / "library.db"}
plugins: songscape
import:
    copy: no
    move: no
    write: no
    autotag: no
    quiet: yes
''', encoding="utf-8")
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
