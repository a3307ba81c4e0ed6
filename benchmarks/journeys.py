"""How smooth `songscape mix` and `songscape path` are on a finished run: the length of each
step (the distance between consecutive tracks in the run's track space, as `similar` scores
them), against the same number of tracks in random order and, for a mix, against `similar`'s
top-k played in rank order; and whether the listed tracks share the first track's label.

    .venv/bin/python benchmarks/journeys.py --run songscape-runs/debian-music [--label source] [--starts 10]

Prints, per list kind, the mean over starts (or pairs) of each list's mean and largest step,
and the share of tracks with the first track's label; then how far a track's nearest other
track is on average (no step can be shorter).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.journeys import mix, path
from songscape.library import SavedRun
from songscape.search import similar
from songscape.track_space import track_space


def steps(vectors: np.ndarray) -> np.ndarray:
    """The lengths of the steps between consecutive rows."""
    return np.linalg.norm(np.diff(vectors, axis=0), axis=1)


def summary(name: str, lists: list[list[str]], position: dict[str, int], vectors: np.ndarray,
            labels: pd.Series | None) -> dict[str, object]:
    """One row of the table: mean step, largest step, share of the first track's label."""
    lengths = [steps(vectors[[position[t] for t in ids]]) for ids in lists]
    row: dict[str, object] = {"list": name, "lists": len(lists), "tracks": len(lists[0]),
                              "mean step": np.mean([s.mean() for s in lengths]),
                              "largest step": np.mean([s.max() for s in lengths])}
    if labels is not None:
        row["same label as first"] = np.mean([np.mean(labels.loc[ids[1:]].to_numpy() == labels.loc[ids[0]])
                                              for ids in lists])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="A finished run folder.")
    parser.add_argument("--label", help="A label column to count agreement with the first track.")
    parser.add_argument("--starts", type=int, default=10, help="Start tracks (and track pairs) drawn.")
    parser.add_argument("--mix-tracks", type=int, default=15)
    parser.add_argument("--path-tracks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run = SavedRun.open(args.run)
    space = track_space(run)
    position = {track_id: i for i, track_id in enumerate(space.ids)}
    labels = run.tracks.set_index("track_id")[args.label].astype(str) if args.label else None
    rng = np.random.default_rng(args.seed)
    starts = rng.choice(space.ids, size=min(args.starts, len(space.ids)), replace=False)
    count = args.mix_tracks
    mixes = [list(mix(args.run, start, count, seed=args.seed)["track_id"]) for start in starts]
    nearest = [[start, *similar(args.run, start, count - 1)["track_id"]] for start in starts]
    shuffled = [[start, *rng.choice(np.setdiff1d(space.ids, [start]), count - 1, replace=False)] for start in starts]
    pairs = [rng.choice(space.ids, 2, replace=False) for _ in starts]
    paths = [list(path(args.run, a, b, args.path_tracks)["track_id"]) for a, b in pairs]
    random_paths = [[a, *rng.choice(np.setdiff1d(space.ids, [a, b]), args.path_tracks - 2, replace=False), b]
                    for a, b in pairs]
    rows = [summary(f"mix ({space.representation})", mixes, position, space.vectors, labels),
            summary("similar's top-k in rank order", nearest, position, space.vectors, labels),
            summary("random order", shuffled, position, space.vectors, labels),
            summary("path", paths, position, space.vectors, labels),
            summary("random list between the same ends", random_paths, position, space.vectors, labels)]
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    gaps = np.linalg.norm(space.vectors[:, None] - space.vectors[None], axis=2) if len(space.ids) <= 5000 else None
    if gaps is not None:  # the floor of any step: how far a track's nearest other track is
        np.fill_diagonal(gaps, np.inf)
        print(f"nearest other track: {gaps.min(axis=1).mean():.3f} on average ({len(space.ids)} tracks)")


if __name__ == "__main__":
    main()
