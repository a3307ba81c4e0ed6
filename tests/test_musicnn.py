"""The PyTorch musicnn matches the original TensorFlow model (fixtures made once with it by
tools/convert_musicnn.py; TensorFlow is not needed here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from songscape.audio.musicnn import MODELS, PATCH_FRAMES, Musicnn, log_mel, patches

FIXTURES = Path(__file__).parent / "data" / "musicnn"


@pytest.mark.parametrize("model", MODELS)
def test_network_matches_tensorflow_within_1e_4(model: str) -> None:
    tags, penultimate = Musicnn(model).predict_patches(np.load(FIXTURES / "patches.npy"))
    np.testing.assert_allclose(tags, np.load(FIXTURES / f"{model}_tags.npy"), atol=1e-4, rtol=0)
    np.testing.assert_allclose(penultimate, np.load(FIXTURES / f"{model}_penultimate.npy"), atol=1e-4, rtol=0)


def test_front_end_matches_librosa_and_stays_finite_on_loud_audio() -> None:
    audio = np.load(FIXTURES / "audio.npy")
    power = np.load(FIXTURES / "mel_power.npy")  # librosa.feature.melspectrogram, musicnn's settings
    ours = log_mel(audio)
    np.testing.assert_allclose(ours, np.log10(10000 * power.astype(np.float64) + 1), atol=1e-4, rtol=0)
    assert np.isfinite(ours).all()
    with np.errstate(over="ignore"):  # the original's float16 cast: inf in the loud passage
        assert np.isinf(np.log10(10000 * power.astype(np.float16) + 1)).any()
    np.testing.assert_allclose(patches(ours), np.load(FIXTURES / "patches.npy"), atol=1e-4, rtol=0)


def test_whole_track_tags_and_embedding_are_patch_means() -> None:
    tagger = Musicnn("MTT_musicnn")
    audio = np.load(FIXTURES / "audio.npy")
    result = tagger.track(audio)
    assert result.patch_tags.shape == (2, 50) and result.patch_embeddings.shape == (2, 200)
    np.testing.assert_allclose(result.embedding, result.patch_embeddings.mean(axis=0))
    assert len(tagger.tag_names) == 50 and tagger.tag_names[:3] == ["guitar", "classical", "slow"]
    short = tagger.track(audio[:8000])  # half a second: padded with silence to one patch
    assert short.patch_tags.shape == (1, 50) and np.isfinite(short.tags).all()


def test_patches_cut_three_second_blocks() -> None:
    frames = np.arange(3 * PATCH_FRAMES + 5, dtype=np.float32)[:, None].repeat(96, axis=1)
    cut = patches(frames)
    assert cut.shape == (3, PATCH_FRAMES, 96) and cut[1, 0, 0] == PATCH_FRAMES


def test_unknown_model_or_missing_weights_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown musicnn model 'MTT_vgg'"):
        Musicnn("MTT_vgg")
    with pytest.raises(FileNotFoundError, match="musicnn weights not found"):
        Musicnn(weights=tmp_path / "none.npz")


def test_typical_tags_rank_by_lift() -> None:
    import pandas as pd

    from songscape.report.tags import typical_tags

    tags = pd.DataFrame({"rock": [0.9, 0.8, 0.1, 0.1], "piano": [0.1, 0.2, 0.9, 0.7], "loud": [0.5] * 4},
                        index=["a", "b", "c", "d"])
    described = typical_tags(tags, pd.Series([0, 0, 1, -1], index=["a", "b", "c", "d"]), shown=2)
    assert list(described) == [-1, 0, 1]
    assert described[0] == ["rock (×1.8)", "loud (×1.0)"] and described[1][0] == "piano (×1.9)"
    rare = tags.assign(turkey=[0.0, 0.0, 0.004, 0.0])  # mean 0.001: a huge lift in cluster 1, but noise
    assert typical_tags(rare, pd.Series([0, 0, 1, -1], index=["a", "b", "c", "d"]), shown=1)[1] == ["piano (×1.9)"]


@pytest.mark.parametrize(("network", "tags"), [("MTT_musicnn", 50), ("mn04_as", 527)])
def test_pretrained_input_in_a_run_with_tags_in_the_report(tiny_corpus: Path, tmp_path: Path, network: str,
                                                          tags: int) -> None:
    import pandas as pd
    from rich.console import Console

    from songscape.config import validate_config
    from songscape.pipeline import CollectionSource, run_pipeline

    config = validate_config({
        "representations": [{"name": "pretrained", "kind": "raw", "input": "pretrained"},
                            {"name": "pretrained-pca", "kind": "pca", "input": "pretrained",
                             "params": {"n_components": 4}}],
        "clusterers": [{"name": "kmeans"}, {"name": "gmm", "params": {"covariance_type": "diag"}}],
        "audio": {"network": network},
        "seeds": [0], "n_clusters": 4, "map_methods": ["tsne"], "label_columns": ["style"]})
    console = Console(record=True, width=200)
    outcome, report = run_pipeline(config, CollectionSource(tiny_corpus.parent, tiny_corpus), tmp_path / "run", console)
    assert set(outcome.results["representation"]) == {"pretrained", "pretrained-pca"}
    assert (outcome.results["n_tracks"] == 16).all()
    found = pd.read_parquet(tmp_path / "run" / "tags.parquet")
    assert len(found) == 16 and len(found.columns) == tags + 1
    assert found.drop(columns="track_id").stack().between(0, 1).all()
    page = report.read_text(encoding="utf-8")
    assert "<h2>Clusters (" in page and "<dt>sound tags</dt>" in page and "(×" in page
    assert "BPM (10th–90th percentile)" in page and "dBFS" in page
    run_pipeline(config, CollectionSource(tiny_corpus.parent, tiny_corpus), tmp_path / "run", console)
    assert "audio features: reused" in console.export_text()

    from songscape.library import assign

    files = pd.read_parquet(tmp_path / "run" / "tracks.parquet")[["track_id", "path"]].head(5)
    for algorithm in ("kmeans", "gmm"):  # new files land in the clusters they have in the run
        table = assign(tmp_path / "run", [Path(p) for p in files["path"]], "pretrained-pca", algorithm)
        labels = pd.read_parquet(tmp_path / "run" / "labels" / f"pretrained-pca__{algorithm}.parquet")
        expected = labels.set_index("track_id").loc[files["track_id"], "seed_0"].to_numpy()
        assert (table["status"] == "ok").all() and (table["cluster"].to_numpy() == expected).all()


def test_missing_weights_in_a_config_name_the_key(tmp_path: Path) -> None:
    from songscape.config import ConfigError, validate_config

    with pytest.raises(ConfigError, match="audio.network_weights: .*network weights file not found"):
        validate_config({"representations": [{"name": "m", "kind": "raw", "input": "pretrained"}],
                         "clusterers": [{"name": "kmeans"}], "audio": {"network_weights": str(tmp_path / "x.npz")}})
