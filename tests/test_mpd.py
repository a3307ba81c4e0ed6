"""Playlists and mixes in a real Music Player Daemon (Debian's `mpd`, started here with a
temporary config and music folder of generated tracks), read back over its protocol: one stored
playlist per cluster with the `.m3u8` files' names and tracks, replaced on a rerun, stale ones
removed, a track MPD does not know reported and not sent, a mix queued in order."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from songscape.cli import app
from tests.conftest import PCA_RUN_CONFIG, write_tone

runner = CliRunner()
MPD = shutil.which("mpd") or "/usr/bin/mpd"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def mpd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A running MPD on loopback whose database holds eight generated tracks: its address and
    its music folder."""
    if not Path(MPD).exists():
        pytest.fail(f"{MPD} is missing: install Debian's mpd (apt-get install mpd), as .ci/system-deps does")
    from mpd import MPDClient

    root = tmp_path_factory.mktemp("mpd")
    music = root / "music"
    (music / "side").mkdir(parents=True)
    for index in range(8):
        folder = music / "side" if index % 2 else music
        write_tone(folder / f"t{index}.flac", 200.0 + 90 * index, 2.0)
    (root / "playlists").mkdir()
    port = _free_port()
    (root / "mpd.conf").write_text(f'''music_directory "{music}"
playlist_directory "{root / 'playlists'}"
db_file "{root / 'database'}"
log_file "{root / 'log'}"
bind_to_address "127.0.0.1"
port "{port}"
auto_update "no"
audio_output {{
    type "null"
    name "silence"
}}
''', encoding="utf-8")
    daemon = subprocess.Popen([MPD, "--no-daemon", str(root / "mpd.conf")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    client = MPDClient()
    try:
        for _ in range(100):
            try:
                client.connect("127.0.0.1", port)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"mpd did not start: {daemon.stderr.read(2000) if daemon.poll() else ''}")
        client.update()
        while "updating_db" in client.status():
            time.sleep(0.1)
        assert len([entry for entry in client.listall() if "file" in entry]) == 8
        client.disconnect()
        yield f"127.0.0.1:{port}", music
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


@pytest.fixture(scope="module")
def run_dir(mpd_server: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run on the MPD folder plus one track MPD's database does not hold (added after its update)."""
    _, music = mpd_server
    write_tone(music / "late.flac", 999.0, 2.0)
    scratch = tmp_path_factory.mktemp("mpd-run")
    (scratch / "run.yaml").write_text(PCA_RUN_CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(music), "--config", str(scratch / "run.yaml"), "--k", "2",
                                 "--workspace", str(scratch / "run")])
    assert result.exit_code == 0, result.output
    return scratch / "run"


def _client(address: str):
    from mpd import MPDClient

    client = MPDClient()
    host, port = address.split(":")
    client.connect(host, int(port))
    return client


def _m3u8_tracks(folder: Path, music: Path) -> dict[str, list[str]]:
    """Each written playlist's tracks as MPD names them (paths under the music folder)."""
    return {path.stem: [(folder / line).resolve().relative_to(music.resolve()).as_posix()
                        for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
            for path in folder.glob("*.m3u8")}


def test_playlists_are_stored_in_mpd_as_the_files_name_them(mpd_server, run_dir: Path, tmp_path: Path) -> None:
    address, music = mpd_server
    arguments = ["playlists", str(run_dir), "--out", str(tmp_path / "lists"), "--mpd", "--mpd-address", address,
                 "--music-dir", str(music)]
    for attempt in range(2):  # a rerun replaces the playlists, it does not append to them
        result = runner.invoke(app, arguments)
        assert result.exit_code == 0 and "late: not in MPD's database" in result.output, result.output
        expected = {name: [uri for uri in uris if uri != "late.flac"]
                    for name, uris in _m3u8_tracks(tmp_path / "lists", music).items()}
        client = _client(address)
        stored = {entry["playlist"]: client.listplaylist(entry["playlist"]) for entry in client.listplaylists()}
        client.disconnect()
        assert stored == {name: uris for name, uris in expected.items() if uris}, attempt
        assert sum(len(uris) for uris in stored.values()) == 8


def test_a_playlist_of_a_cluster_that_went_away_is_removed(mpd_server, run_dir: Path) -> None:
    address, music = mpd_server
    client = _client(address)
    client.playlistadd("cluster-9-gone", "t0.flac")
    client.disconnect()
    (run_dir / "mpd-playlists.json").write_text(json.dumps(["cluster-9-gone"]), encoding="utf-8")
    result = runner.invoke(app, ["playlists", str(run_dir), "--mpd", "--mpd-address", address, "--music-dir", str(music)])
    assert result.exit_code == 0 and "MPD playlist cluster-9-gone removed" in result.output, result.output
    client = _client(address)
    assert "cluster-9-gone" not in {entry["playlist"] for entry in client.listplaylists()}
    client.disconnect()


def test_a_mix_is_queued_in_order(mpd_server, run_dir: Path, tmp_path: Path) -> None:
    address, music = mpd_server
    client = _client(address)
    client.clear()
    client.disconnect()
    result = runner.invoke(app, ["mix", str(run_dir), "t0", "-n", "5", "--mpd", "--mpd-address", address,
                                 "--music-dir", str(music), "--out", str(tmp_path / "mix.m3u8")])
    assert result.exit_code == 0, result.output
    listed = [line.split()[1] for line in result.output.splitlines()[1:6]]
    client = _client(address)
    queued = [entry["file"] for entry in client.playlistinfo()]
    client.disconnect()
    assert queued == [f"{track_id}.flac" for track_id in listed if track_id != "late"]  # ids are paths under it
    assert listed[0] == "t0" and len(queued) >= 4
    written = [line for line in (tmp_path / "mix.m3u8").read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#")]
    assert [(tmp_path / line).resolve() for line in written] == [(music / f"{t}.flac").resolve() for t in listed]


def test_update_with_mpd_stores_the_playlists_again(mpd_server, run_dir: Path) -> None:
    address, music = mpd_server
    client = _client(address)
    for entry in client.listplaylists():
        client.rm(entry["playlist"])
    client.disconnect()
    result = runner.invoke(app, ["update", str(run_dir), "--mpd", "--mpd-address", address, "--music-dir", str(music)])
    assert result.exit_code == 0 and "MPD playlist cluster-" in result.output, result.output
    client = _client(address)
    stored = [song for entry in client.listplaylists() for song in client.listplaylist(entry["playlist"])]
    client.disconnect()
    assert sorted(stored) == sorted(f"{'side/' if i % 2 else ''}t{i}.flac" for i in range(8))


def test_mpd_errors_are_one_line(mpd_server, run_dir: Path) -> None:
    address, _ = mpd_server
    for arguments, said in (
            (["playlists", str(run_dir), "--mpd", "--mpd-address", address], "give it with --music-dir"),
            (["playlists", str(run_dir), "--mpd", "--mpd-address", f"127.0.0.1:{_free_port()}"], "cannot reach MPD"),
            (["playlists", str(run_dir)], "give --out FOLDER")):
        result = runner.invoke(app, arguments)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 2 and lines[-1].startswith("error: ") and said in lines[-1], result.output
