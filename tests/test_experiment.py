"""The grid with the models that take more than one input: CVAE (condition and leak flag),
multimodal VAE (tracks without lyrics), Conv-VAE (mel patches) and VaDE (its own clusters)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from songscape.cluster.consensus import consensus_stability
from songscape.collection import load_collection
from songscape.config import ConfigError, validate_config
from songscape.experiment import MODEL_POSTERIOR, PipelineError, run_experiment
from songscape.models.base import CONFIG_FILE
from songscape.workspace import Workspace, read_npz

SMALL = {"latent_dim": 3, "hidden": [16], "epochs": 15}
REPRESENTATIONS = [
    {"name": "cvae-language", "kind": "cvae", "condition": "language", "params": SMALL},
    {"name": "cvae-artist", "kind": "cvae", "condition": "artist", "params": SMALL},
    {"name": "mvae", "kind": "mvae", "input": "multimodal", "params": SMALL},
    {"name": "conv", "kind": "conv-vae", "input": "mel",
     "params": {**SMALL, "channels": [4, 8], "hidden": [16]}},
    {"name": "vade", "kind": "vade", "params": {**SMALL, "pretrain_epochs": 10, "n_init": 2}},
    {"name": "group-vae", "kind": "group-vae", "params": SMALL},
    {"name": "vae-per-track", "kind": "vae", "segments": False, "params": SMALL},
]


def _config(representations: list[dict]) -> object:
    return validate_config({"representations": representations, "clusterers": [{"name": "kmeans"}],
                            "seeds": [0], "n_clusters": 3, "label_columns": ["style", "language"],
                            "lyrics": {"method": "tfidf", "n_components": 4, "min_df": 1},
                            "audio": {"patch_frames": 16}})


@pytest.fixture(scope="module")
def outcome(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> object:
    collection = load_collection(tiny_corpus.parent, tiny_corpus, label_columns=["style", "language"])
    workspace = Workspace(tmp_path_factory.mktemp("grid"))
    return run_experiment(_config(REPRESENTATIONS), collection, workspace, log=lambda message: None)


def test_results_scored_against_the_condition_are_flagged(outcome: object) -> None:
    results = outcome.results.set_index("representation")
    assert results.loc[["cvae-language"], "supervised_leak"].all()
    assert (results.loc[["cvae-language"], "conditioned_on"] == "language").all()
    assert not results.loc[["cvae-artist"], "supervised_leak"].any()  # artist is not scored
    assert (results.loc[["cvae-artist"], "conditioned_on"] == "artist").all()
    assert not results.loc[["mvae", "conv", "vade"], "supervised_leak"].any()


def test_every_model_embeds_every_track_with_audio(outcome: object) -> None:
    n = len(outcome.tracks)
    assert outcome.tracks["lyrics"].eq("").any()  # the corpus has instrumental tracks
    for name in ("mvae", "conv", "cvae-language", "vade"):
        stored = read_npz(outcome.workspace.embedding(name, 0))
        assert stored["embedding"].shape == (n, 3)
        assert not pd.isna(stored["embedding"]).any()  # mvae: instrumentals from audio alone


def test_models_that_take_segments_learn_from_them_unless_told_not_to(outcome: object) -> None:
    results = outcome.results.groupby("representation")["segments"].first()
    assert results[["cvae-language", "mvae", "vade", "group-vae"]].all()
    assert not results[["conv", "vae-per-track"]].any()  # mel patches have no segments
    rows = outcome.results.drop_duplicates("representation").set_index("representation")
    read = {name: json.loads((outcome.workspace.root / "models" / rows.loc[name, "model_dir"]
                              / CONFIG_FILE).read_text())["metadata"]["input"] for name in ("group-vae", "vae-per-track")}
    assert read["group-vae"].endswith("-segments") and not read["vae-per-track"].endswith("-segments")


def test_vade_also_clusters(outcome: object) -> None:
    vade = outcome.results[outcome.results["representation"] == "vade"]
    assert set(vade["algorithm"]) == {"kmeans", MODEL_POSTERIOR}
    labels = pd.read_parquet(outcome.workspace.labels("vade", MODEL_POSTERIOR))
    assert labels["seed_0"].between(0, 2).all()


def test_missing_condition_column_fails_clearly(tiny_corpus: Path, tmp_path: Path) -> None:
    collection = load_collection(tiny_corpus.parent, tiny_corpus, label_columns=["style"])
    config = _config([{"name": "c", "kind": "cvae", "condition": "mood", "params": SMALL}])
    with pytest.raises(PipelineError, match="c: condition column 'mood' is not in the table"):
        run_experiment(config, collection, Workspace(tmp_path), log=lambda message: None)


@pytest.mark.parametrize(("spec", "message"), [
    ({"name": "c", "kind": "cvae"}, "a 'condition' column is needed by kind 'cvae'"),
    ({"name": "v", "kind": "vae", "condition": "language"}, "needed by kind 'cvae' and only by it"),
    ({"name": "m", "kind": "mvae"}, "kind 'mvae' needs input 'multimodal'"),
    ({"name": "k", "kind": "conv-vae", "input": "audio"}, "kind 'conv-vae' needs input 'mel'"),
    ({"name": "p", "kind": "pca", "input": "multimodal"}, "'multimodal' is for kind 'mvae' only"),
])
def test_inconsistent_specs_are_refused(spec: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _config([spec])


def test_a_saved_model_that_cannot_be_loaded_is_trained_again(tiny_corpus: Path, tmp_path: Path) -> None:
    collection = load_collection(tiny_corpus.parent, tiny_corpus, label_columns=["style"])
    config = _config([{"name": "vae", "kind": "vae", "params": SMALL}])
    workspace = Workspace(tmp_path)
    first = run_experiment(config, collection, workspace, log=lambda message: None)
    (weights,) = (tmp_path / "models").glob("vae-*/weights.pt")
    weights.write_bytes(b"written by another version")
    messages: list[str] = []
    second = run_experiment(config, collection, workspace, log=messages.append)
    assert second.models_trained == 1 and any("cannot be loaded" in m for m in messages)
    assert second.results["nmi_style"].equals(first.results["nmi_style"])


def test_neural_latents_are_also_clustered_by_consensus_over_the_seeds(tiny_corpus: Path, tmp_path: Path) -> None:
    collection = load_collection(tiny_corpus.parent, tiny_corpus, label_columns=["style", "language"])
    config = _config([{"name": "pca", "kind": "pca", "params": {"n_components": 3}},
                      {"name": "vae", "kind": "vae", "params": SMALL}]).model_copy(update={"seeds": [0, 1, 2]})
    outcome = run_experiment(config, collection, Workspace(tmp_path), log=lambda message: None)
    algorithms = outcome.results.groupby("representation")["algorithm"].unique()
    assert set(algorithms["pca"]) == {"kmeans"}  # deterministic input: nothing to agree on
    assert set(algorithms["vae"]) == {"kmeans", "consensus-kmeans"}
    agreed = pd.read_parquet(outcome.workspace.labels("vae", "consensus-kmeans"))
    assert (agreed["seed_0"] == agreed["seed_1"]).all() and (agreed["seed_0"] == agreed["seed_2"]).all()
    per_seed = pd.read_parquet(outcome.workspace.labels("vae", "kmeans"))
    rows = outcome.results[outcome.results["algorithm"] == "consensus-kmeans"].set_index("seed")
    expected = consensus_stability([per_seed[f"seed_{seed}"].to_numpy() for seed in (0, 1, 2)], 3)
    assert np.allclose(rows["stability"], expected)
    assert rows["agreement"].notna().tolist() == [True, False, False]  # one clustering, counted once


def test_models_fitted_on_worker_processes_equal_those_fitted_here(tiny_corpus: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With two workers the neural models train in parallel processes, one thread each, as in
    this process: the same embeddings, counted as trained, not reused."""
    from songscape import experiment

    saved_by_workers: list[frozenset[Path]] = []

    def spied(*args: object) -> frozenset[Path]:
        saved_by_workers.append(fit_on_workers(*args))
        return saved_by_workers[-1]

    fit_on_workers = experiment._fit_on_workers
    monkeypatch.setattr(experiment, "_fit_on_workers", spied)
    collection = load_collection(tiny_corpus.parent, tiny_corpus, label_columns=["style"])
    specs = [{"name": "vae", "kind": "vae", "params": SMALL},
             {"name": "group-vae", "kind": "group-vae", "params": SMALL}]
    outcomes = {}
    for workers in (1, 2):
        config = _config(specs).model_copy(update={"seeds": [0, 1, 2, 3]})
        config = config.model_copy(update={"audio": config.audio.model_copy(update={"workers": workers})})
        outcomes[workers] = run_experiment(config, collection, Workspace(tmp_path / str(workers)), log=lambda m: None)
    assert [len(saved) for saved in saved_by_workers] == [8, 8]  # one worker: in this process, still saved first
    assert outcomes[2].models_trained == outcomes[1].models_trained == 8 and outcomes[2].models_reused == 0
    for name in ("vae", "group-vae"):
        for seed in range(4):
            here, there = (read_npz(outcomes[w].workspace.embedding(name, seed))["embedding"] for w in (1, 2))
            assert np.array_equal(here, there)
