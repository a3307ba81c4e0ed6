"""Text normalisation for lyrics in any script."""

from __future__ import annotations

import unicodedata

import regex

# Zero-width and format characters that carry no meaning in lyrics. ZWJ (U+200D) and ZWNJ
# (U+200C) are kept: in Bengali they choose between a conjunct and a visible virama form.
_INVISIBLE = regex.compile(r"[\u200B\u2060\uFEFF\u00AD]")
_SPACES = regex.compile(r"[^\S\n]+")


def normalize_lyrics(text: str) -> str:
    """NFC, invisible characters removed, runs of spaces collapsed, lines trimmed."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
