"""Results in the Music Player Daemon (MPD), where every MPD client sees them: one stored
playlist per cluster (`store_playlists`), and a mix queued (`queue_tracks`). Spoken through
python-mpd2.

MPD names songs by their path under its music directory, so a track is sent as its file's path
relative to that directory (asked of MPD, which tells local clients only, or given); a track
outside it, or one MPD's database does not hold yet, is reported and not sent. Playlists are
replaced on every call, and a playlist songscape stored for this run before and no longer makes
(a cluster that went away) is removed; the names stored are kept in the run's
``mpd-playlists.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from songscape.filenames import file_path
from songscape.library import LibraryError, SavedRun, cluster_playlists
from songscape.workspace import write_text

DEFAULT_ADDRESS = "localhost:6600"
STORED_FILE = "mpd-playlists.json"  # in the run folder: the playlist names songscape stored in MPD for it


@dataclass
class MpdResult:
    """What a call did: playlists stored (name, tracks), tracks not sent (and why), playlists
    removed, tracks queued."""

    stored: list[tuple[str, int]] = field(default_factory=list)
    not_sent: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    queued: int = 0


def mpd_address(given: str | None) -> str:
    """``given``, else MPD_HOST and MPD_PORT as every MPD client reads them, else `DEFAULT_ADDRESS`."""
    if given:
        return given
    host = os.environ.get("MPD_HOST")
    if host:
        return host if host.startswith("/") else f"{host}:{os.environ.get('MPD_PORT', '6600')}"
    return DEFAULT_ADDRESS


@contextmanager
def connected(address: str | None) -> Iterator[Any]:
    """A python-mpd2 client connected to ``address`` (HOST:PORT or a socket path); a
    `LibraryError` that says how when MPD cannot be reached."""
    try:
        from mpd import ConnectionError as MPDConnectionError
        from mpd import MPDClient
    except ImportError:
        raise LibraryError("MPD needs python-mpd2: pip install 'songscape[mpd]'") from None
    address = mpd_address(address)
    host, _, port = address.rpartition(":") if not address.startswith("/") else (address, "", "")
    client = MPDClient()
    client.timeout = 30
    try:
        client.connect(host or address, int(port) if port.isdigit() else None)
    except (OSError, MPDConnectionError, ValueError) as error:
        raise LibraryError(f"cannot reach MPD at {address}: {getattr(error, 'strerror', None) or error}; start "
                           "it, or give its address (--mpd-address HOST:PORT, or MPD_HOST and MPD_PORT)") from None
    try:
        yield client
    finally:
        client.close()
        client.disconnect()


def music_directory(client: Any, given: Path | None) -> Path:
    """MPD's music directory: ``given``, else asked of MPD (it tells local clients only)."""
    if given is not None:
        return Path(given).absolute()
    from mpd import CommandError

    try:
        directory = client.config()
    except CommandError:
        raise LibraryError("MPD tells its music directory only to local clients: give it with --music-dir") from None
    return Path(directory.get("music_directory", directory) if isinstance(directory, dict) else directory)


def known_songs(client: Any) -> set[str]:
    """The song names MPD's database holds."""
    return {entry["file"] for entry in client.listall() if "file" in entry}


def song_uris(known: set[str], tracks: pd.DataFrame, music_dir: Path) -> tuple[list[str], list[str]]:
    """The MPD song name of each track that MPD holds (``known``), in order, and one line for
    each track not sent (outside the music directory, or not in MPD's database)."""
    root = music_dir.resolve()
    uris, not_sent = [], []
    for track_id, stored in zip(tracks["track_id"].astype(str), tracks["path"].astype(str)):
        file = file_path(stored)
        try:
            uri = file.absolute().relative_to(music_dir).as_posix()
        except ValueError:
            try:
                uri = file.resolve().relative_to(root).as_posix()
            except ValueError:
                not_sent.append(f"{track_id}: outside MPD's music directory {music_dir}")
                continue
        if uri in known:
            uris.append(uri)
        else:
            not_sent.append(f"{track_id}: not in MPD's database (run `mpc update` when it is new)")
    return uris, not_sent


def store_playlists(run_dir: Path, address: str | None = None, music_dir: Path | None = None,
                    representation: str | None = None, algorithm: str | None = None) -> MpdResult:
    """Store one MPD playlist per cluster of the run (`cluster_playlists`, the names of the
    ``.m3u8`` files), replacing them, and remove those stored for this run before that it no
    longer makes."""
    run = SavedRun.open(run_dir)
    playlists = cluster_playlists(run, representation, algorithm)
    result = MpdResult()
    with connected(address) as client:
        root, known = music_directory(client, music_dir), known_songs(client)
        existing = {entry["playlist"] for entry in client.listplaylists()}
        for playlist in playlists:
            uris, not_sent = song_uris(known, playlist.tracks, root)
            result.not_sent += not_sent
            if playlist.name in existing:
                client.playlistclear(playlist.name)
            elif not uris:
                continue  # MPD stores no empty playlist; nothing to replace
            for uri in uris:
                client.playlistadd(playlist.name, uri)
            result.stored.append((playlist.name, len(uris)))
        made = {name for name, _ in result.stored}
        for name in _stored_names(run):
            if name not in made and name in existing:
                client.rm(name)
                result.removed.append(name)
    _remember(run, sorted(made))
    return result


def queue_tracks(run_dir: Path, track_ids: list[str], address: str | None = None,
                 music_dir: Path | None = None) -> MpdResult:
    """Add the run's tracks ``track_ids`` to the end of MPD's queue, in order."""
    run = SavedRun.open(run_dir)
    tracks = run.tracks.set_index("track_id", drop=False).loc[track_ids]
    result = MpdResult()
    with connected(address) as client:
        uris, result.not_sent = song_uris(known_songs(client), tracks, music_directory(client, music_dir))
        for uri in uris:
            client.add(uri)
        result.queued = len(uris)
    return result


def _stored_names(run: SavedRun) -> list[str]:
    """The playlist names stored in MPD for this run before (none when never, or unreadable)."""
    try:
        return list(json.loads((run.workspace.root / STORED_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return []


def _remember(run: SavedRun, names: list[str]) -> None:
    """Keep the playlist names stored in MPD for this run (`STORED_FILE`)."""
    write_text(run.workspace.root / STORED_FILE, json.dumps(names, ensure_ascii=False))
