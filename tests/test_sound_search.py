"""Search by sound in words of any language (the packaged e5 model): on a run whose tracks'
class probabilities are set here, "flute", "বাঁশি" and "Flöte" find the flute track first,
"ঢোল" the drum track, "rock music" the rock track; a run without classes says why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from songscape.sound_search import bangla_names, search_sound
from tests.test_search import write_lyrics_run

runner = CliRunner()
CLASSES = ["Speech", "Music", "Flute", "Drum", "Rock music", "Violin, fiddle", "Rain", "Bird"]
LEADING = {"en-rain": "Flute", "bn-rain": "Drum", "en-river": "Rock music", "bn-river": "Violin, fiddle"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run whose class table gives four tracks one leading class each."""
    run = write_lyrics_run(tmp_path_factory.mktemp("sound"))
    ids = pd.read_parquet(run / "tracks.parquet")["track_id"].astype(str)
    probabilities = np.full((len(ids), len(CLASSES)), 0.05)
    probabilities[:, CLASSES.index("Music")] = 0.6
    for row, track_id in enumerate(ids):
        if track_id in LEADING:
            probabilities[row, CLASSES.index(LEADING[track_id])] = 0.9
    pd.DataFrame(probabilities, columns=CLASSES).assign(track_id=ids.to_numpy()).to_parquet(run / "tags.parquet")
    return run


@pytest.mark.parametrize(("query", "expected"), [("flute", "en-rain"), ("বাঁশি", "en-rain"), ("Flöte", "en-rain"),
                                                 ("ঢোল", "bn-rain"), ("drums", "bn-rain"),
                                                 ("rock music", "en-river"), ("রক গান", "en-river"),
                                                 ("বেহালা", "bn-river")])
def test_a_query_in_any_language_finds_the_track_of_its_class(run_dir: Path, query: str, expected: str) -> None:
    found, classes = search_sound(run_dir, query, 3)
    assert found["track_id"].iloc[0] == expected, (query, classes)
    assert np.isclose(classes.sum(), 1.0) and list(classes) == sorted(classes, reverse=True)


def test_every_glossary_class_is_a_class_of_the_network() -> None:
    labels = set(Path(__file__).resolve().parents[1].joinpath(
        "src/songscape/audio/weights/audioset_labels.txt").read_text(encoding="utf-8").splitlines())
    assert set(bangla_names()) <= labels


def test_search_by_sound_on_the_command_line(run_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["search", str(run_dir), "বাঁশি", "--sound", "-k", "2"])
    assert result.exit_code == 0 and "sound classes: Flute" in result.output and "en-rain" in result.output
    without = write_lyrics_run(tmp_path)
    result = runner.invoke(app, ["search", str(without), "flute", "--sound"])
    assert result.exit_code == 2 and "this run has no sound classes" in result.output
