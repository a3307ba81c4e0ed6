"""A property of every command: whatever the files are named (any Unicode, right-to-left and
combining marks, emoji, bytes that are not UTF-8, line breaks, names of 255 bytes), it works or
prints one line. Names are drawn from a seeded generator, so a failure is repeatable."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from tests.conftest import PCA_RUN_CONFIG, write_tone

runner = CliRunner()
MAX_NAME_BYTES = 255
_PIECES = ["গান", "লোকগীতি", "हिन्दी", "カタカナ", "مرحبا", "שלום", "🎸", "e\u0301", "\u202e", "\t", "\n", "\r",
           " ", "%", "#", "?", "&", "'", '"', "<b>", "\\", "*", "[", "]", "~", ".", "-", "a", "Z", "0"]


def random_name(rng: random.Random, suffix: str) -> bytes:
    """A file name (bytes) of random pieces: scripts, controls, URL and shell characters, a
    byte that is not UTF-8 now and then, sometimes as long as a file system allows."""
    parts = [rng.choice(_PIECES).encode("utf-8") for _ in range(rng.randrange(1, 8))]
    if rng.random() < 0.3:
        parts.insert(rng.randrange(len(parts) + 1), bytes([rng.randrange(0x80, 0x100)]))  # Latin-1 and worse
    name = b"".join(parts).replace(b"/", b"_") or b"x"
    if rng.random() < 0.2:  # the longest name the file system takes
        name = (name * (MAX_NAME_BYTES // len(name) + 1))[:MAX_NAME_BYTES - len(suffix)]
        while True:  # not cut inside a UTF-8 character that the rest of the name needs
            try:
                name.decode("utf-8")
                break
            except UnicodeDecodeError as error:
                if error.start < len(name) - 4:
                    break  # a deliberate non-UTF-8 byte earlier on: keep it
                name = name[:-1]
    return name.lstrip(b".") + suffix.encode("ascii") if name.lstrip(b".") else b"x" + suffix.encode("ascii")


def _works_or_one_line(arguments: list[str]) -> None:
    result = runner.invoke(app, arguments)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{arguments[0]} raised {result.exception!r}:\n{result.output}")
    if result.exit_code != 0:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert lines and lines[-1].startswith("error: "), (arguments, result.output)


@pytest.mark.parametrize("seed", [0, 1])
def test_every_command_works_or_prints_one_line_whatever_the_names(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    music = tmp_path / "music"
    music.mkdir()
    names: list[bytes] = []
    while len(names) < 8:
        suffix = rng.choice([".wav", ".flac", ".ogg"])
        name = random_name(rng, suffix)
        if name in names:
            continue
        tone = write_tone(music / f"tone{len(names)}{suffix}", 200.0 + 60 * len(names), 2.0)
        os.rename(os.fsencode(tone), os.path.join(os.fsencode(music), name))  # libsndfile writes UTF-8 names only
        names.append(name)
    (tmp_path / "run.yaml").write_text(PCA_RUN_CONFIG, encoding="utf-8")
    run_dir = tmp_path / "run"
    result = runner.invoke(app, ["run", "--audio", str(music), "--config", str(tmp_path / "run.yaml"), "--k", "2",
                                 "--workspace", str(run_dir)])
    assert result.exit_code == 0, result.output
    tracks = pd.read_parquet(run_dir / "tracks.parquet")
    assert len(tracks) == len(names) and (tracks["status"] == "ok").all(), tracks[["track_id", "reason"]]
    assert tracks["track_id"].is_unique
    some_file = os.fsdecode(os.path.join(os.fsencode(music), names[0]))
    for arguments in (["report", str(run_dir)], ["map", str(run_dir)], ["map", str(run_dir), "--embed-audio"],
                      ["playlists", str(run_dir), "--out", str(tmp_path / "lists")],
                      ["similar", str(run_dir), str(tracks["track_id"].iloc[0]), "-k", "3"],
                      ["search", str(run_dir), "rain"], ["assign", str(run_dir), some_file],
                      ["update", str(run_dir)]):
        _works_or_one_line(arguments)
    playlists = list((tmp_path / "lists").glob("*.m3u8"))
    lines = [line for playlist in playlists for line in playlist.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert len(lines) == len(names)  # one line per track, whatever its name holds
