"""File names that are not UTF-8 (``caf\\xe9.ogg`` from an old disk or archive) as text that
every table, page and message can hold.

Python gives such a name's undecodable bytes as lone surrogates (U+DC80–U+DCFF), which UTF-8
files, Parquet and JSON refuse. songscape stores them as the escape ``\\udce9`` instead
(`stored_text`); `file_path` turns a stored path back into the file's own bytes, so the file
is still decoded, served and listed in playlists under its real name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

_ESCAPED_BYTE = re.compile(r"\\udc([89a-f][0-9a-f])")


def stored_text(text: str) -> str:
    """``text`` with each undecodable byte of a file name (a lone surrogate) written as its
    escape, so that it can be stored as UTF-8; other text is returned as it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def stored_path(path: Path | str) -> str:
    """How a run stores the path of a file (see the module docstring)."""
    return stored_text(str(path))


def file_path(stored: str) -> Path:
    """The file a stored path names: the path as it is when that file exists, else with its
    escapes turned back into the name's own bytes."""
    path = Path(stored)
    if "\\udc" not in stored or os.path.lexists(path):
        return path
    return Path(_ESCAPED_BYTE.sub(lambda match: chr(0xDC00 + int(match.group(1), 16)), stored))


def file_url(path: Path) -> str:
    """A relative or absolute path as a URL path: the name's own bytes percent-encoded, so that
    a browser asks for (and a ``file:`` page opens) the file itself."""
    return quote(os.fsencode(path))
