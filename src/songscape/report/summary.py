"""`report/index.html`: a self-contained page (figures inlined) built from a run's artifacts."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.cluster.metrics import EXTERNAL
from songscape.report.figures import map_2d, plot_latent_map, plot_metric_bars
from songscape.report.tables import headline_metrics, summarize
from songscape.workspace import Workspace, read_npz, write_text

RUN_FILE = "run.json"

_STYLE = """
body { font-family: system-ui, 'Noto Sans Bengali', sans-serif; margin: 2em auto; max-width: 1200px;
       color: #222; padding: 0 1em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; } td:first-child, td:nth-child(2) { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.85em; }
.note { color: #555; font-size: 0.9em; }
.scroll { overflow-x: auto; }
"""


def _table(frame: pd.DataFrame) -> str:
    """An escaped HTML table that scrolls sideways instead of widening the page."""
    return f"<div class='scroll'>{frame.to_html(index=False, escape=True, border=0, na_rep='')}</div>"


def _image(path: Path, alt: str) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">'


def _list_section(title: str, items: list[str]) -> str:
    if not items:
        return ""
    shown = "".join(f"<li>{html.escape(item)}</li>" for item in items[:50])
    more = f"<li>… and {len(items) - 50} more</li>" if len(items) > 50 else ""
    return f"<h3>{html.escape(title)} ({len(items)})</h3><ul>{shown}{more}</ul>"


def _dataset_section(tracks: pd.DataFrame, run: dict) -> str:
    skipped = tracks[tracks["status"] != "ok"]
    parts = [f"<p>{len(tracks)} tracks, {len(tracks) - len(skipped)} analysed, {len(skipped)} skipped; "
             f"{int((tracks['lyrics'].fillna('') != '').sum())} with lyrics.</p>"]
    if len(skipped):
        parts.append(_table(skipped[["track_id", "path", "reason"]]))
    for column in ["language", *[c for c in run["label_columns"] if c != "language"]]:
        counts = tracks[column].fillna("(missing)").value_counts().rename_axis(column).reset_index()
        parts.append(f"<h3>{html.escape(column)}</h3>{_table(counts)}")
    parts.append(_list_section("Table rows without a track", run["rows_without_file"]))
    parts.append(_list_section("Audio files without a table row", run["files_without_row"]))
    parts.append(_list_section("Warnings", run["warnings"]))
    return "".join(parts)


def _maps(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame,
          label_columns: list[str]) -> list[tuple[str, Path]]:
    """A t-SNE map per representation (first seed), coloured by cluster and by each label."""
    seed = int(results["seed"].min())
    algorithm = str(results["algorithm"].iloc[0])
    by_id = tracks.set_index("track_id")
    figures = []
    for representation in results["representation"].unique():
        stored = read_npz(workspace.embedding(representation, seed))
        labels = pd.read_parquet(workspace.labels(representation, algorithm))[f"seed_{seed}"].to_numpy()
        covered = ~np.isnan(stored["embedding"]).any(axis=1)
        coordinates = map_2d(stored["embedding"][covered], random_state=seed)
        rows = by_id.loc[stored["track_id"][covered]]
        colourings = {f"{algorithm} cluster": labels[covered],
                      **{column: rows[column].to_numpy(dtype=object) for column in label_columns}}
        path = workspace.report_dir / f"map-{representation}.png"
        plot_latent_map(coordinates, colourings, f"{representation} (seed {seed}, t-SNE)", path)
        figures.append((representation, path))
    return figures


def _flags(results: pd.DataFrame) -> str:
    """Degenerate clusterings (one cluster > 90% of tracks, or noise > 50%) and supervised
    results, named with their seeds."""
    items = []
    for flag, meaning in (("degenerate", "degenerate (one cluster > 90% of tracks or noise > 50%)"),
                          ("supervised_leak", "scored against a column the model was given")):
        flagged = results[results[flag].astype(bool)]
        for (representation, algorithm), group in flagged.groupby(["representation", "algorithm"]):
            seeds = ", ".join(str(seed) for seed in group["seed"])
            items.append(f"{representation} + {algorithm}: {meaning}, seeds {seeds}")
    return _list_section("Flags", items) or "<p class='note'>No degenerate or supervised results.</p>"


def write_report(workspace: Workspace) -> Path:
    """Build ``report/index.html`` and its PNG figures from the artifacts in ``workspace``."""
    run = json.loads((workspace.root / RUN_FILE).read_text(encoding="utf-8"))
    tracks = pd.read_parquet(workspace.tracks)
    results = pd.read_parquet(workspace.results_parquet)
    label_columns = run["label_columns"]
    metrics = headline_metrics(label_columns)
    maps = _maps(workspace, results, tracks, label_columns)
    bars_path = workspace.report_dir / "metrics.png"
    bar_metrics = ["silhouette", *(f"nmi_{c}" for c in label_columns[:2])]
    plot_metric_bars(results, bar_metrics, bars_path)
    detail_metrics = [f"{name}_{c}" for c in label_columns for name in EXTERNAL if name not in ("nmi", "ari")]
    sections = [
        f"<h1>songscape report: {html.escape(run['name'])}</h1>",
        "<p class='note'>Mean ± standard deviation over seeds. Internal metrics are computed on "
        "non-noise tracks (see <code>coverage</code>), in each representation's own space and, with "
        "<code>_common</code>, in the standardized input features, where every representation is "
        "judged alike; external metrics count noise as a group of its own; stability is the mean "
        "pairwise ARI between seeds.</p>",
        "<h2>Results</h2>", _table(summarize(results, metrics)), _flags(results),
        _image(bars_path, "metric bars"),
        "<h2>Purity and accuracy</h2>", _table(summarize(results, detail_metrics)) if detail_metrics else "",
        "<h2>Maps</h2>", *(_image(path, f"map of {name}") for name, path in maps),
        "<h2>Dataset</h2>", _dataset_section(tracks, run),
        "<h2>Configuration</h2>", f"<pre>{html.escape(run['config_yaml'])}</pre>",
        "<p class='note'>Per-seed figures: <code>results.csv</code> beside this folder.</p>",
    ]
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>songscape: {html.escape(run['name'])}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(sections)}</body></html>")
    index = workspace.report_dir / "index.html"
    write_text(index, page)
    return index
