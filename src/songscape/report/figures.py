"""Matplotlib figures of a run: 2-D latent maps and metric bars."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402

from songscape.workspace import atomic_path  # noqa: E402

NOISE_COLOUR = "#bbbbbb"


def map_2d(embedding: np.ndarray, random_state: int = 0) -> np.ndarray:
    """Seeded t-SNE of ``embedding`` to two dimensions (PCA initialisation)."""
    n = len(embedding)
    if embedding.shape[1] <= 2:
        return np.pad(embedding, ((0, 0), (0, 2 - embedding.shape[1])))
    perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state
                ).fit_transform(embedding.astype(np.float64))


def _save(figure: plt.Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)


def plot_latent_map(coordinates: np.ndarray, colourings: dict[str, np.ndarray], title: str,
                    path: Path) -> None:
    """One scatter panel per colouring (cluster, then each label column); noise in grey."""
    figure, axes = plt.subplots(1, len(colourings), figsize=(4.6 * len(colourings), 4.4),
                                squeeze=False)
    palette = plt.get_cmap("tab10" if max(len(set(v)) for v in colourings.values()) <= 10 else "tab20")
    for axis, (name, values) in zip(axes[0], colourings.items()):
        values = pd.Series(values, dtype=object).fillna("(missing)").astype(str).to_numpy()
        for index, value in enumerate(sorted(set(values))):
            chosen = values == value
            colour = NOISE_COLOUR if value == "-1" else palette(index % palette.N)
            axis.scatter(coordinates[chosen, 0], coordinates[chosen, 1], s=12, color=colour,
                         label="noise" if value == "-1" else value, alpha=0.85, linewidths=0)
        axis.set_title(f"coloured by {name}")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.legend(fontsize=7, markerscale=1.5, loc="best", frameon=False)
    figure.suptitle(title)
    _save(figure, path)


def plot_metric_bars(results: pd.DataFrame, metrics: list[str], path: Path) -> None:
    """Mean ± std over seeds of each metric, one bar per representation × algorithm."""
    grouped = results.groupby(["representation", "algorithm"], sort=False)[metrics]
    mean, std = grouped.mean(), grouped.std().fillna(0.0)
    names = [f"{r}\n{a}" for r, a in mean.index]
    figure, axes = plt.subplots(1, len(metrics), figsize=(max(4.0, 1.1 * len(names)) * len(metrics) / 1.6, 3.8),
                                squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        axis.bar(range(len(names)), mean[metric], yerr=std[metric], capsize=3, color="#4c72b0")
        axis.set_xticks(range(len(names)), names, fontsize=8)
        axis.set_title(metric)
    figure.tight_layout()
    _save(figure, path)
