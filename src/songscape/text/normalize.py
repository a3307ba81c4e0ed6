"""Text normalisation for lyrics in any script.

- NFC, so that a vowel sign typed as two code points matches its precomposed form.
- Invisible characters with no meaning are removed (zero-width space, BOM, word joiner, soft
  hyphen), as are control characters (NUL, BEL, ESC, DEL, C1; tabs and line breaks stay
  whitespace) and the bidirectional embedding, override and isolate characters (U+202A–U+202E,
  U+2066–U+2069). ZWNJ and ZWJ are kept between Bengali characters, where they choose between a
  conjunct and a visible virama (ক্ষ / ক্‌ষ) or form a ya-phala after reph (র‍্য); elsewhere
  they are removed.
- Scraped-page debris is removed: a "<title> Lyrics" header on the first line, "…Embed"
  trailers, "You might also like", section markers ([Chorus], [Verse 1: X]), LRC timestamps
  and tags, URLs.
- Optionally, repeated lines (choruses) are kept once, so they do not dominate TF-IDF.
"""

from __future__ import annotations

import unicodedata

import regex

_INVISIBLE = regex.compile(r"[\u200B\u2060\uFEFF\u00AD]")
_CONTROL = regex.compile(r"[[\p{Cc}\u202A-\u202E\u2066-\u2069]--[\t\n\r\x0b\x0c\x1c-\x1e\x85]]", regex.V1)
_JOINER_OUTSIDE_BENGALI = regex.compile(r"(?<!\p{Bengali})[\u200C\u200D]|[\u200C\u200D](?!\p{Bengali})")
_PAGE_HEADER = regex.compile(r"\A[^\n\[]{0,200}?\bLyrics(?=\[|[ \t]*\n|[ \t]*\Z)")
_EMBED_TRAILER = regex.compile(r"\d*\s*Embed\s*\Z")
_PAGE_NOISE = regex.compile(r"You might also like")
_LRC = regex.compile(r"\[\d{1,3}:\d{2}(?:[.:]\d{1,3})?\]|^\[[a-z]{2,8}:[^\]\n]*\][ \t]*$", regex.MULTILINE)
_SECTION_MARKER = regex.compile(r"\[[^\]\n]{1,60}\]")
_URL = regex.compile(r"(?:https?://|www\.)\S+")
_SPACES = regex.compile(r"[^\S\n]+")


def normalize_lyrics(text: str, collapse_repeats: bool = False) -> str:
    """Clean lyrics for analysis (see the module docstring); lines are trimmed, empty lines
    dropped. With ``collapse_repeats`` a line seen before (ignoring case) is dropped."""
    text = unicodedata.normalize("NFC", text or "")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = _JOINER_OUTSIDE_BENGALI.sub("", text)
    text = _PAGE_HEADER.sub("", text)
    text = _EMBED_TRAILER.sub("", text)
    text = _PAGE_NOISE.sub("\n", text)
    text = _LRC.sub("", text)
    text = _SECTION_MARKER.sub("\n", text)
    text = _URL.sub("", text)
    lines, seen = [], set()
    for line in text.splitlines():
        line = _SPACES.sub(" ", line).strip()
        if not line or (collapse_repeats and line.casefold() in seen):
            continue
        seen.add(line.casefold())
        lines.append(line)
    return "\n".join(lines)
