"""Every preset runs on every kind of collection, and tiny or degenerate collections never
crash a run: each ends with a report (a map or figure that cannot be drawn says why)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from rich.console import Console

from songscape.config import PRESETS, RunConfig, preset
from songscape.pipeline import CollectionSource, run_pipeline

NEURAL = {"ae", "vae", "cvae", "conv-vae", "mvae", "vade"}


def _quick(name: str) -> RunConfig:
    """The preset with one seed, one map method and few epochs: the same code paths, fast."""
    config = preset(name, seeds=[0], map_methods=["tsne"])
    for spec in config.representations:
        if spec.kind in NEURAL:
            spec.params = {**spec.params, "epochs": 3}
    return config


def _tones(directory: Path, count: int, same: bool = False) -> Path:
    directory.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        t = np.arange(22050 * 2) / 22050
        freq = 300.0 if same else 200.0 + 70.0 * index
        noise = 0.0 if same else 0.01 * rng.standard_normal(len(t))
        sf.write(directory / f"t{index}.wav", (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32), 22050)
    return directory


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CollectionSource]:
    root = tmp_path_factory.mktemp("kinds")
    audio = _tones(root / "audio", 8)
    some = root / "some.csv"
    some.write_text("file,lyrics,genre\n" + "".join(
        f"t{i}.wav,{'the river runs home tonight' if i % 2 else ''},{'rock' if i < 4 else 'folk'}\n"
        for i in range(8)), encoding="utf-8")
    lyrics = root / "lyrics.csv"
    lyrics.write_text("track_id,lyrics,genre\n" + "".join(
        f"r{i},song {i} about {'rivers' if i < 4 else 'cities'} and {'boats' if i % 2 else 'cars'},{'a' if i < 4 else 'b'}\n"
        for i in range(8)), encoding="utf-8")
    rng = np.random.default_rng(1)
    features = root / "features.csv"
    features.write_text("id,f1,f2,f3,genre\n" + "".join(
        f"x{i},{rng.normal():.4f},{rng.normal():.4f},{rng.normal():.4f},{'a' if i < 4 else 'b'}\n" for i in range(8)),
        encoding="utf-8")
    return {"audio only": CollectionSource(audio), "audio + some lyrics": CollectionSource(audio, some),
            "lyrics only": CollectionSource(None, lyrics), "feature table": CollectionSource(None, features=features)}


@pytest.mark.parametrize("preset_name", list(PRESETS))
def test_each_preset_on_each_kind_of_collection(preset_name: str, sources: dict[str, CollectionSource],
                                                tmp_path: Path) -> None:
    for kind, source in sources.items():
        console = Console(record=True, width=200)
        outcome, report = run_pipeline(_quick(preset_name), source, tmp_path / kind, console)
        assert report.exists() and not outcome.results.empty, f"{preset_name} on {kind}"
        text = console.export_text()
        if kind in ("audio only", "feature table") and preset_name != "easy":
            assert "mvae: skipped, this collection has no multimodal input" in text


def _degenerate(root: Path) -> dict[str, CollectionSource]:
    root.mkdir(parents=True)
    identical = root / "identical.csv"
    identical.write_text("file,lyrics,genre\n" + "".join(f"t{i}.wav,the same words again,rock\n" for i in range(6)),
                         encoding="utf-8")
    constant = root / "constant.csv"
    constant.write_text("id,f1,f2,genre\n" + "".join(f"x{i},1.0,2.0,a\n" for i in range(10)), encoding="utf-8")
    return {"identical lyrics, one label value": CollectionSource(_tones(root / "six", 6), identical),
            "three tracks": CollectionSource(_tones(root / "three", 3)),
            "identical audio": CollectionSource(_tones(root / "same", 5, same=True)),
            "constant features": CollectionSource(None, features=constant)}


def test_tiny_and_degenerate_collections_end_with_a_report(tmp_path: Path) -> None:
    for name, source in _degenerate(tmp_path / "data").items():
        console = Console(record=True, width=200)
        _, report = run_pipeline(_quick("hard"), source, tmp_path / name.replace(" ", "-"), console)
        assert report.exists(), name
    # constant features: no map, with the reason
    assert not report.with_name("map.html").exists()
    assert "map skipped: no result can be mapped: raw-features + kmeans: all 10 tracks have the same embedding" \
        in console.export_text()


def test_names_say_what_each_representation_reads(sources: dict[str, CollectionSource], tmp_path: Path) -> None:
    """The hard preset on lyrics alone names the raw lyrics `raw-lyrics`, not `raw-stats`, and
    skips a CVAE on language when every track has one language; on a feature table the raw
    columns are `raw-features`."""
    console = Console(record=True, width=200)
    outcome, _ = run_pipeline(_quick("hard"), sources["lyrics only"], tmp_path / "lyrics", console)
    names = set(outcome.results["representation"])
    assert {"raw-lyrics", "pca-lyrics"} <= names and not names & {"raw-stats", "pca", "cvae-language"}, names
    assert "cvae-language: skipped, every track has the same language (english)" in console.export_text()
    outcome, _ = run_pipeline(_quick("hard"), sources["feature table"], tmp_path / "table", Console(record=True))
    assert "raw-features" in set(outcome.results["representation"])


def test_two_tracks_are_one_clear_error(tmp_path: Path) -> None:
    from songscape.experiment import PipelineError

    with pytest.raises(PipelineError, match="only 2 tracks were found; clustering needs at least 3"):
        run_pipeline(_quick("easy"), CollectionSource(_tones(tmp_path / "two", 2)), tmp_path / "run",
                     Console(record=True))
    assert not (tmp_path / "run").exists()  # said before the run folder is made
