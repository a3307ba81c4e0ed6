"""Which figures a run gets, drawn from its saved artifacts (embeddings, labels, histories,
k-selection curves, saved models and features); nothing is retrained. Each function returns
(caption, image path) pairs and returns none when the run lacks what it needs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.audio.extract import MEL_FILE, META_FILE, SEGMENT_STATS_FILE, STATS_FILE
from songscape.experiment import SEGMENTS_SUFFIX
from songscape.models import load_representation
from songscape.models.base import CONFIG_FILE
from songscape.report.figures import (
    FigureSkipped,
    map_2d,
    pca_2d,
    place_by_neighbours,
    plot_composition,
    plot_k_selection,
    plot_latent_map,
    plot_map_grid,
    plot_reconstructions,
    plot_training_curves,
    plot_traversals,
    umap_2d,
)
from songscape.report.tables import best_result
from songscape.workspace import Workspace, file_sha1, read_json, read_npz, read_parquet, write_npz

Figure = tuple[str, Path | None]  # (caption, image); no image: skipped, the caption says why
MAP_METHODS = {"tsne": map_2d, "umap": umap_2d}
RECONSTRUCTED_TRACKS = 4
TRAVERSED_DIMENSIONS = 4


def _first_seed(results: pd.DataFrame) -> int:
    return int(results["seed"].min())


def _first_algorithm(results: pd.DataFrame, representation: str) -> str:
    return str(results.loc[results["representation"] == representation, "algorithm"].iloc[0])


GROWN_LAYOUT_SHARE = 0.25  # a layout takes in at most this share of new tracks before it is fitted again


def layout(workspace: Workspace, representation: str, seed: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The track ids with an embedding and their 2-D coordinates (t-SNE or UMAP, seeded),
    cached in ``layouts/`` by the embedding file's hash, so the report and the map share it.

    When the embedding changed because tracks came and went (an `update`) but every track the
    cached layout holds kept its embedding, the layout is kept: new tracks are placed among their
    nearest neighbours (`place_by_neighbours`), as long as they are at most `GROWN_LAYOUT_SHARE`
    of the tracks; otherwise, and whenever a kept track's embedding changed, it is fitted again."""
    source = workspace.embedding(representation, seed)
    key = file_sha1(source)
    cache = workspace.root / "layouts" / f"{representation}__{method}__seed{seed}.npz"
    stored = read_npz(cache) if cache.exists() else None
    if stored is not None and str(stored["key"]) == key:
        return stored["track_id"], stored["coordinates"]
    embedding = read_npz(source)
    covered = np.all(np.isfinite(embedding["embedding"]), axis=1)
    track_ids, values = embedding["track_id"][covered], embedding["embedding"][covered]
    digests = _row_digests(values)
    coordinates = _grown_layout(stored, track_ids, values, digests) if stored is not None else None
    if coordinates is None:
        coordinates = MAP_METHODS[method](values, random_state=seed)
    write_npz(cache, key=key, track_id=track_ids, coordinates=coordinates, digest=digests)
    return track_ids, coordinates


def _row_digests(values: np.ndarray) -> np.ndarray:
    """A short hash of each row's bytes: whether a track's embedding changed, without keeping it."""
    return np.array([hashlib.blake2b(row.tobytes(), digest_size=8).hexdigest() for row in np.ascontiguousarray(values)])


def _grown_layout(stored: dict[str, np.ndarray], track_ids: np.ndarray, values: np.ndarray,
                  digests: np.ndarray) -> np.ndarray | None:
    """The cached layout's coordinates for the tracks it holds and neighbour placements for
    the others, or None when it cannot be kept (see `layout`)."""
    if "digest" not in stored:
        return None
    old = {str(t): (position, digest) for t, position, digest in
           zip(stored["track_id"], stored["coordinates"], stored["digest"])}
    kept = np.array([str(t) in old for t in track_ids], dtype=bool)
    if kept.sum() < 3 or (~kept).sum() > GROWN_LAYOUT_SHARE * len(track_ids):
        return None
    if any(old[str(t)][1] != digest for t, digest in zip(track_ids[kept], digests[kept])):
        return None
    coordinates = np.empty((len(track_ids), 2))
    coordinates[kept] = [old[str(t)][0] for t in track_ids[kept]]
    coordinates[~kept] = place_by_neighbours(values[kept], coordinates[kept], values[~kept])
    return coordinates


