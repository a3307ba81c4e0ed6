"""A beets library read as a collection (`songscape run --beets LIBRARY.db`): its items' file
paths, tags and the lyrics field (filled by beets' lyrics plugin), read from beets' SQLite file
directly, read-only, so beets itself need not be installed.

beets 2 stores an item's path relative to its music directory (``directory:`` in beets'
config, which the database does not hold); older libraries hold absolute paths. A relative path
is joined to the music directory given, else to the ``directory`` of the beets config that names
this library file: ``config.yaml`` beside it, in ``$BEETSDIR`` or in ``~/.config/beets``."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import yaml

from songscape.scan import unusable_file

ITEM_COLUMNS = ("path", "title", "artist", "album", "albumartist", "genre", "year", "lyrics")
MULTI_VALUE_DELIMITER = "\\␀"  # between the values of a list field (beets 2: ``genres``) in its database
MAX_LIBRARY_BYTES = 16 << 30


class BeetsLibraryError(ValueError):
    """The file is not a beets library that can be read; the message names it."""


def _text(value: object) -> str:
    """A cell as text: paths are bytes in beets (any encoding: undecodable bytes become the
    surrogates Python gives such file names), a year of 0 means none."""
    if isinstance(value, (bytes, bytearray)):
        return os.fsdecode(bytes(value))
    if value is None or value == 0:
        return ""
    return str(value)


def _config_directory(config_file: Path, library: Path) -> Path | None:
    """The music directory of the beets config ``config_file`` when that config's library
    (default ``library.db`` beside it) is ``library``."""
    try:
        settings = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(settings, dict) or not settings.get("directory"):
        return None
    named = Path(str(settings.get("library", "library.db"))).expanduser()
    named = named if named.is_absolute() else config_file.parent / named
    if not named.exists() or not named.samefile(library):
        return None
    return Path(str(settings["directory"])).expanduser()


def beets_music_directory(library: Path) -> Path | None:
    """The music directory of the beets config that names ``library``, if one is found."""
    folders = [library.parent, *([Path(os.environ["BEETSDIR"])] if os.environ.get("BEETSDIR") else []),
               Path.home() / ".config" / "beets"]
    for folder in folders:
        found = _config_directory(folder / "config.yaml", library)
        if found is not None:
            return found
    return None


def read_beets_items(library: Path, music_directory: Path | None = None) -> pd.DataFrame:
    """One row per item of the beets library file ``library``, in beets' id order, with
    `ITEM_COLUMNS` as text, ``path`` absolute (a relative one joined to ``music_directory``, else
    to `beets_music_directory`); a `BeetsLibraryError` that names the file when it is not a
    readable beets library, holds no item or its relative paths have no music directory."""
    library = Path(library)
    if refused := unusable_file(library, MAX_LIBRARY_BYTES):
        raise BeetsLibraryError(f"{library}: {refused}")
    try:
        with closing(sqlite3.connect(f"{library.absolute().as_uri()}?mode=ro", uri=True)) as connection:
            present = {row[1] for row in connection.execute("PRAGMA table_info(items)")}
            if "path" not in present:
                raise BeetsLibraryError(f"{library}: not a beets library (no items table with paths)")
            columns = [column for column in (*ITEM_COLUMNS, "genres") if column in present]
            rows = connection.execute(f"SELECT {', '.join(columns)} FROM items ORDER BY id").fetchall()
    except sqlite3.DatabaseError as error:
        raise BeetsLibraryError(f"{library}: not a beets library ({error})") from None
    if not rows:
        raise BeetsLibraryError(f"{library}: the beets library holds no items")
    # object cells: a path that is not UTF-8 keeps its surrogates (Arrow strings cannot hold them)
    frame = pd.DataFrame([[_text(value) for value in row] for row in rows], columns=columns, dtype=object)
    relative = ~frame["path"].map(os.path.isabs)
    if relative.any():
        base = music_directory or beets_music_directory(library)
        if base is None:
            raise BeetsLibraryError(f"{library}: its items' paths are relative to beets' music directory, and no "
                                    "beets config.yaml beside it, in $BEETSDIR or in ~/.config/beets names this "
                                    "library: give the music directory with --audio")
        frame.loc[relative, "path"] = [os.path.join(base.absolute(), path) for path in frame.loc[relative, "path"]]
    for column in ITEM_COLUMNS:
        if column not in frame:
            frame[column] = pd.Series("", index=frame.index, dtype=object)
    if "genres" in frame:  # beets 2 keeps a list of genres where beets 1 had one: the first is the genre
        first_genre = frame["genres"].str.split(MULTI_VALUE_DELIMITER, regex=False).str[0]
        frame["genre"] = frame["genre"].where(frame["genre"] != "", first_genre)
    return frame[list(ITEM_COLUMNS)]


def library_root(items: pd.DataFrame) -> Path:
    """The deepest folder that holds every item's file."""
    return Path(os.path.commonpath([os.path.dirname(path) for path in items["path"]]))
