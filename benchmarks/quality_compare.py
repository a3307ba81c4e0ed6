"""Did a change keep the quality? Two `real_quality.py` caches (``--work`` of a run before the
change and of one after it) compared set by set: the NMI of every representation × clusterer,
mean ± std over the seeds, before and after, and whether the change of the mean lies within
the seeds' spread (the larger of the two standard deviations).

    .venv/bin/python benchmarks/quality_compare.py --before /work/data/rq-before --after /work/data/rq-after
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

LABELS = {"debian-music": "source", "debian-music-xl": "source", "jamendo-cc-20": "tag"}


def nmi_by_result(results: pd.DataFrame, label: str) -> pd.DataFrame:
    """NMI mean and std over seeds per representation × algorithm (consensus rows aside: one
    labeling repeated per seed, no spread)."""
    per_seed = results[~results["algorithm"].str.startswith("consensus-")]
    return per_seed.groupby(["representation", "algorithm"])[f"nmi_{label}"].agg(["mean", "std"])


def compared(before: pd.DataFrame, after: pd.DataFrame, label: str) -> pd.DataFrame:
    """One row per result in both runs: before and after (mean, std), the change and whether
    it is within the seeds' spread."""
    table = pd.merge(nmi_by_result(before, label), nmi_by_result(after, label), left_index=True, right_index=True,
                     suffixes=(" before", " after"))
    table["change"] = table["mean after"] - table["mean before"]
    spread = table[["std before", "std after"]].max(axis=1)
    table["within std"] = table["change"].abs() <= spread
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--sets", nargs="*", default=list(LABELS))
    args = parser.parse_args()
    for name in args.sets:
        paths = [folder / name / "results.parquet" for folder in (args.before, args.after)]
        if not all(path.exists() for path in paths):
            continue
        table = compared(*(pd.read_parquet(path) for path in paths), LABELS[name])
        print(f"\n## {name} (NMI by {LABELS[name]}): {int(table['within std'].sum())} of {len(table)} within the "
              f"seeds' std; mean change {table['change'].mean():+.3f}")
        print(table.round(3).to_string())


if __name__ == "__main__":
    main()
