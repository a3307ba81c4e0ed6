"""How time and memory grow with the collection: synthetic feature tables of 10k, 30k and
100k tracks through the whole pipeline (read → PCA and VAE → K-Means and GMM → metrics →
report, UMAP map and interactive map), each size in a fresh process; and audio extraction
throughput on a local Dask cluster of 1 and 2 workers (loopback) against the local pool.

    .venv/bin/python benchmarks/scale.py                        # 10k, 30k, 100k + extraction
    .venv/bin/python benchmarks/scale.py --sizes 2000 4000 --clips 16

Tables come from `features_table.generate_table` (57 descriptors, 10 classes on a curved
manifold, 1% bad rows). Per size it prints wall time per stage, peak RSS of the process and
two ratios against the smallest size measured in the same run: time per track and peak RSS.
A ratio near 1 means linear growth in time; memory ratios far below n/n₀ mean memory is
dominated by fixed costs (torch, numba).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from features_table import generate_table

from songscape import pipeline
from songscape.config import validate_config

CONFIG = {
    "name": "scale", "seeds": [0], "n_clusters": 10, "label_columns": ["label"], "map_methods": ["umap"],
    "representations": [{"name": "pca", "kind": "pca", "params": {"n_components": 16}},
                        {"name": "vae", "kind": "vae", "params": {"latent_dim": 8, "epochs": 20}}],
    "clusterers": [{"name": "kmeans"}, {"name": "gmm", "params": {"covariance_type": "diag"}}],
}


def _timed(stages: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            stages[name] = stages.get(name, 0.0) + time.perf_counter() - started
    return wrapper


def one_size(table: Path, workspace: Path) -> dict[str, float]:
    """Run the pipeline on ``table`` in this process; stage times and peak RSS."""
    from rich.console import Console

    stages: dict[str, float] = {}
    for name, attribute in (("read", "load_collection"), ("grid", "run_experiment"),
                            ("report", "write_report"), ("map", "write_map")):
        setattr(pipeline, attribute, _timed(stages, name, getattr(pipeline, attribute)))
    started = time.perf_counter()
    outcome, _ = pipeline.run_pipeline(validate_config(CONFIG), pipeline.CollectionSource(None, table, features=table),
                                       workspace, Console(file=open(os.devnull, "w")))
    stages["total"] = time.perf_counter() - started
    results = outcome.results
    stages["fit"] = float(results.drop_duplicates("representation")["fit_seconds"].sum())
    stages["cluster"] = float(results["cluster_seconds"].sum())
    for representation in ("pca", "vae"):
        chosen = results.query(f"representation == '{representation}' and algorithm == 'kmeans'")
        stages[f"nmi_{representation}_kmeans"] = float(chosen["nmi_label"].iloc[0])
    stages["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return stages


def pipeline_scaling(sizes: list[int], scratch: Path) -> None:
    rows = []
    for n in sizes:
        table = generate_table(scratch / f"features-{n}.csv", n)
        output = subprocess.run([sys.executable, __file__, "--one", str(table), "--dir", str(scratch / f"run-{n}")],
                                check=True, capture_output=True, text=True).stdout
        rows.append((n, json.loads(output.strip().splitlines()[-1])))
        table.unlink()
    n0, first = rows[0]
    print("\npipeline on synthetic feature tables (57 columns, k = 10, 1 seed, PCA + VAE × K-Means + GMM, UMAP)")
    print("| tracks | read s | grid s (fit / cluster) | report s | map s | total s | s per 1k tracks "
          "| time/track ratio | peak RSS MiB | RSS ratio | NMI pca / vae + kmeans |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, stage in rows:
        print(f"| {n:,} | {stage['read']:.1f} | {stage['grid']:.1f} ({stage['fit']:.1f} / {stage['cluster']:.1f}) "
              f"| {stage['report']:.1f} | {stage['map']:.1f} | {stage['total']:.1f} | {1000 * stage['total'] / n:.2f} "
              f"| {(stage['total'] / n) / (first['total'] / n0):.2f} | {stage['peak_rss_mib']:.0f} "
              f"| {stage['peak_rss_mib'] / first['peak_rss_mib']:.2f} "
              f"| {stage['nmi_pca_kmeans']:.3f} / {stage['nmi_vae_kmeans']:.3f} |")


MALLOC_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def extraction_throughput(clips: int, scratch: Path) -> None:
    """Clips/s on the local pool and on warm local Dask clusters of 1 and 2 workers (start-up
    timed apart); the Dask features must equal the pool's bit for bit."""
    import dask
    from distributed import LocalCluster
    from extract_speed import write_clips

    from songscape.audio.decode import ExcerptSpec
    from songscape.audio.extract import extract_collection
    from songscape.audio.features import SpectralSettings
    from songscape.runners import dask_runner, local_runner

    paths = [str(p) for p in write_clips(scratch / "clips", clips, 30.0, 22050)]
    settings, excerpt = SpectralSettings(), ExcerptSpec()
    started = time.perf_counter()
    reference = extract_collection(paths, settings, excerpt, runner=local_runner(2))
    rows = [("local process pool, 2 processes", time.perf_counter() - started, float("nan"))]
    for workers in (1, 2):
        started = time.perf_counter()
        with dask.config.set({MALLOC_TRIM: None}), LocalCluster(  # see songscape.runners
                n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
            runner = dask_runner(cluster.scheduler_address)
            extract_collection(paths[:2 * workers], settings, excerpt, runner=runner)  # workers import songscape
            start_up = time.perf_counter() - started
            started = time.perf_counter()
            features = extract_collection(paths, settings, excerpt, runner=runner)
            rows.append((f"Dask LocalCluster, {workers} worker(s), loopback", time.perf_counter() - started, start_up))
        assert features.errors == reference.errors and np.array_equal(
            features.stats[reference.ok], reference.stats[reference.ok]), "Dask features differ from the pool's"
    base = rows[0][1]
    print(f"\naudio extraction, {clips} clips of 30 s (WAV/MP3, 22.05 kHz), 2 cores; features identical in every row")
    print("| runner | seconds | clips/s | throughput vs local pool | cluster start-up + first jobs s |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds, start_up in rows:
        print(f"| {name} | {seconds:.1f} | {clips / seconds:.1f} | {base / seconds:.2f} | {start_up:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--clips", type=int, default=64, help="clips for the extraction comparison (0: skip)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.dir)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        pipeline_scaling(sorted(args.sizes), Path(scratch))
        if args.clips:
            extraction_throughput(args.clips, Path(scratch))


if __name__ == "__main__":
    main()
