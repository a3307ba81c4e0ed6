"""Pretrained musicnn embeddings against MFCC statistics on real audio given by path.

    .venv/bin/python benchmarks/audio_embeddings.py --audio ../shared/data/jamendo-cc-20 \
        --table ../shared/data/jamendo-cc-20/tracks.csv --label tag

For each representation (MFCC mean + std, all 174 songscape statistics, MTT_musicnn and
MSD_musicnn penultimate features averaged over a track's 3-s patches), on the standardized
features: leave-one-out 1-NN accuracy against the label (over tracks whose label occurs at
least twice: a singleton has no correct neighbour), silhouette of the label groups (same
tracks), and K-Means ARI against the label (k = number of labels, all tracks, mean ± std over
10 seeds). Speed: clips per second of decoding + features on this machine's cores (the 30-s
centre excerpt of each track), statistics and musicnn timed in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from songscape.audio.decode import ExcerptSpec
from songscape.audio.features import SpectralSettings, stat_names
from songscape.audio.musicnn import SAMPLE_RATE, Musicnn
from songscape.audio.tagging import file_tags
from songscape.audio.track import extract_track
from songscape.collection import AUDIO_EXTENSIONS


def one_nn_accuracy(X: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out 1-NN accuracy (Euclidean)."""
    neighbours = NearestNeighbors(n_neighbors=2).fit(X).kneighbors(X, return_distance=False)[:, 1]
    return float((labels[neighbours] == labels).mean())


def scores(X: np.ndarray, labels: np.ndarray, seeds: int = 10) -> dict[str, str]:
    X = StandardScaler().fit_transform(X)
    counts = pd.Series(labels).value_counts()
    repeated = np.isin(labels, counts[counts >= 2].index)
    aris = [adjusted_rand_score(labels, KMeans(len(counts), n_init=10, random_state=seed).fit_predict(X))
            for seed in range(seeds)]
    return {"1-NN accuracy": f"{one_nn_accuracy(X[repeated], labels[repeated]):.2f}",
            "silhouette of labels": f"{silhouette_score(X[repeated], labels[repeated]):.3f}",
            "K-Means ARI": f"{np.mean(aris):.3f} ± {np.std(aris):.3f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, required=True, help="folder of audio files")
    parser.add_argument("--table", type=Path, help="CSV with a file column and the label (default: <audio>/tracks.csv)")
    parser.add_argument("--label", default="tag")
    parser.add_argument("--file-column", default="file")
    args = parser.parse_args()
    table = pd.read_csv(args.table or args.audio / "tracks.csv", dtype=str).fillna("")
    table = table[table[args.file_column].map(lambda f: (args.audio / f).suffix.lower() in AUDIO_EXTENSIONS)]
    paths = [str(args.audio / name) for name in table[args.file_column]]
    labels = table[args.label].to_numpy()
    excerpt, settings = ExcerptSpec("centre", 30.0), SpectralSettings()
    print(f"{len(paths)} tracks, {table[args.label].nunique()} labels ({args.label}); 30-s centre excerpts; "
          f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}")

    started = time.perf_counter()
    stats = np.stack([extract_track(path, settings, excerpt).stats for path in paths])
    stats_seconds = time.perf_counter() - started
    names = stat_names(settings)
    mfcc = stats[:, [i for i, name in enumerate(names) if re.fullmatch(r"mfcc\d\d_(mean|std)", name)]]
    features = {"MFCC mean + std": (mfcc, stats_seconds), "songscape statistics (174)": (stats, stats_seconds)}
    for model in ("MTT_musicnn", "MSD_musicnn"):
        tagger = Musicnn(model)
        tagger.track(np.zeros(SAMPLE_RATE * 3, np.float32))  # warm-up
        started = time.perf_counter()
        embeddings = np.stack([file_tags(tagger, path, excerpt).embedding for path in paths])
        features[f"{model} (200)"] = (embeddings, time.perf_counter() - started)
    print("\n| representation | dims | 1-NN accuracy | silhouette of labels | K-Means ARI | clips/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (values, seconds) in features.items():
        row = scores(values, labels)
        print(f"| {name} | {values.shape[1]} | {row['1-NN accuracy']} | {row['silhouette of labels']} "
              f"| {row['K-Means ARI']} | {len(paths) / seconds:.2f} |")
    print("\n(statistics clips/s: MFCC and the 174 statistics come from the same single pass)")


if __name__ == "__main__":
    main()
