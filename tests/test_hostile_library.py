"""Whatever a library folder holds, every command ends: special files are skipped by name, files
with the same stem are two tracks, a name that is not UTF-8 or holds a line break is analysed,
listed and served, a run remembers absolute paths, a seed other than 0 gets its map, and bad
input (damaged run files, files where folders belong, config values) is one line, not a
traceback. Each case goes through the command a user types."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from songscape.cli import app
from tests.conftest import PCA_RUN_CONFIG, write_tone

runner = CliRunner()
CONFIG = PCA_RUN_CONFIG.replace("seeds: [0]", "seeds: [42]")  # no seed 0: the map must take the run's own
NOT_UTF8 = os.fsdecode(b"caf\xe9.wav")  # a Latin-1 name from an old disk
LINE_BREAK = "two\nlines.wav"
FOLK = "লোকগীতি"
LONG_GENRE = FOLK + " " + "ভাটিয়ালি" * 40  # about 1 000 bytes of UTF-8


def _one_line_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) >= 1 and lines[-1].startswith("error: "), output
    return lines[-1]


def _write_music(folder: Path) -> None:
    folder.mkdir()
    for index, name in enumerate(["a.wav", "b.wav", "c.wav", "d.wav", "song.ogg", "song.flac", NOT_UTF8, LINE_BREAK]):
        written = write_tone(folder / f"tone{index}{Path(name).suffix}", 220.0 * (1 + index % 4) + 7 * index, 2.0)
        written.rename(folder / name)  # libsndfile cannot write to a name that is not UTF-8
    os.mkfifo(folder / "pipe.ogg")
    os.symlink("/dev/zero", folder / "zero.ogg")
    (folder.parent / "secret.txt").write_text("secret", encoding="utf-8")
    os.symlink(folder.parent / "secret.txt", folder / "evil.ogg")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A run made with relative paths (from its parent folder) on a folder of hostile names; the
    run's folder and the finished command (in a child process, so that a hang is a timeout)."""
    root = tmp_path_factory.mktemp("hostile")
    _write_music(root / "music")
    rows = [("a.wav", "river home", FOLK), ("b.wav", "river night", FOLK), ("c.wav", "city lights", LONG_GENRE),
            ("d.wav", "city rain", LONG_GENRE)]
    pd.DataFrame(rows, columns=["file", "lyrics", "genre"]).to_csv(root / "lyrics.csv", index=False)
    (root / "run.yaml").write_text(CONFIG, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "songscape", "run", "--audio", "music", "--table", "lyrics.csv",
                           "--config", "run.yaml", "--k", "2", "--labels", "genre", "--workspace", "run"],
                          cwd=root, capture_output=True, text=True, timeout=300, errors="replace")
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "run", done


def test_special_files_are_skipped_by_name_and_never_opened(hostile) -> None:
    run_dir, done = hostile
    assert "pipe.ogg: not a regular file (a FIFO)" in done.stdout
    assert "zero.ogg: not a regular file (a character device)" in done.stdout
    tracks = pd.read_parquet(run_dir / "tracks.parquet")
    assert "pipe" not in set(tracks["track_id"]) and "zero" not in set(tracks["track_id"])


def test_the_run_stores_absolute_paths(hostile) -> None:
    run_dir, _ = hostile
    record = pd.read_json(run_dir / "run.json", typ="series")
    assert record["audio_dir"] == str(run_dir.parent / "music")
    assert record["table"] == str(run_dir.parent / "lyrics.csv")


def test_files_with_the_same_stem_are_two_tracks_and_everything_draws(hostile, tmp_path: Path) -> None:
    run_dir, _ = hostile
    ids = list(pd.read_parquet(run_dir / "tracks.parquet")["track_id"])
    assert "song.ogg" in ids and "song.flac" in ids and len(ids) == len(set(ids))
    assert (run_dir / "report" / "map.html").is_file()  # seed 42, no seed 0
    assert runner.invoke(app, ["report", str(run_dir)]).exit_code == 0
    assert runner.invoke(app, ["playlists", str(run_dir), "--out", str(tmp_path / "lists")]).exit_code == 0
    similar = runner.invoke(app, ["similar", str(run_dir), "song.ogg", "-k", "2"])
    assert similar.exit_code == 0 and "song.ogg" not in similar.output.split("similarity")[1], similar.output


