"""Cluster cards: typical tracks nearest the centre, label mix, ranges, and the words that set a
cluster's lyrics apart in each language (Bangla words whole, vowel signs and virama kept)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from songscape.report.cards import cluster_cards
from songscape.workspace import Workspace, write_npz, write_parquet

BN_RIVER = "নদীর বুকে নৌকা বাই, মাঝি গান গায়"
BN_RAIN = "বৃষ্টি ঝরে সারা রাত, কালো মেঘ"


def _workspace(tmp_path: Path) -> tuple[Workspace, pd.DataFrame]:
    tracks = pd.DataFrame({
        "track_id": [f"t{i}" for i in range(8)],
        "title": [f"song {i}" for i in range(8)],
        "language": ["bangla", "bangla", "english", "english", "bangla", "bangla", "english", "english"],
        "genre": ["folk", "folk", "folk", "rock", "pop", "pop", "pop", "pop"],
        "lyrics": [BN_RIVER, BN_RIVER + " স্রোত", "river boat river", "boat on the river",
                   BN_RAIN, BN_RAIN + " বজ্র", "rain and thunder", "rain all night"],
        "tempo_bpm": [90, 100, 110, 120, 130, 140, 150, 160.0],
        "loudness_db": [-20, -18, -16, -14, -12, -10, -8, -6.0],
        "path": [""] * 8,
    })
    workspace = Workspace(tmp_path)
    clusters = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    write_parquet(pd.DataFrame({"track_id": tracks["track_id"], "seed_0": clusters}), workspace.labels("pca", "kmeans"))
    embedding = np.array([[0, 0], [0.1, 0], [0.2, 0], [3, 0], [5, 5], [5.1, 5], [5, 5.1], [9, 9]], dtype=np.float32)
    write_npz(workspace.embedding("pca", 0), track_id=tracks["track_id"].to_numpy(dtype=str), embedding=embedding)
    return workspace, tracks


def test_cards_describe_each_cluster(tmp_path: Path) -> None:
    workspace, tracks = _workspace(tmp_path)
    river, rain = cluster_cards(workspace, tracks, "pca", "kmeans", ["genre"], seed=0)
    assert (river.cluster, river.size, rain.size) == (0, 4, 4)
    assert river.typical == ["t2", "t1", "t0"]  # nearest the centre (0.825, 0) first; t3 is far out
    assert river.mix["language"] == ["bangla 50%", "english 50%"] and river.mix["genre"][0] == "folk 75%"
    assert river.tempo_bpm == [93.0, 117.0] and river.loudness_db == [-19.4, -14.6]
    river_words = set(BN_RIVER.replace(",", "").split())
    assert set(river.words["bangla"]) <= river_words and {"নদীর", "নৌকা"} <= set(river.words["bangla"])  # whole words
    assert "river" in river.words["english"] and "rain" in rain.words["english"]
    assert "বৃষ্টি" in rain.words["bangla"]  # virama inside the word
    assert river.title == "cluster 0 · bangla · folk" and river.slug == "cluster-0-bangla-folk"
    assert ("tempo", "93 to 117 BPM (10th–90th percentile)") in river.facts()
