"""The `easy`- and `hard`-style comparisons on a precomputed feature table given by path:
NMI/ARI of every method against the table's label column (mean ± std over seeds).

    .venv/bin/python benchmarks/features_table.py --features features_30_sec.csv --label label
    .venv/bin/python benchmarks/features_table.py --generate 1000   # a table with known structure

`--generate N` writes (and uses) a table like GTZAN's `features_30_sec.csv`: N rows, an id
column, 57 numeric descriptors and a `label` column with 10 classes. The classes lie on a
curved 6-D manifold (not linearly separable blobs), each descriptor mixes the manifold
coordinates through a random nonlinearity with its own scale and offset, plus noise; 1% of
the rows carry a missing or infinite value and must be reported and skipped.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from songscape.collection import load_collection
from songscape.config import validate_config
from songscape.experiment import run_experiment
from songscape.report.tables import summarize
from songscape.workspace import Workspace

METHODS = [
    {"name": "raw", "kind": "raw"},
    {"name": "pca", "kind": "pca", "params": {"n_components": 16}},
    {"name": "ae", "kind": "ae", "params": {"latent_dim": 8}},
    {"name": "vae", "kind": "vae", "params": {"latent_dim": 8}},
    {"name": "beta-vae", "kind": "vae", "params": {"latent_dim": 8, "beta": 4.0}},
    {"name": "vade", "kind": "vade", "params": {"latent_dim": 8}},
]
CLUSTERERS = [{"name": "kmeans"}, {"name": "agglomerative"}, {"name": "spectral"}, {"name": "gmm"}]


def generate_table(path: Path, n: int, seed: int = 0, n_classes: int = 10, n_columns: int = 57) -> Path:
    """A feature table with known class structure (see the module docstring)."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, n_classes, n)
    angle = 2 * np.pi * label / n_classes + rng.normal(0, 0.12, n)  # classes around a ring ...
    radius = 3 + 0.6 * np.sin(3 * angle) + rng.normal(0, 0.25, n)
    height = rng.normal(0, 1, (n, 4)) + rng.normal(0, 1.2, (n_classes, 4))[label]  # ... and offsets
    manifold = np.column_stack([radius * np.cos(angle), radius * np.sin(angle), height])
    mixing = rng.normal(0, 1, (manifold.shape[1], n_columns))
    scales = 10 ** rng.uniform(-2, 3, n_columns)
    values = (np.tanh(manifold @ mixing / 3) + 0.15 * rng.normal(0, 1, (n, n_columns))) * scales
    values += rng.uniform(-1, 1, n_columns) * scales * 3
    frame = pd.DataFrame(values, columns=[f"descriptor_{i:02d}" for i in range(n_columns)])
    frame.insert(0, "filename", [f"class{c}.{i:05d}.wav" for i, c in enumerate(label)])
    frame["label"] = [f"class{c}" for c in label]
    bad = rng.choice(n, max(1, n // 100), replace=False)
    frame.loc[bad[::2], "descriptor_00"] = np.nan
    frame.loc[bad[1::2], "descriptor_01"] = np.inf
    frame.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--features", type=Path, help="CSV or Parquet feature table")
    source.add_argument("--generate", type=int, metavar="N", help="generate a table of N rows")
    parser.add_argument("--label", default="label", help="label column to score against")
    parser.add_argument("--id-column", default=None)
    parser.add_argument("--k", type=int, default=None, help="clusters (default: the label's class count)")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.features or generate_table(Path(scratch) / "features.csv", args.generate)
        collection = load_collection(features=path, id_column=args.id_column, label_columns=[args.label])
        usable = collection.tracks["status"] == "ok"
        k = args.k or int(collection.tracks.loc[usable, args.label].nunique())
        config = validate_config({"name": "features", "representations": METHODS, "clusterers": CLUSTERERS,
                                  "seeds": list(range(args.seeds)), "n_clusters": k,
                                  "label_columns": [args.label]})
        started = time.perf_counter()
        outcome = run_experiment(config, collection, Workspace(Path(scratch) / "run"), log=lambda m: None)
        elapsed = time.perf_counter() - started
    summary = summarize(outcome.results, [f"nmi_{args.label}", f"ari_{args.label}"], digits=2)
    Console(width=200).print(
        f"{path.name}: {len(collection.tracks)} rows ({int((~usable).sum())} skipped), "
        f"{len(collection.feature_names)} feature columns, k = {k}, {args.seeds} seeds, {elapsed:.0f} s")
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
