"""One call from a folder of audio (plus an optional table) to results and a report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from songscape.collection import Collection, load_collection
from songscape.config import RunConfig
from songscape.experiment import RunOutcome, check_enough_tracks, run_experiment
from songscape.library import SavedRun
from songscape.plaintext import PlainConsole, styled
from songscape.report.explorer import write_map
from songscape.report.figures import FigureSkipped
from songscape.report.summary import RUN_FILE, write_report
from songscape.report.tables import choice_note, headline_metrics, summarize
from songscape.stage_times import StageTimes
from songscape.threads import choose_device
from songscape.workspace import Workspace, write_text


@dataclass(frozen=True)
class CollectionSource:
    """Where the collection comes from and how to read its table."""

    audio_dir: Path | None
    table: Path | None = None
    id_column: str | None = None
    lyrics_column: str | None = None
    features: Path | None = None
    exclude: tuple[str, ...] = ()  # globs of files and folders to leave out
    duration_range: tuple[float | None, float | None] = (None, None)  # seconds; None: open
    beets: Path | None = None  # a beets library file read as the table (its items are the tracks)


def _describe_collection(collection: Collection, console: Console) -> None:
    tracks = collection.tracks
    kind = ("audio files" if collection.has_audio else
            "feature-table rows" if collection.features is not None else "lyrics rows")
    features = f", {len(collection.feature_names)} feature columns" if collection.feature_names else ""
    console.print(styled(f"collection: {len(tracks)} {kind}{features}, "
                         f"{int((tracks['lyrics'] != '').sum())} with lyrics, "
                         f"label columns: {', '.join(collection.label_columns) or 'none'}"))
    for what, items in (("table rows without a track", collection.rows_without_file),
                        ("audio files without a table row", collection.files_without_row)):
        if items:
            shown = "; ".join(items[:5]) + (" …" if len(items) > 5 else "")
            console.print(styled((f"{len(items)} {what}", "yellow"), f": {shown}"))
    for warning in collection.warnings:
        console.print(styled(("warning", "yellow"), f": {warning}"))


_SHORT_HEADERS = {"n_clusters": "k", "silhouette": "silhouette", "silhouette_common": "sil. common",
                  "calinski_harabasz": "CH", "davies_bouldin": "DB"}


def results_table(outcome: RunOutcome) -> Table:
    """The mean ± std summary as a rich table for the terminal, best first by NMI against the
    first label column (by common-space silhouette without labels)."""
    in_report_only = {"coverage", "calinski_harabasz", "davies_bouldin"}
    metrics = [m for m in headline_metrics(outcome.label_columns) if m not in in_report_only]
    summary = summarize(outcome.results, metrics, digits=2)
    ranking = f"nmi_{outcome.label_columns[0]}" if outcome.label_columns else "silhouette_common"
    means = outcome.results.groupby(["representation", "algorithm"], sort=False)[ranking].mean()
    summary = summary.iloc[np.argsort(-means.fillna(-np.inf).to_numpy(), kind="stable")]
    table = Table(title=styled(f"results (mean ± std over seeds), sorted by {ranking}"))
    for column in summary.columns:
        header = _SHORT_HEADERS.get(column, column.replace("_", " ", 1))
        table.add_column(styled(header), justify="left" if column in ("representation", "algorithm") else "right")
    for row in summary.itertuples(index=False):
        table.add_row(*(styled(str(value)) for value in row))
    return table


def read_collection(source: CollectionSource, label_columns: list[str] | None) -> Collection:
    """The collection ``source`` describes, as `load_collection` reads it."""
    return load_collection(source.audio_dir, source.table, features=source.features, id_column=source.id_column,
                           lyrics_column=source.lyrics_column, label_columns=label_columns,
                           exclude=source.exclude, duration_range=source.duration_range, beets=source.beets)


def run_pipeline(config: RunConfig, source: CollectionSource, workspace_root: Path,
                 console: Console | None = None) -> tuple[RunOutcome, Path]:
    """Read the collection, run the grid, write ``run.json`` and the report; return the
    outcome and the report's path."""
    console = console or PlainConsole()
    choose_device(config.device)  # a device this machine lacks is said before any work
    times = StageTimes()
    with times.measure("collection"):
        collection = read_collection(source, config.label_columns)
    _describe_collection(collection, console)
    # too few tracks is said before the run folder is made (decoding may still leave too few)
    check_enough_tracks(int((collection.tracks["status"] == "ok").sum()), config.n_clusters, "tracks were found")
    workspace = Workspace(workspace_root)
    write_text(workspace.root / "config.yaml", config.to_yaml())
    outcome = run_experiment(config, collection, workspace, log=lambda line: console.print(styled(line)), times=times)
    run_record = {
        "name": config.name, "config_yaml": config.to_yaml(),
        # absolute: `update` may be typed in any directory
        "audio_dir": _absolute(collection.audio_dir), "table": _absolute(source.table),
        "beets": _absolute(source.beets),
        "features": _absolute(source.features),
        "id_column": source.id_column, "lyrics_column": source.lyrics_column,
        "exclude": list(source.exclude), "duration_range": list(source.duration_range),
        "label_columns": outcome.label_columns,
        "rows_without_file": collection.rows_without_file,
        "files_without_row": collection.files_without_row, "warnings": collection.warnings,
    }
    write_text(workspace.root / RUN_FILE, json.dumps(run_record, ensure_ascii=False, indent=2))
    console.print(f"models: {outcome.models_trained} trained, {outcome.models_reused} reused")
    console.print(results_table(outcome))
    console.print(styled(f"best: {choice_note(outcome.results, outcome.label_columns)}"))
    with times.measure("report"):
        report = write_report(workspace)
    try:
        with times.measure("map"):
            write_map(workspace, outcome.label_columns)
    except FigureSkipped as reason:
        console.print(styled(("map skipped", "yellow"), f": {reason}"))
    # the report reads run.json, so the record is written before it and again with the report's time
    run_record["stage_seconds"] = {stage: round(seconds, 3) for stage, seconds in times.seconds.items()}
    write_text(workspace.root / RUN_FILE, json.dumps(run_record, ensure_ascii=False, indent=2))
    console.print(times.summary())
    return outcome, report


def _absolute(path: Path | None) -> str | None:
    """A path as the run stores it: absolute (links kept as the user named them), or None."""
    return str(Path(path).absolute()) if path is not None else None


def rebuild_report(run_dir: Path) -> tuple[Path, Path]:
    """Write the report and the map of a finished run again from its artifacts."""
    run = SavedRun.open(run_dir)
    return write_report(run.workspace), write_map(run.workspace, run.label_columns)


def rebuild_map(run_dir: Path, representation: str | None = None, algorithm: str | None = None,
                embed_audio: bool = False) -> Path:
    """Write the map of a finished run again, for a chosen representation and algorithm."""
    run = SavedRun.open(run_dir)
    if representation is not None or algorithm is not None:
        representation, algorithm = run.choose(representation, algorithm)
    return write_map(run.workspace, run.label_columns, representation, algorithm, embed_audio)
