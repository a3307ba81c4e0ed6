"""User text (titles, artists, lyrics, labels, paths, queries, ids) as plain, harmless text for
whatever songscape prints or writes: the terminal, HTML, Markdown, LaTeX, playlists.

Control characters (C0 and C1, DEL; ESC would colour or move a terminal) and the bidirectional
embedding, override and isolate characters (U+202A–U+202E, U+2066–U+2069; U+202E reverses the
text after it) are made visible as escapes such as ``\\x1b`` or ``\\u202e``, as are lone
surrogates (the undecodable bytes of a file name that is not UTF-8: ``\\udce9``). The raw value stays
in `tracks.parquet`; only what is shown is changed.
"""

from __future__ import annotations

from typing import Any

import regex
from rich.console import Console
from rich.text import Text

_LINE_BREAKS = "\n\t"
_UNSAFE = regex.compile(r"[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]")
_UNSAFE_ON_ONE_LINE = regex.compile(r"[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069\u2028\u2029]")


def _visible(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, one_line: bool = False) -> str:
    """``text`` as a string whose control and bidi-override characters are shown as escapes;
    newlines and tabs are kept unless ``one_line`` (then they are escaped too, as are the
    Unicode line and paragraph separators)."""
    if one_line:
        return _UNSAFE_ON_ONE_LINE.sub(lambda match: _visible(match.group()), str(text))
    return _UNSAFE.sub(lambda match: match.group() if match.group() in _LINE_BREAKS else _visible(match.group()),
                       str(text))


def printable_tree(value: Any) -> Any:
    """Every string inside nested dicts, lists and tuples made `printable` (keys too)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_tree(key): printable_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(printable_tree(item) for item in value)
    return value


def styled(*parts: str | tuple[str, str]) -> Text:
    """A terminal line from plain parts and ``(text, style)`` pairs: songscape's own words may be
    styled, every part is printed as it is (no markup is read from it)."""
    text = Text()
    for part in parts:
        content, style = (part, "") if isinstance(part, str) else part
        text.append(printable(content), style=style)
    return text


class PlainConsole(Console):
    """A rich console that never reads markup, emoji codes or highlighting from what it prints,
    and prints every string `printable`. Styling is explicit: `styled` or ``style=``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: A003 (rich's name)
        super().print(*(printable(item) if isinstance(item, str) else item for item in objects), **kwargs)