def latent_maps(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame,
                label_columns: list[str], methods: list[str], folder: Path | None = None,
                extension: str = "png") -> list[Figure]:
    """The best result's full-size maps (each of ``methods``, t-SNE or UMAP; first seed), coloured
    by its clusters and by each label, drawn into ``folder`` (the report's) as ``extension`` files;
    a map that cannot be drawn is a caption with the reason and no image. Only this
    representation gets a t-SNE or UMAP layout: the others are compared on cheap PCA maps
    (`comparison_maps`)."""
    representation, algorithm = best_result(results)
    seed, by_id, figures = _first_seed(results), tracks.set_index("track_id"), []
    labels = read_parquet(workspace.labels(representation, algorithm)).set_index("track_id")
    for method in methods:
        name = {"tsne": "t-SNE", "umap": "UMAP"}[method]
        try:
            track_ids, coordinates = layout(workspace, representation, seed, method)
        except FigureSkipped as reason:
            figures.append((f"{representation}: {name} map skipped: {reason}", None))
            continue
        rows = by_id.loc[track_ids]
        colourings = {f"{algorithm} cluster": labels.loc[track_ids, f"seed_{seed}"].to_numpy(),
                      **{column: rows[column].to_numpy(dtype=object) for column in label_columns}}
        path = (folder or workspace.report_dir) / f"map-{representation}-{method}.{extension}"
        plot_latent_map(coordinates, colourings, f"{representation} (seed {seed}, {name})", path)
        figures.append((f"{representation} (the best result): {name} map", path))
    return figures


def comparison_maps(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame,
                    label_columns: list[str], folder: Path | None = None, extension: str = "png") -> list[Figure]:
    """Every representation side by side on the first two principal components of its
    embedding (first seed): one figure coloured by its first algorithm's clusters and one by
    the first label column (drawn into ``folder``, the report's, as ``extension`` files);
    representations whose embedding does not spread are left out."""
    seed, by_id = _first_seed(results), tracks.set_index("track_id")
    clusters: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    labelled: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for representation in results["representation"].unique():
        embedding = read_npz(workspace.embedding(representation, seed))
        covered = np.all(np.isfinite(embedding["embedding"]), axis=1)
        try:
            coordinates = pca_2d(embedding["embedding"][covered])
        except FigureSkipped:
            continue
        track_ids = embedding["track_id"][covered]
        labels = read_parquet(workspace.labels(representation, _first_algorithm(results, representation)))
        clusters[representation] = coordinates, labels.set_index("track_id").loc[track_ids, f"seed_{seed}"].to_numpy()
        if label_columns:
            labelled[representation] = coordinates, by_id.loc[track_ids, label_columns[0]].to_numpy(dtype=object)
    figures = []
    for colouring, panels, name in (("clusters", clusters, "clusters"),
                                    (label_columns[0] if label_columns else "", labelled, "label")):
        if panels:
            path = (folder or workspace.report_dir) / f"compare-{name}.{extension}"
            plot_map_grid(panels, colouring,
                          f"every representation on its first two principal components (seed {seed})", path)
            figures.append((f"every representation (PCA of its embedding), coloured by {colouring}", path))
    return figures


def composition(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame,
                label_columns: list[str]) -> list[Figure]:
    """The best result's clusters (first seed) split by language and by each label column (the
    other representations are compared in the tables and on `comparison_maps`)."""
    representation, algorithm = best_result(results)
    seed, by_id = _first_seed(results), tracks.set_index("track_id")
    columns = ["language", *[c for c in label_columns if c != "language"]]
    labels = read_parquet(workspace.labels(representation, algorithm))
    rows = by_id.loc[labels["track_id"]]
    path = workspace.report_dir / f"composition-{representation}.png"
    plot_composition(labels[f"seed_{seed}"].to_numpy(),
                     {c: rows[c].to_numpy(dtype=object) for c in columns if c in rows},
                     f"{representation} + {algorithm} (seed {seed})", path)
    return [(f"{representation} + {algorithm} (the best result): cluster composition", path)]


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
    plot_k_selection(read_parquet(workspace.k_selection), path)
    return [("k selection (mean over seeds)", path)]


