"""Which figures a run gets, drawn from its saved artifacts (embeddings, labels, histories,
k-selection curves, saved models and features); nothing is retrained. Each function returns
(caption, PNG path) pairs and returns none when the run lacks what it needs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.audio.extract import MEL_FILE, META_FILE, STATS_FILE
from songscape.models import load_representation
from songscape.models.base import CONFIG_FILE
from songscape.report.figures import (
    map_2d,
    plot_composition,
    plot_k_selection,
    plot_latent_map,
    plot_reconstructions,
    plot_training_curves,
    plot_traversals,
    umap_2d,
)
from songscape.workspace import Workspace, read_npz

Figure = tuple[str, Path]
MAP_METHODS = {"tsne": map_2d, "umap": umap_2d}
RECONSTRUCTED_TRACKS = 4
TRAVERSED_DIMENSIONS = 4


def _first_seed(results: pd.DataFrame) -> int:
    return int(results["seed"].min())


def _first_algorithm(results: pd.DataFrame, representation: str) -> str:
    return str(results.loc[results["representation"] == representation, "algorithm"].iloc[0])


def latent_maps(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame,
                label_columns: list[str], methods: list[str]) -> list[Figure]:
    """Per representation and map method (t-SNE, UMAP; first seed): coloured by its first
    algorithm's clusters and by each label."""
    seed, by_id, figures = _first_seed(results), tracks.set_index("track_id"), []
    for representation in results["representation"].unique():
        algorithm = _first_algorithm(results, representation)
        stored = read_npz(workspace.embedding(representation, seed))
        labels = pd.read_parquet(workspace.labels(representation, algorithm))[f"seed_{seed}"].to_numpy()
        covered = ~np.isnan(stored["embedding"]).any(axis=1)
        rows = by_id.loc[stored["track_id"][covered]]
        colourings = {f"{algorithm} cluster": labels[covered],
                      **{column: rows[column].to_numpy(dtype=object) for column in label_columns}}
        for method in methods:
            coordinates = MAP_METHODS[method](stored["embedding"][covered], random_state=seed)
            path = workspace.report_dir / f"map-{representation}-{method}.png"
            name = {"tsne": "t-SNE", "umap": "UMAP"}[method]
            plot_latent_map(coordinates, colourings, f"{representation} (seed {seed}, {name})", path)
            figures.append((f"{representation}: {name} map", path))
    return figures


def compositions(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame,
                 label_columns: list[str]) -> list[Figure]:
    """Per representation (first algorithm, first seed): its clusters split by language and
    by each label column."""
    seed, by_id, figures = _first_seed(results), tracks.set_index("track_id"), []
    columns = ["language", *[c for c in label_columns if c != "language"]]
    for representation in results["representation"].unique():
        algorithm = _first_algorithm(results, representation)
        labels = pd.read_parquet(workspace.labels(representation, algorithm))
        rows = by_id.loc[labels["track_id"]]
        path = workspace.report_dir / f"composition-{representation}.png"
        plot_composition(labels[f"seed_{seed}"].to_numpy(),
                         {c: rows[c].to_numpy(dtype=object) for c in columns if c in rows},
                         f"{representation} + {algorithm} (seed {seed})", path)
        figures.append((f"{representation} + {algorithm}: cluster composition", path))
    return figures


def _model_dirs(workspace: Workspace, results: pd.DataFrame) -> dict[str, Path]:
    """The first seed's saved model folder per representation (runs from before `model_dir`
    was recorded have none)."""
    if "model_dir" not in results:
        return {}
    first = results[results["seed"] == _first_seed(results)].drop_duplicates("representation")
    return {row.representation: workspace.root / "models" / row.model_dir for row in first.itertuples()
            if (workspace.root / "models" / row.model_dir / CONFIG_FILE).exists()}


