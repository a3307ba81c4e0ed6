"""`report/index.html`: a self-contained page (figures inlined) built from a run's artifacts."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd
import yaml

from songscape.cluster.metrics import EXTERNAL
from songscape.report import gallery
from songscape.report.cards import ClusterCard, cluster_cards, display_names
from songscape.report.explorer import audio_source
from songscape.report.figures import plot_metric_bars
from songscape.plaintext import printable
from songscape.report.tables import (
    best_result,
    choice_note,
    headline_metrics,
    markdown_text,
    summarize,
    to_latex,
    to_markdown,
)
from songscape.workspace import Workspace, read_json, read_parquet, write_text

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
figure { margin: 0 0 1.2em; } figcaption { color: #555; font-size: 0.85em; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.4em 1em; font-size: 0.9em; }
.card dt { font-weight: 600; margin-top: 0.3em; } .card dd { margin-left: 0.8em; }
.card audio { height: 2em; vertical-align: middle; max-width: 100%; }
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


def _card_html(card: ClusterCard, tracks: pd.DataFrame, report_dir: Path) -> str:
    """One cluster card: size, playable typical tracks, tags, label mix, ranges and words."""
    escape = html.escape
    rows = [f"<p class='note'>{card.size} tracks</p>"]
    typical = []
    for track_id in card.typical:
        track = tracks.loc[track_id]
        source = audio_source(str(track.get("path") or ""), report_dir, embed=False)
        player = f"<audio controls preload='none' src='{escape(source)}'></audio>" if source else ""
        typical.append(f"<li>{escape(str(display_names(tracks.loc[[track_id]]).iloc[0]))} {player}</li>")
    rows.append(f"<p>Most typical:</p><ul>{''.join(typical)}</ul>")
    rows.append("<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in card.facts()) + "</dl>")
    return f"<section class='card' id='card-{card.cluster}'><h3>{escape(card.title)}</h3>{''.join(rows)}</section>"


def _cards_section(workspace: Workspace, results: pd.DataFrame, tracks: pd.DataFrame,
                   label_columns: list[str]) -> str:
    """A card for every cluster of the run's best result (first seed)."""
    representation, algorithm = best_result(results)
    cards = cluster_cards(workspace, tracks, representation, algorithm, label_columns, int(results["seed"].min()))
    by_id = tracks.set_index(tracks["track_id"].astype(str), drop=False)
    return (f"<h2>Clusters ({html.escape(representation)} + {html.escape(algorithm)}, first seed)</h2>"
            f"<p class='note'>{html.escape(choice_note(results, label_columns))}</p>"
            "<p class='note'>Typical tracks are nearest to their cluster's centre; tags and words are the "
            "ones most over-represented in the cluster (×2: twice as likely as usual).</p>"
            f"<div class='cards'>{''.join(_card_html(card, by_id, workspace.report_dir) for card in cards)}</div>")


def _figures(figures: list[tuple[str, Path | None]]) -> str:
    """Figures with captions; a figure without a path was skipped and shows its reason."""
    return "".join(f"<figure>{_image(path, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"
                   if path is not None else f"<p class='note'>{html.escape(caption)}</p>"
                   for caption, path in figures)


def _paper_tables(results: pd.DataFrame, label_columns: list[str]) -> dict[str, pd.DataFrame]:
    """The tables written to every format: headline results, and purity / accuracy."""
    detail = [f"{name}_{c}" for c in label_columns for name in EXTERNAL if name not in ("nmi", "ari")]
    tables = {"Results": summarize(results, headline_metrics(label_columns))}
    if detail:
        tables["Purity and accuracy"] = summarize(results, detail)
    return tables


def write_tables(workspace: Workspace, tables: dict[str, pd.DataFrame], run_name: str) -> tuple[Path, Path]:
    """``report/results.md`` and ``report/tables.tex`` with the same tables as the page."""
    markdown = [f"# songscape results: {markdown_text(run_name)}\n",
                "Mean ± standard deviation over seeds (see `results.csv` for each seed).\n"]
    latex = ["% songscape results; needs \\usepackage{booktabs,graphicx}\n"]
    for index, (title, table) in enumerate(tables.items()):
        markdown += [f"## {title}\n", to_markdown(table)]
        latex.append(to_latex(table, f"{title} ({run_name}); mean ± std over seeds",
                              f"tab:songscape-{index}"))
    md_path, tex_path = workspace.report_dir / "results.md", workspace.report_dir / "tables.tex"
    write_text(md_path, "\n".join(markdown))
    write_text(tex_path, "\n".join(latex))
    return md_path, tex_path


def write_report(workspace: Workspace) -> Path:
    """Build ``report/index.html`` (self-contained: figures inlined), ``results.md`` and
    ``tables.tex`` from the artifacts in ``workspace``; nothing is retrained. The latent maps
    use the run's ``map_methods`` (UMAP and t-SNE unless the config says otherwise)."""
    run = read_json(workspace.root / RUN_FILE)
    map_methods = (yaml.safe_load(run["config_yaml"]) or {}).get("map_methods", ["umap", "tsne"])
    tracks = read_parquet(workspace.tracks)
    results = read_parquet(workspace.results_parquet)
    label_columns = run["label_columns"]
    bars_path = workspace.report_dir / "metrics.png"
    plot_metric_bars(results, ["silhouette", *(f"nmi_{c}" for c in label_columns[:2])], bars_path)
    tables = _paper_tables(results, label_columns)
    write_tables(workspace, tables, run["name"])
    sections = [
        f"<h1>songscape report: {html.escape(run['name'])}</h1>",
        "<p><a href='map.html'>Open the interactive map</a> (colour by cluster or label, click a "
        "point to play its track). The same tables: <a href='results.md'>results.md</a>, "
        "<a href='tables.tex'>tables.tex</a>.</p>",
        "<p class='note'>Mean ± standard deviation over seeds. Internal metrics are computed on "
        "non-noise tracks (see <code>coverage</code>), in each representation's own space and, with "
        "<code>_common</code>, in the standardized input features, where every representation is "
        "judged alike; external metrics count noise as a group of its own; stability is the mean "
        "pairwise ARI between seeds.</p>",
        *(f"<h2>{html.escape(title)}</h2>{_table(table)}" for title, table in tables.items()),
        _flags(results), _image(bars_path, "metric bars"),
        _cards_section(workspace, results, tracks, label_columns),
        "<h2>Maps</h2>", _figures(gallery.latent_maps(workspace, results, tracks, label_columns, list(map_methods))
                                  + gallery.comparison_maps(workspace, results, tracks, label_columns)),
        "<h2>Cluster composition</h2>", _figures(gallery.composition(workspace, results, tracks, label_columns)),
        "<h2>Models</h2>", _figures(gallery.training_curves(workspace, results)
                                    + gallery.model_figures(workspace, results, tracks)),
        "<h2>Choosing k</h2>", _figures(gallery.k_selection(workspace))
        or "<p class='note'>k was set by the run (no automatic choice).</p>",
        "<h2>Dataset</h2>", _dataset_section(tracks, run),
        "<h2>Configuration</h2>", f"<pre>{html.escape(run['config_yaml'])}</pre>",
        "<p class='note'>Per-seed figures: <code>results.csv</code> beside this folder.</p>",
    ]
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>songscape: {html.escape(run['name'])}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(sections)}</body></html>")
    index = workspace.report_dir / "index.html"
    write_text(index, printable(page))  # no control or bidi-override character from the user's text
    return index
