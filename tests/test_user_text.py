"""User text is printed as it is: brackets are never read as terminal markup, and control and
bidi-override characters from tags, tables and lyrics never reach the terminal or the report
(they show as escapes); the raw value stays in `tracks.parquet`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from songscape.plaintext import printable
from songscape.text.normalize import normalize_lyrics
from tests.test_search import CONFIG, LYRICS

ESCAPE_TITLE = "Ctrl\x1b[31mRED\x1b[0m"
REVERSED_TITLE = "evil\u202eabc.mp3"
CLOSING_TAG = "[/x] closing tag"
STYLE_TAG = "[bold red]x"
RAW = ("\x1b", "\u202e", "\x00", "\x07", "\x7f")
runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lyrics-only run whose ids and titles are markup and control characters; one lyric is an
    LRC file's text, one row has no lyrics (skipped, so its id is printed)."""
    scratch = tmp_path_factory.mktemp("user-text")
    rows = [{"track_id": key, "title": key, "language": language, "lyrics": text}
            for key, (language, text) in LYRICS.items()]
    rows[0].update(track_id=CLOSING_TAG, title=CLOSING_TAG)
    rows[1].update(track_id=STYLE_TAG, title=ESCAPE_TITLE)
    rows[2].update(title=REVERSED_TITLE, lyrics="[ar:LRC Artist]\n[00:01.00]Rain\x07 on the roof\x00 all night\n"
                   + rows[2]["lyrics"])
    rows.append({"track_id": "[/y] no words", "title": "silent", "language": "english", "lyrics": ""})
    pd.DataFrame(rows).to_csv(scratch / "lyrics.csv", index=False)
    (scratch / "run.yaml").write_text(CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--table", str(scratch / "lyrics.csv"), "--k", "4",
                                 "--config", str(scratch / "run.yaml"), "--workspace", str(scratch / "run")])
    assert result.exit_code == 0, (result.output, result.exc_info)
    assert "[/y] no words" in result.output and not any(c in result.output for c in RAW)
    return scratch / "run"


def test_printable_shows_controls_and_keeps_text() -> None:
    assert printable(ESCAPE_TITLE) == "Ctrl\\x1b[31mRED\\x1b[0m"
    assert printable("a\u202eb\u2066c\x9bd") == "a\\u202eb\\u2066c\\x9bd"
    assert printable("line one\n\tline two") == "line one\n\tline two"
    assert printable("line one\nline two\u2028", one_line=True) == "line one\\x0aline two\\u2028"
    assert printable("আমার সোনার বাংলা [Live]") == "আমার সোনার বাংলা [Live]"


def test_lyric_cleaning_drops_control_and_override_characters() -> None:
    cleaned = normalize_lyrics("a\x00b\x07c\x1bd\x7fe\u202ef\u2066g\x9bh\tgap")
    assert cleaned == "abcdefgh gap"


def test_search_prints_bracketed_and_control_text_plainly(run_dir: Path) -> None:
    result = runner.invoke(app, ["search", str(run_dir), "rain on the roof", "-k", "9"])
    assert result.exit_code == 0, (result.output, result.exc_info)
    assert CLOSING_TAG in result.output and "Ctrl\\x1b[31mRED\\x1b[0m" in result.output
    assert "evil\\u202eabc.mp3" in result.output and not any(c in result.output for c in RAW)
    assert "Rain on the roof all night" in result.output  # the LRC tag line is not the excerpt


@pytest.mark.parametrize("track", [CLOSING_TAG, STYLE_TAG])
def test_similar_takes_and_prints_ids_with_brackets(run_dir: Path, track: str) -> None:
    result = runner.invoke(app, ["similar", str(run_dir), track, "-k", "8"])
    assert result.exit_code == 0, (result.output, result.exc_info)
    other = STYLE_TAG if track == CLOSING_TAG else CLOSING_TAG
    assert other in result.output and not any(c in result.output for c in RAW)


def test_an_unknown_id_with_markup_is_named_as_given(run_dir: Path) -> None:
    result = runner.invoke(app, ["similar", str(run_dir), "[bold red]nope"])
    assert result.exit_code == 2 and "unknown track '[bold red]nope'" in result.output, result.output


def test_the_report_and_the_map_hold_no_control_characters(run_dir: Path) -> None:
    for name in ("index.html", "map.html", "results.md", "tables.tex"):
        page = (run_dir / "report" / name).read_text(encoding="utf-8")
        assert not any(c in page for c in RAW), name
    map_page = (run_dir / "report" / "map.html").read_text(encoding="utf-8")
    assert "Ctrl\\\\x1b[31mRED" in map_page and "evil\\\\u202eabc" in map_page  # visible, JSON-escaped
    tracks = pd.read_parquet(run_dir / "tracks.parquet").set_index("track_id")
    assert tracks.loc[STYLE_TAG, "title"] == ESCAPE_TITLE  # the raw value is kept
