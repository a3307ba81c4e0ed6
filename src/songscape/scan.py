"""Finding the audio files of a library folder, as a library tool does.

The folder is walked recursively and symbolic links are followed wherever they point (a
library spread over several disks), each directory once, so a link loop ends; a track keeps
the path the user sees (under the folder), not its target's. Entries that look like audio but
cannot be used (a broken link, a folder named ``x.mp3``, a FIFO, a device such as a link to
``/dev/zero``, a file larger than `MAX_AUDIO_BYTES`) are reported with their reason: only
regular files are ever opened, so no special file can hang a run or fill the memory.
``exclude`` globs (matched against the path under the folder, from the right: ``*.wav``,
``Podcasts``, ``mixes/*``) leave files and whole folders out.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aiff", ".aif", ".wma"}
)

MAX_AUDIO_BYTES = 4 << 30  # 4 GiB: longer than any album as lossless audio; a larger file is refused
_SPECIAL_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                  (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                  (stat.S_ISSOCK, "a socket"))


def unusable_file(path: Path, max_bytes: int = MAX_AUDIO_BYTES) -> str:
    """Why ``path`` (links followed) must not be opened as a file: missing, not a regular file
    (a FIFO would block a reader, a device such as ``/dev/zero`` never ends) or larger than
    ``max_bytes``; "" when it may be read."""
    try:
        info = os.stat(path)
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _SPECIAL_KINDS if test(info.st_mode)), "a special file")
        return f"not a regular file ({kind}), not read"
    if info.st_size > max_bytes:
        return f"larger than {max_bytes >> 20} MiB ({info.st_size >> 20} MiB), not read"
    return ""


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
            elif reason := unusable_file(path):
                problems.append(f"{relative}: {reason}")
            else:
                found.append(path)
    return Scan(sorted(found, key=lambda p: p.relative_to(root).as_posix()), problems, excluded)
