"""One pass per track: statistics, mel patch and musicnn from one decode, equal to computing
them separately; musicnn run outside the worker (the GPU path) gives the same, and its batches give each
track its own output; a track whose
musicnn part fails is skipped with its reason; the device choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from songscape.audio import efficientat
from songscape.audio import track as track_module
from songscape.audio.decode import ExcerptSpec
from songscape.audio.device_batches import DeviceBatches
from songscape.audio.extract import extract_collection
from songscape.audio.plan import network_spec
from songscape.audio.features import SpectralSettings
from songscape.audio.tagging import file_tags
from songscape.audio.track import NetworkSpec, TrackFeatures, extract_track, tagger
from songscape.config import AudioConfig, ConfigError
from songscape.threads import single_thread
from tests.audio_fixtures import tone

SETTINGS = SpectralSettings()
EXCERPT = ExcerptSpec(seconds=4.0)
ON_CPU = NetworkSpec()


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    directory = tmp_path_factory.mktemp("one-pass")
    written = []
    for index, (seconds, rate) in enumerate([(5.0, 44100), (2.0, 22050), (7.0, 48000)]):
        path = directory / f"t{index}.wav"
        sf.write(path, tone(seconds, rate, freq=220.0 * (index + 1)), rate)
        written.append(str(path))
    (directory / "broken.ogg").write_bytes(b"OggS but not really")
    return [*written, str(directory / "broken.ogg")]


def test_one_pass_equals_the_two_separate_passes(paths: list[str]) -> None:
    found = extract_collection(paths, SETTINGS, EXCERPT, workers=1, network=ON_CPU)
    reference = ON_CPU  # the former path: a second decode at 16 kHz
    for row, path in enumerate(paths[:3]):
        with single_thread():  # the same thread count: the same floats
            alone = extract_track(path, SETTINGS, EXCERPT)
        assert np.array_equal(found.stats[row], alone.stats) and np.array_equal(found.mel[row], alone.mel)
        tags = file_tags(reference, path, EXCERPT)
        np.testing.assert_allclose(found.tags.embeddings[row], tags.embedding, atol=1e-5, rtol=0)
        np.testing.assert_allclose(found.tags.tags[row], tags.tags, atol=1e-6, rtol=0)
    assert found.errors[3].startswith("cannot decode") and found.tags.errors[3] == found.errors[3]
    assert np.isnan(found.tags.embeddings[3]).all()


def test_pool_and_network_outside_the_worker_agree(paths: list[str], tmp_path: Path) -> None:
    in_process = extract_collection(paths * 3, SETTINGS, EXCERPT, workers=1, network=ON_CPU)
    cache = [tmp_path / f"{i}.npz" for i in range(12)]
    pooled = extract_collection(paths * 3, SETTINGS, EXCERPT, workers=2, network=ON_CPU, network_cache_files=cache)
    outside = extract_collection(paths * 3, SETTINGS, EXCERPT, workers=2,
                                 network=NetworkSpec(in_worker=False))  # what a GPU run does, on the CPU
    for other in (pooled, outside):
        assert other.errors == in_process.errors
        np.testing.assert_allclose(other.tags.embeddings, in_process.tags.embeddings, atol=1e-6, equal_nan=True)
    assert [c.exists() for c in cache] == [not e for e in pooled.errors]


def test_partial_cache_asks_only_for_the_missing_part(paths: list[str], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    stats_cache = [tmp_path / f"s{i}.npz" for i in range(4)]
    tags_cache = [tmp_path / f"m{i}.npz" for i in range(4)]
    first = extract_collection(paths, SETTINGS, EXCERPT, workers=1, cache_files=stats_cache)
    jobs = []
    original = track_module.run_job
    monkeypatch.setattr("songscape.audio.extract.run_job", lambda job: jobs.append(job) or original(job))
    both = extract_collection(paths, SETTINGS, EXCERPT, workers=1, cache_files=stats_cache, network=ON_CPU,
                              network_cache_files=tags_cache)
    assert [job.settings for job in jobs[:3]] == [None] * 3 and all(job.network for job in jobs)
    assert jobs[3].settings == SETTINGS  # the broken file was never cached
    assert np.array_equal(both.stats[:3], first.stats[:3])
    jobs.clear()
    again = extract_collection(paths, SETTINGS, EXCERPT, workers=1, cache_files=stats_cache, network=ON_CPU,
                               network_cache_files=tags_cache)
    assert [job.path for job in jobs] == [paths[3]]
    assert np.array_equal(again.tags.embeddings[:3], both.tags.embeddings[:3])


def test_a_track_whose_musicnn_part_fails_is_skipped_with_the_reason(paths: list[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real = track_module.tagger(ON_CPU)

    class Failing:
        embedding_size, tag_names = real.embedding_size, real.tag_names

        def track_patches(self, patches: np.ndarray) -> None:
            raise RuntimeError("out of memory")

    monkeypatch.setattr(track_module, "tagger", lambda spec: Failing())
    found = extract_collection(paths[:1], SETTINGS, EXCERPT, workers=1, network=ON_CPU)
    assert found.errors == ["MTT_musicnn failed: out of memory"] and not found.ok.any()


def test_efficientat_in_the_one_pass_equals_the_network_on_the_decoded_excerpt(paths: list[str]) -> None:
    from songscape.audio.decode import decode
    from songscape.audio.efficientat import SAMPLE_RATE, EfficientAT

    found = extract_collection(paths, SETTINGS, EXCERPT, workers=1, network=NetworkSpec("mn04_as"))
    reference = EfficientAT()
    for row, path in enumerate(paths[:3]):
        alone = reference.predict([decode(Path(path), SAMPLE_RATE, EXCERPT).samples])
        np.testing.assert_allclose(found.tags.embeddings[row], alone.embeddings[0], atol=1e-5, rtol=0)
        np.testing.assert_allclose(found.tags.tags[row], alone.probabilities[0], atol=1e-6, rtol=0)
    assert found.tags.embeddings.shape == (4, 384) and len(found.tags.tag_names) == 527
    assert found.errors[3].startswith("cannot decode") and np.isnan(found.tags.embeddings[3]).all()


def test_device_choice_on_a_machine_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    spec = network_spec(AudioConfig(), "auto")
    assert spec.device == "cpu" and spec.in_worker
    with pytest.raises(ConfigError, match="device: 'cuda' asked for, but PyTorch sees no CUDA device"):
        network_spec(AudioConfig(), "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    spec = network_spec(AudioConfig(), "auto")
    assert spec.device == "cuda" and not spec.in_worker  # workers send patches, one process feeds the GPU


def test_segments_give_segment_level_matrices_whose_mean_is_the_track(paths: list[str]) -> None:
    segments = ExcerptSpec("segments", 4.0, crops=4)  # four 1-s segments
    found = extract_collection(paths, SETTINGS, segments, workers=1, network=NetworkSpec("mn04_as"))
    assert found.segment_stats.shape == (4, 4, found.stats.shape[1])
    np.testing.assert_allclose(found.stats[:3], found.segment_stats[:3].mean(axis=1), rtol=1e-5, atol=1e-5)
    assert found.tags.segment_embeddings.shape == (4, 4, 384)
    np.testing.assert_allclose(found.tags.embeddings[:3], found.tags.segment_embeddings[:3].mean(axis=1),
                               rtol=1e-5, atol=1e-6)
    assert np.isnan(found.segment_stats[3]).all()  # the broken file


def test_device_batches_give_each_track_its_own_output() -> None:
    """The GPU path's batching, on the CPU: tracks of two lengths gathered two at a time, and
    one input the network cannot read, which fails without failing the others."""
    network = NetworkSpec("mn04_as", in_worker=False)
    rng = np.random.default_rng(0)
    inputs = [efficientat.log_mel(rng.normal(0, 0.1, int(seconds * efficientat.SAMPLE_RATE)).astype(np.float32))[None]
              for seconds in (2.0, 3.0, 2.0, 3.0, 2.0)]
    inputs.insert(2, inputs[0][:, :, :0])  # no frames: the network's convolutions cannot read it
    batches = DeviceBatches(network, tracks_per_batch=2)
    done = {}
    for row, prepared in enumerate(inputs):
        done.update(batches.add(row, TrackFeatures(None, None, 1.0, network_input=prepared)))
    done.update(batches.flush())
    assert sorted(done) == list(range(6)) and done[2].error.startswith("mn04_as failed")
    for row in (0, 1, 3, 4, 5):
        alone = tagger(network).track_patches(inputs[row])
        assert done[row].network_input is None
        np.testing.assert_allclose(done[row].network_result.patch_embeddings, alone.patch_embeddings, atol=1e-5)
        np.testing.assert_allclose(done[row].network_result.patch_tags, alone.patch_tags, atol=1e-5)
