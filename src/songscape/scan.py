"""Finding the audio files of a library folder, as a library tool does.

The folder is walked recursively and symbolic links are followed wherever they point (a
library spread over several disks), each directory once, so a link loop ends; a track keeps
the path the user sees (under the folder), not its target's. Entries that look like audio but
cannot be used (a broken link, a folder named ``x.mp3``) are reported with their reason.
``exclude`` globs (matched against the path under the folder, from the right: ``*.wav``,
``Podcasts``, ``mixes/*``) leave files and whole folders out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aiff", ".aif", ".wma"}
)


@dataclass
class Scan:
    """Audio files under a folder (sorted by path under it), the entries that could not be
    used with their reasons, and how many files the exclude globs left out."""

    files: list[Path]
    problems: list[str] = field(default_factory=list)
    excluded: int = 0


def _excluded(relative: str, patterns: tuple[str, ...]) -> bool:
    path = PurePosixPath(relative)
    return any(path.match(pattern) for pattern in patterns)


def scan_audio(directory: Path, exclude: tuple[str, ...] = ()) -> Scan:
    """Every audio file under ``directory``, following symbolic links."""
    root = Path(directory).absolute()
    found: list[Path] = []
    problems: list[str] = []
    excluded = 0
    seen: set[str] = set()
    for current, folders, names in os.walk(root, followlinks=True, onerror=lambda error: problems.append(
            f"{error.filename}: cannot be read ({error.strerror})")):
        real = os.path.realpath(current)
        if real in seen:  # a link back to a folder already walked
            folders[:] = []
            continue
        seen.add(real)
        here = Path(current)
        kept = []
        for name in sorted(folders):
            relative = (here / name).relative_to(root).as_posix()
            if _excluded(relative, exclude):
                excluded += 1
            elif Path(name).suffix.lower() in AUDIO_EXTENSIONS and not (here / name).is_symlink():
                problems.append(f"{relative}: a folder, not an audio file (its contents are scanned)")
                kept.append(name)
            else:
                kept.append(name)
        folders[:] = kept
        for name in names:
            path = here / name
            if path.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            relative = path.relative_to(root).as_posix()
            if _excluded(relative, exclude):
                excluded += 1
            elif path.is_symlink() and not path.exists():
                problems.append(f"{relative}: broken link (→ {os.readlink(path)})")
            else:
                found.append(path)
    return Scan(sorted(found, key=lambda p: p.relative_to(root).as_posix()), problems, excluded)
