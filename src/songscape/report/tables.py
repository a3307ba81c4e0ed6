"""Result tables: mean ± std over seeds, for the terminal, the HTML report and Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from songscape.cluster.metrics import INTERNAL


def headline_metrics(label_columns: list[str]) -> list[str]:
    """Metric columns shown in summaries: cluster count, coverage, internal metrics (silhouette
    also in the common input space), NMI and ARI per label column, stability over seeds."""
    return ["n_clusters", "coverage", "silhouette", "silhouette_common", *INTERNAL[1:],
            *(f"{name}_{column}" for column in label_columns for name in ("nmi", "ari")), "stability"]


def summarize(results: pd.DataFrame, metrics: list[str], digits: int = 3) -> pd.DataFrame:
    """Mean ± std over seeds per (representation, algorithm), one text cell per metric."""
    grouped = results.groupby(["representation", "algorithm"], sort=False)
    summary = grouped[metrics].agg(["mean", "std"])
    table = pd.DataFrame(index=summary.index)
    for metric in metrics:
        mean, std = summary[(metric, "mean")], summary[(metric, "std")].fillna(0.0)
        table[metric] = [f"{m:.{digits}f} ± {s:.{digits}f}" if np.isfinite(m) else "n/a"
                         for m, s in zip(mean, std)]
    table["seeds"] = grouped.size()
    return table.reset_index()