def _model_input(workspace: Workspace, directory: Path) -> tuple[np.ndarray, list[str], np.ndarray] | None:
    """The saved feature array a model was trained on (log-mel patches, statistics or their
    segments), the statistics' names and the array's track ids; None when it is not a saved
    audio block (lyrics, network embeddings, feature tables)."""
    key = read_json(directory / CONFIG_FILE)["metadata"].get("input", "")
    is_mel, is_segments = key.startswith("mel-audio-"), key.endswith(SEGMENTS_SUFFIX)
    folder = workspace.root / "features" / key.removeprefix("mel-").removesuffix(SEGMENTS_SUFFIX)
    if not folder.name.startswith("audio-") or not folder.is_dir():
        return None
    meta = read_npz(folder / META_FILE)
    array = MEL_FILE if is_mel else SEGMENT_STATS_FILE if is_segments else STATS_FILE
    return np.load(folder / array, mmap_mode="r"), [str(n) for n in meta["names"]], meta["track_id"].astype(str)


def model_figures(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame) -> list[Figure]:
    """For every saved first-seed model on audio statistics or log-mel patches, loaded once:
    reconstructions of log-mel patches (models on patches) and latent traversals (models with
    `latent_traversal`, CVAE aside: it needs a condition). Shown on the analysed tracks the
    model was trained on (a run that was updated since has others too)."""
    analysed_ids = tracks.loc[tracks["status"] == "ok", "track_id"].astype(str)
    by_id = tracks.set_index(tracks["track_id"].astype(str), drop=False)
    figures = []
    for name, directory in _model_dirs(workspace, results).items():
        loaded = _model_input(workspace, directory)
        if loaded is None:
            continue
        values, names, track_ids = loaded
        rows = np.flatnonzero(np.isin(track_ids, analysed_ids))
        features = np.asarray(values)[rows]
        model = load_representation(directory)
        patches = features.ndim == 3 and not getattr(model, "takes_segments", False)
        if patches and hasattr(model, "reconstruct"):
            figures.append(_reconstructions(workspace, results, by_id.loc[track_ids[rows]], name, model, features))
        if hasattr(model, "latent_traversal") and getattr(model, "kind", "") != "cvae":
            figures.append(_traversals(workspace, name, model, features, None if patches else names))
    return figures


def _reconstructions(workspace: Workspace, results: pd.DataFrame, analysed: pd.DataFrame, name: str,
                     model: object, patches: np.ndarray) -> Figure:
    """Original vs reconstructed patches for one track from each of the first clusters."""
    labels = read_parquet(workspace.labels(name, _first_algorithm(results, name))).set_index("track_id")
    labels = labels.loc[analysed["track_id"].astype(str)].reset_index()
    rows = np.asarray(labels.groupby(f"seed_{_first_seed(results)}").head(1).index[:RECONSTRUCTED_TRACKS])
    originals = patches[rows]
    rebuilt = model.reconstruct(originals).reshape(originals.shape)
    path = workspace.report_dir / f"reconstructions-{name}.png"
    plot_reconstructions(originals, rebuilt, list(analysed["track_id"].iloc[rows]),
                         f"{name}: log-mel patches and their reconstructions", path)
    return f"{name}: reconstructions", path


def _traversals(workspace: Workspace, name: str, model: object, features: np.ndarray,
                feature_names: list[str] | None) -> Figure:
    """The most active latent dimensions swept from −3 to +3 around the mean code."""
    values = np.linspace(-3.0, 3.0, 7)
    codes = model.transform(features)
    dimensions = [int(d) for d in np.argsort(codes.var(axis=0))[::-1][:TRAVERSED_DIMENSIONS]]
    swept = {d: model.latent_traversal(features, d, values) for d in dimensions}
    path = workspace.report_dir / f"traversal-{name}.png"
    plot_traversals(swept, values, feature_names, f"{name}: latent traversals (most active dimensions)", path)
    return f"{name}: latent traversals", path
