"""The command line end to end on tiny generated data."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from tests.conftest import write_tone

runner = CliRunner()


def _labels(workspace: Path) -> dict[str, pd.DataFrame]:
    return {p.name: pd.read_parquet(p) for p in sorted((workspace / "labels").iterdir())}


def test_demo_end_to_end_then_reuse(tmp_path: Path) -> None:
    workspace = tmp_path / "demo"
    arguments = ["demo", "--tracks", "16", "--seconds", "3", "--seeds", "2", "--workspace", str(workspace)]
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    results = pd.read_csv(workspace / "results.csv")
    # representations × algorithms × seeds, and the consensus of the two neural models (ae, vae) over the seeds
    assert len(results) == 5 * 1 * 2 + 2 * 2
    for column in ("silhouette", "calinski_harabasz", "nmi_style", "ari_language", "purity_style",
                   "accuracy_language", "noise_fraction", "coverage", "supervised_leak"):
        assert column in results.columns
    assert set(results["representation"]) == {"raw", "pca", "ae", "vae", "lyrics"}
    tracks = pd.read_parquet(workspace / "tracks.parquet")
    for column in ("track_id", "path", "sha1", "duration_s", "lyrics", "language", "style", "status"):
        assert column in tracks.columns
    page = (workspace / "report" / "index.html").read_text(encoding="utf-8")
    assert "nmi_style" in page and "data:image/png;base64" in page
    assert "report" in first.output and "demo finished in" in first.output
    labels_before = _labels(workspace)

    second = runner.invoke(app, arguments)
    assert second.exit_code == 0, second.output
    assert "audio features: reused" in second.output and "0 trained, 10 reused" in second.output
    labels_after = _labels(workspace)
    assert labels_before.keys() == labels_after.keys()
    for name, frame in labels_before.items():
        pd.testing.assert_frame_equal(frame, labels_after[name])


def test_demo_labels_identical_from_scratch(tmp_path: Path) -> None:
    arguments = ["demo", "--tracks", "12", "--seconds", "2.5", "--seeds", "1"]
    for name in ("a", "b"):
        result = runner.invoke(app, [*arguments, "--workspace", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    first, second = _labels(tmp_path / "a"), _labels(tmp_path / "b")
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


@pytest.fixture
def user_folder(tmp_path: Path) -> tuple[Path, Path]:
    audio = tmp_path / "library"
    audio.mkdir()
    for index in range(6):
        write_tone(audio / f"song{index}.wav", freq=150.0 * (index + 1), seconds=1.5)
    (audio / "broken.mp3").write_bytes(b"\x00" * 64)
    table = tmp_path / "meta.csv"
    rows = [f"song{i}.wav,{'low' if i < 3 else 'high'},word{i} shared words" for i in range(6)]
    table.write_text("file,register,lyrics\n" + "\n".join(rows) + "\nghost.wav,low,\n", encoding="utf-8-sig")
    return audio, table


def test_run_on_user_folder_skips_broken_file(user_folder: tuple[Path, Path], tmp_path: Path) -> None:
    audio, table = user_folder
    workspace = tmp_path / "run"
    result = runner.invoke(app, ["run", "--audio", str(audio), "--table", str(table), "--k", "2",
                                 "--seeds", "1", "--workspace", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "skipped broken (" in result.output and "1 table rows without a track" in result.output
    assert "skipped 1 of 7 tracks: cannot decode (1)" in result.output
    tracks = pd.read_parquet(workspace / "tracks.parquet").set_index("track_id")
    assert tracks.loc["broken", "status"] == "skipped" and "cannot decode" in tracks.loc["broken", "reason"]
    assert (tracks.drop(index="broken")["status"] == "ok").all()
    results = pd.read_csv(workspace / "results.csv")
    assert (results.loc[results["input"] == "audio", "n_tracks"] == 6).all()
    assert "nmi_register" in results.columns
    page = (workspace / "report" / "index.html").read_text(encoding="utf-8")
    assert "broken" in page and "ghost.wav" in page


def test_run_fails_clearly_when_every_file_is_broken(tmp_path: Path) -> None:
    audio = tmp_path / "bad"
    audio.mkdir()
    for name in ("a.wav", "b.flac", "c.ogg"):
        (audio / name).write_bytes(b"junk")
    result = runner.invoke(app, ["run", "--audio", str(audio), "--workspace", str(tmp_path / "w")])
    assert result.exit_code == 2
    assert "none of the 3 tracks can be analysed; first: a (" in result.output
    assert "a.wav): cannot decode" in result.output


def test_run_reports_missing_column_in_one_line(user_folder: tuple[Path, Path], tmp_path: Path) -> None:
    audio, table = user_folder
    result = runner.invoke(app, ["run", "--audio", str(audio), "--table", str(table),
                                 "--lyrics-column", "words", "--workspace", str(tmp_path / "w")])
    assert result.exit_code == 2
    assert "column 'words' not found (columns: file, register, lyrics)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("preset_name", ["medium", "hard", "full"])
def test_every_preset_end_to_end(preset_name: str, tiny_corpus: Path, tmp_path: Path) -> None:
    workspace = tmp_path / preset_name
    result = runner.invoke(app, ["run", "--preset", preset_name, "--audio", str(tiny_corpus.parent),
                                 "--table", str(tiny_corpus), "--k", "4", "--seeds", "2",
                                 "--label-columns", "style,language", "--workspace", str(workspace)])
    assert result.exit_code == 0, result.output
    results = pd.read_csv(workspace / "results.csv")
    from songscape.config import preset

    config = preset(preset_name)
    expected = {(r.name, c.name) for r in config.representations for c in config.clusterers}
    expected |= {(r.name, "posterior") for r in config.representations if r.kind == "vade"}
    neural = {r.name for r in config.representations if r.kind not in ("raw", "pca")}
    expected |= {(name, f"consensus-{algorithm}") for name, algorithm in expected if name in neural}
    assert set(zip(results["representation"], results["algorithm"])) == expected
    assert (results.groupby(["representation", "algorithm"]).size() == 2).all()
    for column in ("silhouette_common", "stability", "degenerate", "nmi_style"):
        assert column in results.columns
    assert (workspace / "report" / "index.html").exists()
    stages = json.loads((workspace / "run.json").read_text(encoding="utf-8"))["stage_seconds"]
    assert list(stages)[:3] == ["collection", "audio features", "lyrics"] and list(stages)[-3:] == ["agreement", "report", "map"]
    assert {r.name for r in config.representations} <= set(stages)  # each representation's models and clusterings
    assert all(seconds >= 0 for seconds in stages.values())
    assert "time: collection" in result.output and "s in all" in result.output


def test_the_demo_prints_no_python_warning(tmp_path: Path) -> None:
    """In a fresh interpreter, as `make demo` runs it: no line of output is a Python warning."""
    import os
    import re
    import subprocess
    import sys
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run([sys.executable, "-m", "songscape", "demo", "--tracks", "12", "--seconds", "2.5",
                           "--seeds", "2", "--workspace", str(tmp_path / "demo")],
                          capture_output=True, text=True, env=environment, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert not re.search(r"\w+Warning\b|warnings\.warn", output), output
