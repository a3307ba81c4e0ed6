"""`songscape update` never loses a run: another folder is refused (or replaces the run's with
--replace, when the collection moved), a mass delete asks for --allow-deletes, a moved file
is named, and an update killed at any stage is finished by the next one, report included."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape import pipeline, update
from songscape.cli import app
from tests.conftest import PCA_RUN_CONFIG, write_tone

runner = CliRunner()


class Killed(Exception):
    """Stands for the process being killed at that point."""


@pytest.fixture
def collection(tiny_corpus: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A finished run on a copy of the tiny corpus's 16 files: the run's folder and its music."""
    music = tmp_path / "music"
    shutil.copytree(tiny_corpus.parent / "audio", music)
    (tmp_path / "run.yaml").write_text(PCA_RUN_CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(music), "--k", "3", "--config", str(tmp_path / "run.yaml"),
                                 "--workspace", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    return tmp_path / "run", music


def _ids(run_dir: Path) -> list[str]:
    return list(pd.read_parquet(run_dir / "tracks.parquet")["track_id"])


def test_another_folder_is_refused_and_changes_nothing(collection: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, music = collection
    other = tmp_path / "newonly"
    other.mkdir()
    shutil.copy(sorted(music.iterdir())[0], other)
    write_tone(other / "new-a.wav", 300.0, 3.0)
    before = _ids(run_dir)
    result = runner.invoke(app, ["update", str(run_dir), str(other)])
    assert result.exit_code == 2 and "is not this run's audio folder" in result.output and "--replace" in result.output
    assert _ids(run_dir) == before


def test_a_moved_collection_is_taken_with_replace(collection: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, music = collection
    moved = tmp_path / "moved-music"
    music.rename(moved)
    before = _ids(run_dir)
    result = runner.invoke(app, ["update", str(run_dir), str(moved), "--replace"])
    assert result.exit_code == 0 and "0 added, 0 changed, 0 deleted, 16 unchanged" in result.output, result.output
    tracks = pd.read_parquet(run_dir / "tracks.parquet")
    assert list(tracks["track_id"]) == before and all(p.startswith(str(moved)) for p in tracks["path"])
    assert str(moved) in (run_dir / "run.json").read_text(encoding="utf-8")
    result = runner.invoke(app, ["update", str(run_dir)])  # the run now reads the new folder
    assert result.exit_code == 0 and "up to date" in result.output, result.output


def test_a_mass_delete_needs_a_flag(collection: tuple[Path, Path]) -> None:
    run_dir, music = collection
    for file in sorted(music.iterdir())[:5]:
        file.unlink()
    result = runner.invoke(app, ["update", str(run_dir)])
    assert result.exit_code == 2 and "5 of the run's 16 tracks are not in the folder" in result.output
    assert "--allow-deletes" in result.output and len(_ids(run_dir)) == 16
    result = runner.invoke(app, ["update", str(run_dir), "--allow-deletes"])
    assert result.exit_code == 0 and "5 deleted" in result.output and len(_ids(run_dir)) == 11, result.output


def test_a_moved_file_is_named(collection: tuple[Path, Path]) -> None:
    run_dir, music = collection
    first = sorted(music.iterdir())[0]
    (music / "sub").mkdir()
    first.rename(music / "sub" / first.name)
    labels = pd.read_parquet(run_dir / "labels" / "pca__kmeans.parquet").set_index("track_id")["seed_0"]
    result = runner.invoke(app, ["update", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert f"moved: {first.stem} → sub/{first.stem}" in result.output
    after = pd.read_parquet(run_dir / "labels" / "pca__kmeans.parquet").set_index("track_id")["seed_0"]
    assert after[f"sub/{first.stem}"] == labels[first.stem]


def _kill_when(module: object, name: str, should_kill: Callable[[tuple], bool]) -> Callable:
    original = getattr(module, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        if should_kill(args):
            raise Killed(name)
        return original(*args, **kwargs)
    return wrapper


def _named(suffix: str) -> Callable[[tuple], bool]:
    return lambda args: any(str(arg).endswith(suffix) for arg in args if isinstance(arg, Path))


STAGES = {  # where an update is killed: (module, function, when)
    "writing the embeddings": (update, "write_npz", _named(".npz")),
    "writing the labels": (update, "write_parquet", _named("pca__kmeans.parquet")),
    "writing the track table": (update, "write_parquet", _named("tracks.parquet")),
    "writing run.json": (update, "write_text", _named("run.json")),
    "before the report": (update, "rebuild_report", lambda args: True),
    "between the report and the map": (pipeline, "write_map", lambda args: True),
}


def test_a_killed_update_is_finished_by_the_next(collection: tuple[Path, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir, music = collection
    for number, (stage, (module, name, when)) in enumerate(STAGES.items()):
        new_id = f"new-{number}"
        write_tone(music / f"{new_id}.wav", 200.0 + 50 * number, 3.0)
        with monkeypatch.context() as patch:
            patch.setattr(module, name, _kill_when(module, name, when))
            result = runner.invoke(app, ["update", str(run_dir)])
        assert isinstance(result.exception, Killed), (stage, result.output)
        result = runner.invoke(app, ["update", str(run_dir)])
        assert result.exit_code == 0, (stage, result.output, result.exc_info)
        count = 17 + number
        assert _ids(run_dir)[-1] == new_id and len(_ids(run_dir)) == count, stage
        labels = pd.read_parquet(run_dir / "labels" / "pca__kmeans.parquet").set_index("track_id")
        assert len(labels) == count and labels.loc[new_id, "seed_0"] >= 0, stage
        assert f'"id": "{new_id}"' in (run_dir / "report" / "map.html").read_text(encoding="utf-8"), stage
        assert f"<p>{count} tracks, " in (run_dir / "report" / "index.html").read_text(encoding="utf-8"), stage
        again = runner.invoke(app, ["update", str(run_dir)])
        assert "up to date" in again.output, (stage, again.output)
