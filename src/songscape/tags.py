"""The metadata a music file already carries: its tags (mutagen) and a lyrics file beside it.

Every format songscape decodes is read: ID3 (MP3, AIFF, WAV: ``TIT2``, ``TPE1``, ``TALB``,
``TPE2``, ``TCON``, ``TDRC``, ``TLAN``, lyrics in ``USLT``), MP4/M4A (``©nam``, ``©ART``,
``©alb``, ``aART``, ``©gen``, ``©day``, lyrics in ``©lyr``), Vorbis comments (FLAC, Ogg
Vorbis, Opus: ``title``, ``artist``, …, lyrics in ``LYRICS`` or ``UNSYNCEDLYRICS``) and ASF
(WMA). Lyrics files beside the audio are named by `LYRICS_SIDECARS` (their LRC timestamps
are removed with the rest of the debris by `songscape.text.normalize`). Nothing here raises
for a damaged file: the reason is returned.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TAG_COLUMNS = ("title", "artist", "album", "albumartist", "genre", "date", "language")
LYRICS_SIDECARS = (".lrc", ".txt")

_ID3 = {"TIT2": "title", "TPE1": "artist", "TALB": "album", "TPE2": "albumartist", "TCON": "genre",
        "TDRC": "date", "TLAN": "language"}
_MP4 = {"©nam": "title", "©ART": "artist", "©alb": "album", "aART": "albumartist", "©gen": "genre",
        "©day": "date"}
_ASF = {"Title": "title", "Author": "artist", "WM/AlbumTitle": "album", "WM/AlbumArtist": "albumartist",
        "WM/Genre": "genre", "WM/Year": "date", "WM/Language": "language"}
_VORBIS_LYRICS = ("lyrics", "unsyncedlyrics")


@dataclass
class FileTags:
    """What a file's tags say (``values`` by `TAG_COLUMNS` name, only those present), its
    embedded lyrics, its duration from the container, and why they could not be read."""

    values: dict[str, str] = field(default_factory=dict)
    lyrics: str = ""
    duration_s: float | None = None
    error: str = ""


def _text(value: Any) -> str:
    """One tag value as clean NFC text (lists joined with '; ')."""
    if isinstance(value, (list, tuple)):
        return "; ".join(filter(None, (_text(item) for item in value)))
    text = getattr(value, "text", value)  # ID3 frames keep their strings in .text
    if isinstance(text, (list, tuple)):
        return _text(text)
    return unicodedata.normalize("NFC", str(text)).strip().strip("\x00")


def _id3(tags: Any) -> tuple[dict[str, str], str]:
    values = {name: _text(tags[frame]) for frame, name in _ID3.items() if frame in tags}
    lyrics = next((_text(frame.text) for frame in tags.getall("USLT") if _text(frame.text)), "")
    return values, lyrics


def _vorbis(tags: Any) -> tuple[dict[str, str], str]:
    lowered = {key.lower(): value for key, value in tags.items()}
    values = {name: _text(lowered[name]) for name in TAG_COLUMNS if name in lowered}
    lyrics = next((_text(lowered[key]) for key in _VORBIS_LYRICS if key in lowered), "")
    return values, lyrics


def _mapped(tags: Any, names: dict[str, str], lyrics_key: str) -> tuple[dict[str, str], str]:
    values = {name: _text(tags[key]) for key, name in names.items() if key in tags}
    return values, _text(tags[lyrics_key]) if lyrics_key in tags else ""


def read_file_tags(path: Path) -> FileTags:
    """The tags, embedded lyrics and duration of an audio file; an unreadable or untagged
    file gives empty values (and the reason when it could not be parsed)."""
    import mutagen
    from mutagen.asf import ASFTags
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4Tags

    try:
        audio = mutagen.File(str(path))
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as error:
        return FileTags(error=f"tags unreadable: {error}")
    if audio is None:
        return FileTags()
    duration = getattr(audio.info, "length", None) or None
    tags = audio.tags
    if tags is None:
        values, lyrics = {}, ""
    elif isinstance(tags, ID3):
        values, lyrics = _id3(tags)
    elif isinstance(tags, MP4Tags):
        values, lyrics = _mapped(tags, _MP4, "©lyr")
    elif isinstance(tags, ASFTags):
        values, lyrics = _mapped(tags, _ASF, "WM/Lyrics")
    else:
        values, lyrics = _vorbis(tags)
    return FileTags({name: value for name, value in values.items() if value}, lyrics, duration)

