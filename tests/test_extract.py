from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from songscape.audio.decode import ExcerptSpec
from songscape.audio.extract import cached_audio_features, extract_collection
from songscape.audio.plan import AudioPlan
from songscape.audio.features import SpectralSettings
from songscape.audio.track import extract_track
from songscape.config import AudioConfig
from songscape.workspace import Workspace, file_sha1
from tests.audio_fixtures import tone, write_unknown_codec_wav

SETTINGS = SpectralSettings()


def _good(directory: Path, count: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = directory / f"good{index}.wav"
        sf.write(path, tone(2.0, 22050, freq=200.0 * (index + 1)), 22050)
        paths.append(path)
    return paths


def _bad(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "empty.flac").write_bytes(b"")
    (directory / "text.mp3").write_text("hello")
    sf.write(directory / "silent.wav", np.zeros(44100, np.float32), 22050)
    sf.write(directory / "blip.wav", np.full(20, 0.5, np.float32), 22050)
    write_unknown_codec_wav(directory / "codec.wav")
    return {p.stem: p for p in sorted(directory.iterdir())}


def test_each_bad_kind_is_skipped_with_its_reason(tmp_path: Path) -> None:
    bad = _bad(tmp_path / "bad")
    good = _good(tmp_path / "good", 2)
    paths = [str(good[0]), *map(str, bad.values()), str(good[1])]
    features = extract_collection(paths, SETTINGS, ExcerptSpec(seconds=None), workers=2)
    errors = dict(zip([Path(p).stem for p in paths], features.errors))
    assert errors["good0"] == errors["good1"] == ""
    assert errors["empty"] == "empty file (0 bytes)"
    assert errors["text"].startswith("cannot decode")
    assert errors["silent"].startswith("silent")
    assert errors["blip"].startswith("too short")
    assert errors["codec"].startswith("cannot decode: unsupported codec")
    assert list(features.ok) == [True, False, False, False, False, False, True]
    assert np.isnan(features.stats[1:6]).all() and np.isfinite(features.stats[[0, 6]]).all()


def test_pool_and_single_process_agree_in_row_order(tmp_path: Path) -> None:
    paths = [str(p) for p in _good(tmp_path, 9)]
    pooled = extract_collection(paths, SETTINGS, workers=2)
    single = extract_collection(paths, SETTINGS, workers=1)
    assert np.array_equal(pooled.stats, single.stats) and np.array_equal(pooled.mel, single.mel)
    assert pooled.padded.all()  # 2-s tones, 30-s excerpt


def test_memmaps_hold_the_same_features(tmp_path: Path) -> None:
    paths = [str(p) for p in _good(tmp_path / "audio", 3)]
    in_memory = extract_collection(paths, SETTINGS, workers=1)
    on_disk = extract_collection(paths, SETTINGS, workers=1, out_dir=tmp_path / "out")
    stored = np.load(tmp_path / "out" / "stats.npy", mmap_mode="r")
    assert isinstance(stored, np.memmap) and np.array_equal(stored, in_memory.stats)
    assert np.array_equal(np.load(tmp_path / "out" / "mel.npy"), in_memory.mel)
    assert np.array_equal(on_disk.stats, in_memory.stats)


def _tracks(paths: list[Path]) -> pd.DataFrame:
    return pd.DataFrame({"track_id": [p.stem for p in paths], "path": [str(p) for p in paths],
                         "sha1": [file_sha1(p) for p in paths]})


def test_resume_after_interruption_recomputes_nothing_done(tmp_path: Path) -> None:
    paths = _good(tmp_path / "audio", 6)
    workspace = Workspace(tmp_path / "run")
    config = AudioConfig(workers=1)
    logs: list[str] = []
    # an "interrupted" run: only the first four tracks got done before it stopped
    cached_audio_features(workspace, _tracks(paths[:4]), AudioPlan.from_config(config), logs.append)
    cache_files = sorted((workspace.root / "features" / "tracks").rglob("*.npz"))
    stamps = {p: p.stat().st_mtime_ns for p in cache_files}
    assert len(cache_files) == 4

    resumed, _ = cached_audio_features(workspace, _tracks(paths), AudioPlan.from_config(config), logs.append)
    assert "2 tracks extracted, 4 from the per-track cache" in logs[-1]
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in stamps.items())
    fresh, _ = cached_audio_features(Workspace(tmp_path / "fresh"), _tracks(paths), AudioPlan.from_config(config),
                                     logs.append)
    assert np.array_equal(np.asarray(resumed.stats), np.asarray(fresh.stats))

    again, _ = cached_audio_features(workspace, _tracks(paths), AudioPlan.from_config(config), logs.append)
    assert logs[-1].startswith("audio features: reused")
    assert np.array_equal(np.asarray(again.stats), np.asarray(resumed.stats))


def test_changed_settings_miss_the_cache(tmp_path: Path) -> None:
    paths = _good(tmp_path / "audio", 2)
    workspace = Workspace(tmp_path / "run")
    logs: list[str] = []
    cached_audio_features(workspace, _tracks(paths), AudioPlan.from_config(AudioConfig(workers=1)), logs.append)
    cached_audio_features(workspace, _tracks(paths), AudioPlan.from_config(AudioConfig(workers=1, n_mels=32)),
                          logs.append)
    assert "2 tracks extracted, 0 from the per-track cache" in logs[-1]


def test_damaged_cache_entry_is_recomputed(tmp_path: Path) -> None:
    paths = _good(tmp_path / "audio", 2)
    workspace = Workspace(tmp_path / "run")
    logs: list[str] = []
    cached_audio_features(workspace, _tracks(paths[:1]), AudioPlan.from_config(AudioConfig(workers=1)), logs.append)
    entry = next((workspace.root / "features" / "tracks").rglob("*.npz"))
    entry.write_bytes(b"garbage")
    features, _ = cached_audio_features(workspace, _tracks(paths), AudioPlan.from_config(AudioConfig(workers=1)),
                                        logs.append)
    assert "2 tracks extracted" in logs[-1] and features.ok.all()


def test_extract_track_reports_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _good(tmp_path, 1)[0]
    real_open = open

    def refuse(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    assert extract_track(str(path), SETTINGS).error == "no permission to read the file"
