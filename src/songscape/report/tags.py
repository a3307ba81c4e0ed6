"""Clusters described by their most typical musicnn tags (when the run computed them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from songscape.cluster.metrics import NOISE
from songscape.report.tables import best_result
from songscape.workspace import Workspace

TAGS_SHOWN = 3


def typical_tags(tags: pd.DataFrame, clusters: pd.Series, shown: int = TAGS_SHOWN) -> pd.DataFrame:
    """Per cluster, its size and the ``shown`` tags whose mean probability in the cluster is
    highest relative to the whole collection (the lift: ×2 means twice as likely as usual).
    ``tags`` is indexed by track id (one column per tag); ``clusters`` maps track ids to
    clusters (−1 = noise)."""
    tags = tags.reindex(clusters.index).dropna()  # tracks without tags (added by an update) left out
    clusters = clusters.loc[tags.index]
    overall = tags.mean(axis=0).clip(lower=1e-6)
    rows = []
    for cluster, members in tags.groupby(clusters.to_numpy(), sort=True):
        lift = members.mean(axis=0) / overall
        best = lift.sort_values(ascending=False, kind="stable").head(shown)
        rows.append({"cluster": "noise" if cluster == NOISE else int(cluster), "tracks": len(members),
                     "most typical tags (lift)": ", ".join(f"{tag} (×{value:.1f})" for tag, value in best.items())})
    return pd.DataFrame(rows)


def cluster_tags(workspace: Workspace, results: pd.DataFrame, label_columns: list[str]) -> tuple[str, pd.DataFrame] | None:
    """The best result's clusters (first seed) described by musicnn tags, with its
    "representation + algorithm" title; None when the run has no tags."""
    if not workspace.track_tags.exists():
        return None
    representation, algorithm = best_result(results, label_columns)
    seed = int(results["seed"].min())
    labels = pd.read_parquet(workspace.labels(representation, algorithm)).set_index("track_id")[f"seed_{seed}"]
    tags = pd.read_parquet(workspace.track_tags).set_index("track_id")
    described = typical_tags(tags.astype(np.float64), labels)
    return f"{representation} + {algorithm}", described
