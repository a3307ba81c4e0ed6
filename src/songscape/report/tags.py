"""Clusters described by their most typical tags of the pretrained network (AudioSet classes or
musicnn tags, when the run computed them)."""

from __future__ import annotations

import pandas as pd

TAGS_SHOWN = 3
MIN_MEAN_PROBABILITY = 0.005  # rarer tags are left out: their lift is noise ("Turkey ×6" in a soundtrack)


def typical_tags(tags: pd.DataFrame, clusters: pd.Series, shown: int = TAGS_SHOWN) -> dict[int, list[str]]:
    """Per cluster (−1: noise), the ``shown`` tags whose mean probability in the cluster is
    highest relative to the whole collection, as "piano (×2.1)" (the lift: ×2 means twice as
    likely as usual). ``tags`` is indexed by track id (one column per tag); ``clusters`` maps
    track ids to clusters; tracks without tags (added by an update) are left out, and so are
    tags whose mean probability over the collection is below `MIN_MEAN_PROBABILITY`."""
    tags = tags.astype(float).reindex(clusters.index).dropna()
    clusters = clusters.loc[tags.index]
    overall = tags.mean(axis=0)
    tags = tags.loc[:, overall >= MIN_MEAN_PROBABILITY]
    overall = overall[tags.columns]
    described = {}
    for cluster, members in tags.groupby(clusters.to_numpy(), sort=True):
        lift = members.mean(axis=0) / overall
        best = lift.sort_values(ascending=False, kind="stable").head(shown)
        described[int(cluster)] = [f"{tag} (×{value:.1f})" for tag, value in best.items()]
    return described