def training_curves(workspace: Workspace, results: pd.DataFrame) -> list[Figure]:
    """Loss per epoch of every trained model (first seed), in one figure."""
    histories = {name: pd.read_csv(directory / "history.csv") for name, directory in
                 _model_dirs(workspace, results).items()
                 if (directory / "history.csv").exists() and (directory / "history.csv").stat().st_size > 1}
    if not histories:
        return []
    path = workspace.report_dir / "training-curves.png"
    plot_training_curves(histories, path)
    return [("training and validation loss per epoch (first seed)", path)]


def k_selection(workspace: Workspace) -> list[Figure]:
    """The silhouette / BIC curves behind automatic k, when k was chosen automatically."""
    if not workspace.k_selection.exists():
        return []
    path = workspace.report_dir / "k-selection.png"
    plot_k_selection(pd.read_parquet(workspace.k_selection), path)
    return [("k selection (mean over seeds)", path)]


def _model_input(workspace: Workspace, directory: Path) -> tuple[np.ndarray, list[str]] | None:
    """The saved feature array a model was trained on (log-mel patches or statistics) and the
    statistics' names; None when it is not a saved audio block (lyrics, feature tables)."""
    key = json.loads((directory / CONFIG_FILE).read_text())["metadata"].get("input", "")
    is_mel = key.startswith("mel-audio-")
    folder = workspace.root / "features" / key.removeprefix("mel-")
    if not folder.name.startswith("audio-") or not folder.is_dir():
        return None
    names = [str(n) for n in read_npz(folder / META_FILE)["names"]]
    return np.load(folder / (MEL_FILE if is_mel else STATS_FILE), mmap_mode="r"), names


def reconstructions(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame) -> list[Figure]:
    """Original vs reconstructed log-mel patches for every model trained on them (first seed),
    for one track from each of the first clusters."""
    ok = np.flatnonzero(tracks["status"].to_numpy() == "ok")
    figures = []
    for name, directory in _model_dirs(workspace, results).items():
        loaded = _model_input(workspace, directory)
        if loaded is None or loaded[0].ndim != 3:
            continue
        patches = loaded[0]
        model = load_representation(directory)
        if not hasattr(model, "reconstruct"):
            continue
        labels = pd.read_parquet(workspace.labels(name, _first_algorithm(results, name)))
        first_of_cluster = labels.groupby(f"seed_{_first_seed(results)}").head(1).index[:RECONSTRUCTED_TRACKS]
        rows = ok[np.asarray(first_of_cluster)]
        originals = np.asarray(patches[rows])
        rebuilt = model.reconstruct(originals).reshape(originals.shape)
        path = workspace.report_dir / f"reconstructions-{name}.png"
        plot_reconstructions(originals, rebuilt, list(tracks["track_id"].iloc[rows]),
                             f"{name}: log-mel patches and their reconstructions", path)
        figures.append((f"{name}: reconstructions", path))
    return figures


def traversals(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame) -> list[Figure]:
    """Latent traversals of every VAE-family model with `latent_traversal` trained on audio
    statistics or log-mel patches (first seed): the most active latent dimensions swept
    from −3 to +3 around the mean code."""
    values = np.linspace(-3.0, 3.0, 7)
    figures = []
    for name, directory in _model_dirs(workspace, results).items():
        loaded = _model_input(workspace, directory)
        model = load_representation(directory) if loaded is not None else None
        if model is None or not hasattr(model, "latent_traversal") or getattr(model, "kind", "") == "cvae":
            continue
        features, names = np.asarray(loaded[0])[tracks["status"].to_numpy() == "ok"], loaded[1]
        codes = model.transform(features)
        dimensions = [int(d) for d in np.argsort(codes.var(axis=0))[::-1][:TRAVERSED_DIMENSIONS]]
        swept = {d: model.latent_traversal(features, d, values) for d in dimensions}
        path = workspace.report_dir / f"traversal-{name}.png"
        plot_traversals(swept, values, None if features.ndim == 3 else names,
                        f"{name}: latent traversals (most active dimensions)", path)
        figures.append((f"{name}: latent traversals", path))
    return figures
