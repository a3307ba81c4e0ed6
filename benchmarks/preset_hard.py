"""The `hard` preset (or another) on the full demo corpus: prints its results table.

    .venv/bin/python benchmarks/preset_hard.py                 # 240 tracks, 3 seeds
    .venv/bin/python benchmarks/preset_hard.py --preset medium
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console

from songscape.config import preset
from songscape.demo import DemoSettings, write_demo_corpus
from songscape.pipeline import CollectionSource, run_pipeline
from songscape.report.tables import headline_metrics, summarize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="hard")
    parser.add_argument("--tracks", type=int, default=240)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        table = write_demo_corpus(Path(scratch) / "corpus", DemoSettings(tracks=args.tracks))
        config = preset(args.preset, name=f"demo-{args.preset}", seeds=list(range(args.seeds)),
                        n_clusters=4, label_columns=["style", "language"],
                        audio={"excerpt_seconds": 8.5})
        outcome, _ = run_pipeline(config, CollectionSource(table.parent, table), Path(scratch) / "run",
                                  Console(quiet=True))
        elapsed = time.perf_counter() - started
    metrics = [m for m in headline_metrics(outcome.label_columns) if m not in ("coverage",)]
    summary = summarize(outcome.results, metrics, digits=2)
    summary["fit_s"] = [f"{s:.1f}" for s in outcome.results.groupby(["representation", "algorithm"], sort=False)["fit_seconds"].mean()]
    summary["degenerate"] = outcome.results.groupby(["representation", "algorithm"], sort=False)["degenerate"].mean().to_numpy()
    Console(width=220).print(f"preset {args.preset}: {args.tracks} tracks, {args.seeds} seeds, k = 4, "
                             f"{elapsed:.0f} s in all")
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