def test_names_that_are_not_utf8_or_hold_a_line_break_are_analysed_and_listed(hostile, tmp_path: Path) -> None:
    run_dir, _ = hostile
    tracks = pd.read_parquet(run_dir / "tracks.parquet").set_index("track_id")
    assert tracks.loc["caf\\udce9", "status"] == "ok" and tracks.loc["two\nlines", "status"] == "ok"
    out = tmp_path / "lists"
    assert runner.invoke(app, ["playlists", str(run_dir), "--out", str(out)]).exit_code == 0
    entries = [line for playlist in out.glob("*.m3u8") for line in playlist.read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#")]
    assert len(entries) == len(tracks[tracks["status"] == "ok"])
    files = {Path(os.fsdecode(unquote_to_bytes(e.removeprefix("file://")))) if e.startswith("file://") else out / e
             for e in entries}
    assert all(file.is_file() for file in files)  # each line is one whole, existing file
    assert run_dir.parent / "music" / NOT_UTF8 in files and run_dir.parent / "music" / LINE_BREAK in files
    assigned = runner.invoke(app, ["assign", str(run_dir), str(run_dir.parent / "music" / NOT_UTF8)])
    assert assigned.exit_code == 0 and "ok" in assigned.output, assigned.output


def test_playlist_names_keep_vowel_signs_and_fit_a_file_system(hostile, tmp_path: Path) -> None:
    run_dir, _ = hostile
    out = tmp_path / "lists"
    assert runner.invoke(app, ["playlists", str(run_dir), "--out", str(out)]).exit_code == 0
    names = [path.name for path in out.glob("*.m3u8")]
    assert any(FOLK in name for name in names), names  # not "ল-কগ-ত"
    assert all(len(name.encode("utf-8")) <= 255 for name in names)


def test_the_server_sends_decoded_tracks_only_by_their_real_names(hostile) -> None:
    import http.client
    from urllib.parse import quote, urlparse

    from songscape.report.server import start_map_server

    run_dir, _ = hostile
    server, address = start_map_server(run_dir, port=0)
    url = urlparse(address)

    def status(path: str) -> tuple[int, str]:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        connection.request("GET", path, headers={"Host": f"{url.hostname}:{url.port}"})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status, response.getheader("Content-Type")

    try:
        music = run_dir.parent / "music"
        assert status(quote(os.fsencode(music / NOT_UTF8))) == (200, "audio/x-wav")
        assert status(quote(str(music / "evil.ogg")))[0] == 404  # skipped as undecodable: not served
        assert status(quote(str(run_dir.parent / "secret.txt")))[0] == 404
    finally:
        server.shutdown()


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    """A finished run on six tones with a lyrics table, made from its parent folder with
    relative paths."""
    music = tmp_path / "music"
    music.mkdir()
    for index in range(6):
        write_tone(music / f"t{index}.ogg", 200.0 + 90 * index, 2.0)
    pd.DataFrame({"file": [f"t{i}.ogg" for i in range(7)], "lyrics": [f"words of song {i}" for i in range(7)]}).to_csv(
        tmp_path / "lyrics.csv", index=False)
    (tmp_path / "run.yaml").write_text(CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        result = runner.invoke(app, ["run", "--audio", "music", "--table", "lyrics.csv", "--config", "run.yaml",
                                     "--k", "2", "--workspace", "run"])
    assert result.exit_code == 0, result.output
    return tmp_path / "run"


def test_update_from_another_directory_keeps_folder_and_table(small_run: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    write_tone(small_run.parent / "music" / "t6.ogg", 777.0, 2.0)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "music").mkdir(parents=True)  # another folder of the same relative name
    write_tone(elsewhere / "music" / "x.ogg", 500.0, 2.0)
    monkeypatch.chdir(elsewhere)
    result = runner.invoke(app, ["update", str(small_run)])
    assert result.exit_code == 0 and "1 added, 0 changed, 0 deleted" in result.output, result.output
    tracks = pd.read_parquet(small_run / "tracks.parquet").set_index("track_id")
    assert tracks.loc["t6", "lyrics"] == "words of song 6"  # the relative table was not dropped


def test_a_file_beside_one_of_the_same_stem_is_taken_in(small_run: Path) -> None:
    shutil.copy(small_run.parent / "music" / "t0.ogg", small_run.parent / "music" / "t0.flac")
    result = runner.invoke(app, ["update", str(small_run)])
    assert result.exit_code == 0 and "1 added" in result.output and "moved: t0 → t0.ogg" in result.output, result.output
    again = runner.invoke(app, ["update", str(small_run)])
    assert again.exit_code == 0 and "nothing to do" in again.output, again.output


def test_an_update_down_to_one_track_is_refused_and_the_run_still_draws(small_run: Path, tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(small_run.parent / "music" / "t0.ogg", one)
    before = (small_run / "tracks.parquet").read_bytes()
    result = runner.invoke(app, ["update", str(small_run), str(one), "--replace", "--allow-deletes"])
    assert result.exit_code == 2 and "only 1 tracks could be analysed" in _one_line_error(result.output)
    assert (small_run / "tracks.parquet").read_bytes() == before
    assert runner.invoke(app, ["report", str(small_run)]).exit_code == 0


def test_a_full_disk_during_update_is_one_line_and_a_rerun_recovers(small_run: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    write_tone(small_run.parent / "music" / "t6.ogg", 777.0, 2.0)
    real = pd.DataFrame.to_parquet

    def full(self: pd.DataFrame, path: object, *args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    result = runner.invoke(app, ["update", str(small_run)])
    assert result.exit_code == 2 and "No space left on device" in _one_line_error(result.output)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    result = runner.invoke(app, ["update", str(small_run)])
    assert result.exit_code == 0 and "1 added" in result.output, result.output
    assert "t6" in set(pd.read_parquet(small_run / "tracks.parquet")["track_id"])


@pytest.mark.parametrize("damage", ["tracks.parquet", "embeddings/pca__seed42.npz", "run.json"])
def test_damaged_run_files_are_one_line_naming_the_file(small_run: Path, damage: str) -> None:
    target = small_run / damage
    target.write_bytes(b"{" if damage.endswith(".json") else target.read_bytes()[:40])
    for command in (["report"], ["map"], ["similar", "-k", "2"], ["playlists", "--out", str(small_run / "p")]):
        arguments = [command[0], str(small_run), *(["t0"] if command[0] == "similar" else []), *command[1:]]
        result = runner.invoke(app, arguments)
        line = _one_line_error(result.output)
        assert result.exit_code == 2 and str(target) in line and "songscape run" in line, (command, result.output)


def test_files_where_folders_belong_are_one_line(small_run: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    for arguments in (["playlists", str(small_run), "--out", str(a_file)],
                      ["update", str(small_run), "--playlists", str(a_file)],
                      ["run", "--audio", str(small_run.parent / "music"), "--workspace", str(a_file / "run")],
                      ["run", "--audio", str(small_run.parent / "music"), "--workspace", str(a_file)]):
        result = runner.invoke(app, arguments)
        assert result.exit_code == 2 and str(a_file) in _one_line_error(result.output), (arguments, result.output)
    assert a_file.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize(("line", "said"), [
    ("seeds: [-1]", "seeds.0"), ("seeds: [100000000000000000000]", "seeds.0"),
    ("representations: [{name: v, kind: vae, params: {latent_dim: -1}}]", "params.latent_dim"),
    ("representations: [{name: v, kind: vae, params: {latnet_dim: 4}}]", "did you mean 'latent_dim'"),
    ("clusterers: []", "clusterers"), ("representations: []", "representations"),
    ("representations: [{name: m, kind: raw, input: musicnn}]", "audio.network: MTT_musicnn"),
    ("clusterers: [{name: dbscan, params: {eps: -1}}]", "params.eps"),
])
def test_bad_config_values_are_one_line_naming_the_key(tmp_path: Path, line: str, said: str) -> None:
    write_tone(tmp_path / "t.wav")
    (tmp_path / "c.yaml").write_text(f"preset: easy\n{line}\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(tmp_path), "--config", str(tmp_path / "c.yaml"),
                                 "--workspace", str(tmp_path / "run")])
    assert result.exit_code == 2 and said in _one_line_error(result.output), result.output
    assert not (tmp_path / "run").exists()


def test_cuda_on_a_machine_without_one_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine without one, wherever this runs
    write_tone(tmp_path / "t.wav")
    (tmp_path / "c.yaml").write_text("preset: easy\ndevice: cuda\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(tmp_path), "--config", str(tmp_path / "c.yaml")])
    assert result.exit_code == 2 and "device: 'cuda'" in _one_line_error(result.output)


def test_tables_without_rows_and_too_few_tracks_make_no_run_folder(tmp_path: Path) -> None:
    (tmp_path / "header.csv").write_text("track_id,lyrics\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--table", str(tmp_path / "header.csv"), "--workspace", str(tmp_path / "r1")])
    assert result.exit_code == 2 and "no rows" in _one_line_error(result.output)
    (tmp_path / "four").mkdir()
    for index in range(4):
        write_tone(tmp_path / "four" / f"t{index}.wav", 200.0 + 50 * index)
    result = runner.invoke(app, ["run", "--audio", str(tmp_path / "four"), "--k", "5", "--workspace", str(tmp_path / "r2")])
    assert result.exit_code == 2 and "fewer than k = 5" in _one_line_error(result.output)
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()


def test_identical_lyrics_are_said_once_not_per_k_and_seed(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    for index in range(6):
        write_tone(tmp_path / "music" / f"t{index}.wav", 200.0 + 70 * index)
    pd.DataFrame({"file": [f"t{i}.wav" for i in range(6)], "lyrics": ["the same words again"] * 6}).to_csv(
        tmp_path / "same.csv", index=False)
    (tmp_path / "c.yaml").write_text("preset: easy\nseeds: [0, 1, 2]\nmap_methods: [tsne]\n"
                                     "representations: [{name: lyrics, kind: raw, input: lyrics}]\n"
                                     "lyrics: {method: tfidf, n_components: 4, min_df: 1}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "songscape", "run", "--audio", "music", "--table", "same.csv",
                           "--config", "c.yaml", "--workspace", "run"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert "Warning" not in output and output.count("fewer distinct points than clusters") == 1, output


def test_results_md_shows_html_as_text_and_a_map_says_what_it_could_not_embed(
        small_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(small_run.parent)
    result = runner.invoke(app, ["run", "--audio", "music", "--config", "run.yaml", "--k", "2",
                                 "--name", "<b>bold</b>", "--workspace", "named"])
    assert result.exit_code == 0, result.output
    markdown = (small_run.parent / "named" / "report" / "results.md").read_text(encoding="utf-8")
    assert "<b>" not in markdown and "&lt;b&gt;bold&lt;/b&gt;" in markdown
    shutil.rmtree(small_run.parent / "music")
    result = runner.invoke(app, ["map", str(small_run), "--embed-audio"])
    assert result.exit_code == 0 and "6 of 6 tracks' audio could not be embedded" in result.output, result.output


def test_a_file_of_constant_samples_has_no_tempo(tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    sf.write(music / "dc.ogg", np.full(22050 * 20, 0.3, np.float32), 22050)  # Vorbis adds faint periodic noise
    for index in range(3):
        write_tone(music / f"t{index}.ogg", 200.0 + 70 * index, 3.0)
    (tmp_path / "c.yaml").write_text(CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(music), "--config", str(tmp_path / "c.yaml"), "--k", "2",
                                 "--workspace", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    tracks = pd.read_parquet(tmp_path / "run" / "tracks.parquet").set_index("track_id")
    assert np.isnan(tracks.loc["dc", "tempo_bpm"])


def _sigint_blocked() -> bool:
    import signal

    return signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_ctrl_c_is_held_while_workers_fork_and_let_through_in_them() -> None:
    """A Ctrl-C that lands inside fork's own handlers is lost ("Exception ignored in
    _releaseLock"); held during the forks, it is raised when they are done."""
    from songscape.runners import local_runner

    seen_in_parent: list[bool] = []
    os.register_at_fork(after_in_parent=lambda: seen_in_parent.append(_sigint_blocked()))
    in_workers = list(local_runner(2)(_blocked_in_worker, list(range(8)), lambda reason: None))
    assert seen_in_parent and all(seen_in_parent)
    assert in_workers == [False] * 8 and not _sigint_blocked()


def _blocked_in_worker(_: int) -> bool:
    return _sigint_blocked()
