"""How hard is the demo corpus? The `easy` preset on corpora from several generator seeds.

Prints NMI/ARI against `style` and `language` per representation (mean ± std over training
seeds) for each corpus seed, and the wall time of each stage, so that the demo's figures are
not a property of one lucky corpus.

    .venv/bin/python benchmarks/demo_corpus.py --corpus-seeds 0 1 2
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
from songscape.report.tables import summarize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tracks", type=int, default=240)
    parser.add_argument("--seeds", type=int, default=3, help="training/clustering seeds")
    args = parser.parse_args()
    console = Console(width=160)
    quiet = Console(quiet=True)
    metrics = ["nmi_style", "ari_style", "nmi_language"]
    for corpus_seed in args.corpus_seeds:
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            table = write_demo_corpus(Path(scratch) / "corpus",
                                      DemoSettings(tracks=args.tracks, seed=corpus_seed))
            generated = time.perf_counter() - started
            config = preset("easy", name=f"corpus-{corpus_seed}", seeds=list(range(args.seeds)),
                            n_clusters=4, label_columns=["style", "language"])
            outcome, _ = run_pipeline(config, CollectionSource(table.parent, table),
                                      Path(scratch) / "run", quiet)
            total = time.perf_counter() - started
        summary = summarize(outcome.results, metrics)
        fit = outcome.results.groupby("representation", sort=False)["fit_seconds"].mean()
        summary["fit_s"] = [f"{fit[r]:.2f}" for r in summary["representation"]]
        console.print(f"\ncorpus seed {corpus_seed}: generated in {generated:.1f} s, "
                      f"whole run {total:.1f} s")
        console.print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
