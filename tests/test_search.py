"""Lyric search across languages and sound + lyrics similarity on a lyrics-only run, with the
packaged e5 model. The lyrics are short texts written for this test: four themes, each once in
English and once in Bangla."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from songscape.library import LibraryError
from songscape.search import search_lyrics, similar

LYRICS = {
    "en-rain": ("english", "The rain keeps falling through the night\nDark clouds cover all the sky\n"
                "Thunder rolls and the streets are flooded\nI watch the raindrops on my window"),
    "en-mother": ("english", "My mother sang to me when I was small\nHer hands were warm, her voice was soft\n"
                  "I still remember her lullaby"),
    "en-river": ("english", "We row the boat across the river\nThe boatman sings as the water flows\n"
                 "The far shore is waiting for us"),
    "en-dance": ("english", "Lights are flashing in the club tonight\nWe dance until the morning sun\n"
                 "Turn the music up loud"),
    "bn-rain": ("bangla", "সারা রাত ঝরছে বৃষ্টি\nকালো মেঘে ঢেকে গেছে আকাশ\nবজ্রের শব্দে কাঁপে ঘর\n"
                "জানালায় বৃষ্টির ফোঁটা দেখি"),
    "bn-mother": ("bangla", "মা আমাকে ঘুমপাড়ানি গান শোনাতেন\nতাঁর হাত ছিল উষ্ণ, কণ্ঠ ছিল কোমল\n"
                  "সেই গান আজও মনে পড়ে"),
    "bn-river": ("bangla", "নদীর বুকে নৌকা বাই\nমাঝি গান গায় স্রোতের সাথে\nওপারে আমাদের অপেক্ষা"),
    "bn-dance": ("bangla", "আজ রাতে আলো ঝলমলে ক্লাবে\nভোর পর্যন্ত নাচব আমরা\nগান বাজাও জোরে"),
}
CONFIG = """preset: easy
seeds: [0]
map_methods: [tsne]
representations: [{name: lyrics, kind: raw, input: lyrics}]
lyrics: {method: e5}
"""
runner = CliRunner()


def write_lyrics_run(scratch: Path) -> Path:
    """A finished lyrics-only run on `LYRICS` in ``scratch``; returns its folder."""
    table = pd.DataFrame([{"track_id": key, "title": key, "language": language, "lyrics": text}
                          for key, (language, text) in LYRICS.items()])
    table.to_csv(scratch / "lyrics.csv", index=False)
    (scratch / "run.yaml").write_text(CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--table", str(scratch / "lyrics.csv"), "--k", "4",
                                 "--config", str(scratch / "run.yaml"), "--workspace", str(scratch / "run")])
    assert result.exit_code == 0, result.output
    return scratch / "run"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lyrics_run(tmp_path_factory.mktemp("search"))


def _first_in(table: pd.DataFrame, language: str) -> str:
    return str(table.loc[table["language"] == language, "track_id"].iloc[0])


def test_an_english_query_finds_the_bangla_lyric_on_its_theme(run_dir: Path) -> None:
    table = search_lyrics(run_dir, "heavy rain falling from dark clouds all night", k=8)
    assert _first_in(table, "bangla") == "bn-rain" and _first_in(table, "english") == "en-rain"
    assert table["similarity"].is_monotonic_decreasing


def test_a_bangla_query_finds_the_english_lyric_on_its_theme(run_dir: Path) -> None:
    table = search_lyrics(run_dir, "মায়ের ঘুমপাড়ানি গান", k=8)
    assert _first_in(table, "english") == "en-mother" and _first_in(table, "bangla") == "bn-mother"


def test_search_on_the_command_line(run_dir: Path) -> None:
    result = runner.invoke(app, ["search", str(run_dir), "boat on the river", "-k", "2"])
    assert result.exit_code == 0 and "river" in result.output, result.output
    result = runner.invoke(app, ["search", str(run_dir), "  "])
    assert result.exit_code == 2 and "the search text is empty" in result.output


def test_similar_mixes_sound_and_lyrics(run_dir: Path) -> None:
    """On a lyrics-only run the 'sound' space is the lyrics representation itself, so any
    weight ranks the other-language twin first; the weight must lie in 0…1."""
    for weight in (0.0, 0.5, 1.0):
        assert similar(run_dir, "en-dance", k=1, lyrics_weight=weight)["track_id"].iloc[0] == "bn-dance"
    with pytest.raises(LibraryError, match="lyrics weight must lie in 0…1"):
        similar(run_dir, "en-dance", lyrics_weight=1.5)
