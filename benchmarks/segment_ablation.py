"""Which input holds the most about a collection? Centre excerpt against segments, musicnn (MTT,
MSD) against EfficientAT mn04_as, alone and together, on a labelled folder of real audio.

    .venv/bin/python benchmarks/segment_ablation.py --audio /work/data/debian-music-xl
    .venv/bin/python benchmarks/segment_ablation.py --audio /work/data/debian-music

Each file is decoded once (whole); from it: the 30-s centre excerpt and 8 segments of 4 s over
the inner 10–90 % (`ExcerptSpec("segments", 32, 8)`, as a run cuts them), each through the
statistics, MTT_musicnn, MSD_musicnn and mn04_as; a track is the mean of its segments. Inputs
are standardized; several inputs side by side get equal weight (each divided by √width). Prints
NMI against ``labels.csv``'s ``source`` (k = the number of sources, mean of 5 seeds) for K-Means
and spectral clustering on the features and on their PCA (32), and a supervised probe
(logistic regression, 5-fold, NMI of its predictions): the ceiling a linear model reaches.
"""

from __future__ import annotations

import argparse
import os
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import normalized_mutual_info_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from songscape.audio.decode import (
    ExcerptSpec,
    SourceExcerpt,
    at_rate,
    excerpt_segments,
    read_excerpt,
    split_pieces,
)
from songscape.audio.features import SpectralSettings, track_features
from songscape.audio.track import NetworkSpec, network_input, network_rate, tagger
from songscape.models.base import Standardizer
from songscape.threads import single_thread

CUTS = {"centre": ExcerptSpec("centre", 30.0), "segments": ExcerptSpec("segments", 32.0, crops=8)}
NETWORKS = ("MTT_musicnn", "MSD_musicnn", "mn04_as")
SETTINGS = SpectralSettings()
INPUTS = [("statistics", ["stats"]), ("MTT", ["MTT_musicnn"]), ("MSD", ["MSD_musicnn"]),
          ("MTT + MSD", ["MTT_musicnn", "MSD_musicnn"]), ("mn04_as", ["mn04_as"]),
          ("MSD + mn04_as", ["MSD_musicnn", "mn04_as"]),
          ("MSD + mn04_as + statistics", ["MSD_musicnn", "mn04_as", "stats"])]
SEEDS = range(5)


def track_inputs(path: str) -> dict[str, np.ndarray]:
    """``{cut}/{input}``: the track-level vector of every input for both cuts, one decode."""
    whole = read_excerpt(Path(path), ExcerptSpec("centre", None))
    found = {}
    with single_thread():
        for cut, spec in CUTS.items():
            source = _cut(whole, spec)
            pieces = split_pieces(at_rate(source, SETTINGS.sample_rate, spec).samples, spec)
            found[f"{cut}/stats"] = np.mean([track_features(piece, SETTINGS)[0] for piece in pieces], axis=0)
            for model in NETWORKS:
                audio = split_pieces(at_rate(source, network_rate(model), spec).samples, spec)
                prepared = np.concatenate([network_input(model, piece) for piece in audio])
                found[f"{cut}/{model}"] = tagger(NetworkSpec(model)).track_patches(prepared).embedding
    return found


def _cut(whole: SourceExcerpt, spec: ExcerptSpec) -> SourceExcerpt:
    """The excerpt of an already decoded track, as `read_excerpt` would read it."""
    pieces = [whole.samples[start:start + length]
              for start, length in excerpt_segments(len(whole.samples), whole.rate, spec)]
    return SourceExcerpt(np.concatenate(pieces), whole.rate, whole.duration_s)


def side_by_side(blocks: list[np.ndarray]) -> np.ndarray:
    """Standardized blocks, each divided by √width so that each weighs the same."""
    return np.hstack([Standardizer().fit(b).transform(b) / np.sqrt(b.shape[1]) for b in blocks])


def scores(features: np.ndarray, truth: np.ndarray) -> list[float]:
    """Mean NMI of K-Means and spectral on the features and on PCA 32, and the probe's NMI."""
    k = len(set(truth))
    reduced = PCA(n_components=min(32, features.shape[1]), random_state=0).fit_transform(features)
    found = []
    for space in (features, reduced):
        found.append(np.mean([normalized_mutual_info_score(truth, KMeans(k, n_init=10, random_state=seed)
                                                           .fit_predict(space)) for seed in SEEDS]))
        found.append(np.mean([normalized_mutual_info_score(truth, SpectralClustering(
            k, affinity="nearest_neighbors", n_neighbors=10, random_state=seed, assign_labels="cluster_qr")
            .fit_predict(space)) for seed in SEEDS]))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    predicted = cross_val_predict(LogisticRegression(max_iter=2000), features, truth, cv=folds)
    return found + [normalized_mutual_info_score(truth, predicted)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, required=True, help="a folder with labels.csv (file, source)")
    args = parser.parse_args()
    labels = pd.read_csv(args.audio / "labels.csv")
    paths = [str(args.audio / name) for name in labels["file"]]
    with Pool(os.cpu_count()) as pool:
        rows = pool.map(track_inputs, paths, chunksize=1)
    truth = labels["source"].to_numpy()
    print(f"{len(paths)} tracks, {len(set(truth))} sources; NMI, mean of {len(SEEDS)} seeds\n")
    print("| input | cut | K-Means | spectral | K-Means on PCA | spectral on PCA | probe |")
    print("|---|---|---|---|---|---|---|")
    for name, parts in INPUTS:
        for cut in CUTS:
            features = side_by_side([np.stack([row[f"{cut}/{part}"] for row in rows]) for part in parts])
            print(f"| {name} | {cut} | " + " | ".join(f"{value:.3f}" for value in scores(features, truth)) + " |")


if __name__ == "__main__":
    main()
