"""songscape's results for a beets library: what the songscape beets plugin
(`beetsplug/songscape.py`, ``beet songscape RUN``) writes on each item, found by the item's
file path."""

from __future__ import annotations

from pathlib import Path

from songscape.filenames import file_path
from songscape.library import SavedRun
from songscape.report.cards import cluster_cards
from songscape.report.figures import FigureSkipped
from songscape.report.gallery import layout
from songscape.workspace import read_parquet

ATTRIBUTES = ("songscape_cluster", "songscape_cluster_name", "songscape_x", "songscape_y")


def item_attributes(run_dir: Path, representation: str | None = None,
                    algorithm: str | None = None) -> dict[Path, dict[str, object]]:
    """By each analysed track's resolved file path: its cluster in the run's best result (or
    ``representation`` + ``algorithm``; first seed), the cluster's name (its card's title) and
    its position on the run's map (UMAP, as `map.html` draws it; absent when the embedding
    cannot be mapped)."""
    run = SavedRun.open(run_dir)
    representation, algorithm = run.choose(representation, algorithm)
    seed = int(run.results["seed"].min())
    clusters = read_parquet(run.workspace.labels(representation, algorithm)).set_index("track_id")[f"seed_{seed}"]
    names = {card.cluster: card.title for card in cluster_cards(run.workspace, run.tracks, representation,
                                                                 algorithm, run.label_columns, seed)}
    try:
        track_ids, coordinates = layout(run.workspace, representation, seed, "umap")
        positions = {str(track_id): (float(x), float(y)) for track_id, (x, y) in zip(track_ids, coordinates)}
    except FigureSkipped:
        positions = {}
    paths = run.tracks.set_index(run.tracks["track_id"].astype(str))["path"].fillna("").astype(str)
    attributes: dict[Path, dict[str, object]] = {}
    for track_id, cluster in clusters.items():
        stored = paths.get(str(track_id), "")
        if not stored:
            continue
        values: dict[str, object] = {"songscape_cluster": int(cluster), "songscape_cluster_name": names.get(int(cluster), "")}
        if str(track_id) in positions:
            values["songscape_x"], values["songscape_y"] = positions[str(track_id)]
        attributes[file_path(stored).resolve()] = values
    return attributes
