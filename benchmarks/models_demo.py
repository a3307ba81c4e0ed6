"""Every model of the VAE family on the demo corpus against PCA and raw features: NMI/ARI
against `style` and `language` (K-Means, k = 4, and VaDE's own posterior), training time.

    .venv/bin/python benchmarks/models_demo.py                  # 240 tracks, 3 seeds
    .venv/bin/python benchmarks/models_demo.py --workspace runs/models   # keep and reuse

The extra column `nmi_joint16` clusters each embedding with K-Means at k = 16 and scores it
against the style × language pair: the one number that rewards holding both at once.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rich.console import Console
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from songscape.collection import load_collection
from songscape.config import validate_config
from songscape.demo import DemoSettings, write_demo_corpus
from songscape.experiment import run_experiment
from songscape.report.tables import summarize
from songscape.workspace import Workspace, read_npz

LABELS = ["style", "language"]
REPRESENTATIONS = [
    {"name": "raw", "kind": "raw"},
    {"name": "pca", "kind": "pca", "params": {"n_components": 16}},
    {"name": "ae", "kind": "ae", "params": {"latent_dim": 8}},
    {"name": "vae", "kind": "vae", "params": {"latent_dim": 8}},
    {"name": "beta-vae", "kind": "vae", "params": {"latent_dim": 8, "beta": 4.0}},
    {"name": "beta-vae-capacity", "kind": "vae",
     "params": {"latent_dim": 8, "beta": 20.0, "capacity_max": 12.0, "capacity_epochs": 60}},
    {"name": "cvae-language", "kind": "cvae", "condition": "language", "params": {"latent_dim": 8}},
    {"name": "conv-vae", "kind": "conv-vae", "input": "mel", "params": {"latent_dim": 16}},
    {"name": "mvae", "kind": "mvae", "input": "multimodal", "params": {"latent_dim": 16}},
    {"name": "vade", "kind": "vade", "params": {"latent_dim": 8}},
    {"name": "vade-diag", "kind": "vade", "params": {"latent_dim": 8, "covariance_type": "diag"}},
    {"name": "lyrics", "kind": "raw", "input": "lyrics"},
]


def joint_nmi(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame) -> dict[str, float]:
    """Mean over seeds of NMI(K-Means k=16 on the embedding, style × language)."""
    joint = (tracks.set_index("track_id")["style"].astype(str) + "/"
             + tracks.set_index("track_id")["language"].astype(str))
    scores: dict[str, float] = {}
    for name in results["representation"].unique():
        values = []
        for seed in sorted(results["seed"].unique()):
            stored = read_npz(workspace.embedding(name, int(seed)))
            rows = np.all(np.isfinite(stored["embedding"]), axis=1)
            labels = KMeans(16, n_init=10, random_state=int(seed)).fit_predict(stored["embedding"][rows])
            values.append(normalized_mutual_info_score(joint.loc[stored["track_id"][rows]], labels))
        scores[name] = float(np.mean(values))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=240)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--only", nargs="*", help="representation names to run (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.workspace or Path(scratch)
        table = write_demo_corpus(root / "corpus", DemoSettings(tracks=args.tracks))
        specs = [s for s in REPRESENTATIONS if not args.only or s["name"] in args.only]
        config = validate_config({"name": "models-demo", "representations": specs,
                                  "clusterers": [{"name": "kmeans"}], "seeds": list(range(args.seeds)),
                                  "n_clusters": 4, "label_columns": LABELS,
                                  "audio": {"excerpt_seconds": 8.5}})
        collection = load_collection(table.parent, table, label_columns=LABELS)
        workspace = Workspace(root / "run")
        started = time.perf_counter()
        outcome = run_experiment(config, collection, workspace, log=lambda message: None)
        elapsed = time.perf_counter() - started
        results = outcome.results
        metrics = [f"{m}_{c}" for c in LABELS for m in ("nmi", "ari")]
        summary = summarize(results, metrics, digits=2)
        grouped = results.groupby(["representation", "algorithm"], sort=False)
        summary["train_s"] = [f"{s:.1f}" for s in grouped["fit_seconds"].mean()]
        summary["leak"] = ["language" if leak else "" for leak in grouped["supervised_leak"].first()]
        joint = joint_nmi(workspace, results, outcome.tracks)
        summary["nmi_joint16"] = [f"{joint[name]:.2f}" for name in summary["representation"]]
        per_seed_fit = results.drop_duplicates(["representation", "seed"])["fit_seconds"]
    Console(width=200).print(
        f"{args.tracks} tracks, {args.seeds} seeds, k = 4, torch threads {torch.get_num_threads()}; "
        f"all models trained in {per_seed_fit.sum():.0f} s "
        f"({outcome.models_trained} trained, {outcome.models_reused} reused); run {elapsed:.0f} s")
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
