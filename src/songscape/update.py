"""`songscape update`: take a folder that has grown (or shrunk) into a finished run without
refitting. Files are matched to the run's tracks by content hash; only new and changed files
are extracted; they are encoded with the saved models and placed in the existing clusters
(`songscape.library.place`), so every other track keeps its cluster; then the report and the
map are written again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from songscape.audio.extract import CollectionFeatures, extract_tracks, track_descriptors
from songscape.audio.features import SpectralSettings
from songscape.audio.plan import AudioPlan
from songscape.cluster.algorithms import match_clusters
from songscape.cluster.metrics import NOISE
from songscape.config import RunConfig
from songscape.experiment import MODEL_POSTERIOR, NETWORK_INPUTS, PipelineError, check_enough_tracks
from songscape.library import (
    LibraryError,
    SavedRun,
    encoding_model,
    learnt_from_segments,
    model_inputs,
    place,
    placement,
)
from songscape.models import load_representation
from songscape.pipeline import CollectionSource, read_collection, rebuild_report, run_pipeline
from songscape.report.explorer import MAP_FILE
from songscape.report.summary import RUN_FILE
from songscape.runners import runner_for
from songscape.workspace import read_npz, read_parquet, write_npz, write_parquet, write_text

Log = Callable[[str], None]


@dataclass
class CollectionDiff:
    """How a folder's files relate to a run's tracks: ``carried`` maps each unchanged track's
    new id to its id in the run (the same unless the file moved), ``changed`` and ``added``
    are new ids to extract, ``deleted`` are run ids that are gone."""

    carried: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def extracted(self) -> list[str]:
        return self.changed + self.added

    @property
    def moved(self) -> list[tuple[str, str]]:
        """(id in the run, new id) of each file found again under another path."""
        return [(old, new) for new, old in self.carried.items() if new != old]

    @property
    def unchanged(self) -> bool:
        """Nothing to do: no file added, changed, deleted or moved."""
        return not (self.extracted or self.deleted) and all(new == old for new, old in self.carried.items())


def diff_tracks(old: pd.DataFrame, new: pd.DataFrame) -> CollectionDiff:
    """Match ``new`` tracks to ``old`` ones (both with ``track_id`` and ``sha1``, and ``path``
    where known): the same id and content is carried; content found under another id that is
    gone is a moved file (or the same file under a new id, which is preferred: ``x.ogg`` when
    ``x.flac`` joined it), carried too; the same id with other content is changed; anything else
    is added."""
    old_sha1 = dict(zip(old["track_id"].astype(str), old["sha1"].astype(str)))
    new_ids = set(new["track_id"].astype(str))
    gone = [track_id for track_id, sha1 in old_sha1.items() if track_id not in new_ids and sha1]
    old_path = dict(zip(old["track_id"].astype(str), old.get("path", pd.Series("", index=old.index)).astype(str)))
    gone_by_file = {(old_path[track_id], old_sha1[track_id]): track_id for track_id in gone}
    new_rows = list(zip(new["track_id"].astype(str), new["sha1"].astype(str),
                        new.get("path", pd.Series("", index=new.index)).astype(str)))
    diff = CollectionDiff()
    for track_id, sha1, path in new_rows:  # first the same file under a new id
        if track_id not in old_sha1 and (path, sha1) in gone_by_file:
            diff.carried[track_id] = gone_by_file[(path, sha1)]
    taken = set(diff.carried.values())
    gone_by_sha1 = {old_sha1[track_id]: track_id for track_id in gone if track_id not in taken}
    for track_id, sha1, _ in new_rows:
        if track_id in diff.carried:
            continue
        if old_sha1.get(track_id) == sha1:
            diff.carried[track_id] = track_id
        elif track_id not in old_sha1 and sha1 in gone_by_sha1:
            diff.carried[track_id] = gone_by_sha1.pop(sha1)
        elif track_id in old_sha1:
            diff.changed.append(track_id)
        else:
            diff.added.append(track_id)
    kept = set(diff.carried.values()) | set(diff.changed)
    diff.deleted = [track_id for track_id in old_sha1 if track_id not in kept]
    return diff


@dataclass
class UpdateSummary:
    """What `update_run` did: the diff, the placement of each extracted track in the run's
    best result (``placed``: track_id, path, status, reason, cluster) and how it placed them."""

    diff: CollectionDiff
    representation: str
    algorithm: str
    placed: pd.DataFrame
    rule: str
    seconds: float


def _table(stored: str | None, log: Log) -> Path | None:
    """The run's table, when it has one that can still be read (else said in the log: the new
    tracks get no lyrics or labels from it)."""
    if not stored:
        return None
    table = Path(stored)
    if not table.is_absolute():
        log(f"warning: this run stored its table as '{stored}', relative to the directory it was made in; "
            "new tracks get nothing from it (run again with the table to fix this)")
        return None
    if not table.is_file():
        log(f"warning: the run's table {stored} is gone; new tracks get nothing from it")
        return None
    return table


def _source(run: SavedRun, folder: Path | None, replace: bool, log: Log) -> CollectionSource:
    """The run's collection as it is now: ``folder`` (default: the run's audio folder) with
    the run's table, columns, excludes and duration limits. Another folder than the run's is
    refused unless ``replace`` (the collection moved there): update reads the whole collection
    from one folder, so files missing from ``folder`` would be deleted from the run."""
    record = run.record
    if record.get("beets"):  # the library's items now, found as the run found them
        return CollectionSource(Path(folder).absolute() if folder else None,
                                exclude=tuple(record.get("exclude", ())),
                                duration_range=tuple(record.get("duration_range", (None, None))),
                                beets=Path(record["beets"]))
    if record.get("features"):
        raise LibraryError("this run read a precomputed feature table: update needs audio files")
    if folder is None and not record.get("audio_dir"):
        raise LibraryError("this run has no audio folder: give the folder to update from")
    own = record.get("audio_dir")
    if own and not Path(own).is_absolute():  # stored by an earlier version, relative to a directory unknown now
        if folder is None:
            raise LibraryError(f"this run stored its audio folder as '{own}', relative to the directory it was made "
                               f"in: give the folder, `songscape update {run.workspace.root} FOLDER`")
        own = None  # the folder given is taken as the run's, and stored absolute
        replace = True
    if folder is not None and own and Path(folder).resolve() != Path(own).resolve() and not replace:
        raise LibraryError(f"{folder} is not this run's audio folder ({own}): put new files into {own} and run "
                           f"`songscape update {run.workspace.root}`, or, if the collection now lives in {folder}, "
                           "add --replace")
    return CollectionSource(Path(folder or own).absolute(), _table(record.get("table"), log),
                            record.get("id_column"),
                            record.get("lyrics_column"), None, tuple(record.get("exclude", ())),
                            tuple(record.get("duration_range", (None, None))))


def _updated_tracks(run: SavedRun, new: pd.DataFrame, diff: CollectionDiff, features: CollectionFeatures,
                    settings: SpectralSettings) -> pd.DataFrame:
    """The run's track table in the order of ``new``: carried rows as the run had them (under
    their new id and path), extracted rows from ``new`` with their extraction's outcome."""
    order = new["track_id"].astype(str).tolist()
    carried_ids = [t for t in order if t in diff.carried]
    carried = run.tracks.set_index("track_id", drop=False).loc[[diff.carried[t] for t in carried_ids]].copy()
    carried["track_id"] = carried_ids
    carried["path"] = new.set_index("track_id", drop=False).loc[carried_ids, "path"].to_numpy()
    extracted = _new_track_rows(new, diff.extracted, features, run.tracks.columns, settings)
    return pd.concat([carried, extracted], ignore_index=True).set_index("track_id", drop=False).loc[order].reset_index(drop=True)


def _new_track_rows(new: pd.DataFrame, ids: list[str], features: CollectionFeatures, columns: pd.Index,
                    settings: SpectralSettings) -> pd.DataFrame:
    """Rows of the run's track table for freshly extracted tracks."""
    rows = new.set_index("track_id", drop=False).loc[ids].reset_index(drop=True)
    ok = features.ok
    rows["duration_s"], rows["padded"] = features.duration_s, features.padded
    for column, values in track_descriptors(features, settings).items():
        rows[column] = values
    rows["status"] = np.where(ok & (rows["status"] == "ok"), "ok", "skipped")
    rows["reason"] = np.where(ok, rows["reason"], np.asarray(features.errors, dtype=object))
    return rows.reindex(columns=columns.union(rows.columns, sort=False))


class _Updater:
    """Rewrites one run's embeddings and labels for a diff, in the order of the analysed tracks."""

    def __init__(self, run: SavedRun, diff: CollectionDiff, order: list[str], features: CollectionFeatures,
                 ok: np.ndarray) -> None:
        self.run, self.diff, self.order, self.features, self.ok = run, diff, order, features, ok
        # nothing is written before every representation is placed: a failure leaves the run as it was
        self.pending_labels: dict[Path, dict[str, list[int]]] = {}
        self.pending_embeddings: dict[Path, np.ndarray] = {}
        self.seeds = sorted(int(s) for s in run.results["seed"].unique())

    def _merged(self, old: pd.Series, new_values: dict[str, object]) -> list[object]:
        """Values in the new track order: carried from ``old``, else ``new_values``."""
        return [old.get(carried_id(old.index, self.diff.carried[t], t)) if t in self.diff.carried else new_values[t]
                for t in self.order]

    def representation(self, representation: str, log: Log) -> None:
        """Encode and place the extracted tracks in every seed and clustering of
        ``representation``; they become noise, with a logged reason, when its input cannot be
        encoded."""
        workspace, results = self.run.workspace, self.run.results
        rows = results[results["representation"] == representation]
        input_name = str(rows["input"].iloc[0])
        try:
            models = {seed: load_representation(encoding_model(self.run, representation, seed)) for seed in self.seeds}
            reason = ""
        except LibraryError as error:
            models, reason = {}, str(error).split(";")[0]
        encodable = bool(models) and self.ok.any()
        inputs = model_inputs(self.features, input_name, learnt_from_segments(rows))[self.ok] if encodable else None
        for seed in self.seeds:
            stored = read_npz(workspace.embedding(representation, seed))
            width = stored["embedding"].shape[1]
            codes = np.full((len(self.diff.extracted), width), np.nan, dtype=np.float32)
            if encodable:
                codes[self.ok] = models[seed].transform(inputs)
            old = pd.Series(list(stored["embedding"]), index=stored["track_id"].astype(str))
            merged = self._merged(old, dict(zip(self.diff.extracted, codes)))
            embedding = np.stack([np.full(width, np.nan, np.float32) if v is None else v for v in merged])
            for algorithm in rows["algorithm"].unique():
                path = workspace.labels(representation, algorithm)
                labels = read_parquet(path).set_index("track_id")
                placed = np.full(len(codes), NOISE, dtype=np.int64)
                if encodable:
                    placed[self.ok] = place(self.run, representation, algorithm, seed, models[seed], inputs,
                                            codes[self.ok])
                column = f"seed_{seed}"
                values = self._merged(labels[column], dict(zip(self.diff.extracted, placed)))
                self.pending_labels.setdefault(path, {})[column] = [NOISE if v is None else int(v) for v in values]
            self.pending_embeddings[workspace.embedding(representation, seed)] = embedding
        if not models and self.diff.extracted:
            log(f"{representation}: new tracks not placed ({reason}); `update --refit` includes them")

    def write(self) -> None:
        """Write every embedding and labels file that `representation` prepared."""
        for path, embedding in self.pending_embeddings.items():
            write_npz(path, track_id=np.array(self.order), embedding=embedding)
        for path, columns in self.pending_labels.items():
            write_parquet(pd.DataFrame({"track_id": self.order, **columns}), path)


def carried_id(present: pd.Index, old_id: str, new_id: str) -> str:
    """Where a carried track is in a table of the run: under its id in the run, or under its new
    id where an update stopped before it finished had already renamed it."""
    return old_id if old_id in present else new_id


def _update_tags(run: SavedRun, diff: CollectionDiff, order: list[str], features: CollectionFeatures) -> None:
    """The run's network tag table for the updated tracks (carried rows renamed, new rows added)."""
    old = read_parquet(run.workspace.track_tags).set_index("track_id")
    new = pd.DataFrame(features.tags.tags, columns=features.tags.tag_names, index=diff.extracted)
    carried_ids = [t for t in order if t in diff.carried]
    carried = old.reindex([carried_id(old.index, diff.carried[t], t) for t in carried_ids])
    carried.index = carried_ids
    merged = pd.concat([carried, new]).loc[order]
    write_parquet(merged.rename_axis("track_id").reset_index(), run.workspace.track_tags)


def _refit(run: SavedRun, config: RunConfig, source: CollectionSource, started: float) -> UpdateSummary:
    """Run the whole grid again on ``source`` in the same folder, then renumber every new
    clustering to match the old one (`match_clusters`) so numbers stay where they can."""
    old_tracks = run.tracks
    pairs = run.results[["representation", "algorithm"]].drop_duplicates().itertuples(index=False)
    old_labels = {(r, a): read_parquet(run.workspace.labels(r, a)).set_index("track_id") for r, a in pairs}
    run_pipeline(config, source, run.workspace.root, Console(quiet=True))
    refitted = SavedRun.open(run.workspace.root)
    diff = diff_tracks(old_tracks, refitted.tracks)
    old_id = {**{t: t for t in diff.changed}, **diff.carried}
    for (representation, algorithm), old in old_labels.items():
        path = refitted.workspace.labels(representation, algorithm)
        if not path.exists():
            continue
        new = read_parquet(path).set_index("track_id")
        shared = [t for t in new.index if old_id.get(t) in old.index]
        for column in [c for c in new.columns if c in old.columns]:
            mapping = match_clusters(old.loc[[old_id[t] for t in shared], column].to_numpy(),
                                     new.loc[shared, column].to_numpy(), new[column].unique())
            new[column] = [mapping[int(v)] for v in new[column]]
            _renumber_rule(refitted, representation, algorithm, int(column.removeprefix("seed_")), mapping)
        write_parquet(new.reset_index(), path)
    rebuild_report(refitted.workspace.root)
    return _summary(refitted, diff, started)


def _renumber_rule(run: SavedRun, representation: str, algorithm: str, seed: int, mapping: dict[int, int]) -> None:
    """Store the new numbering with the saved rule (or, for a model's posterior, on its own),
    so that later placements use the numbers the labels show."""
    rule_file = run.workspace.cluster_rule(representation, algorithm, seed)
    if not rule_file.exists() and algorithm != MODEL_POSTERIOR:
        return  # placed by nearest neighbours, which read the renumbered labels
    rule = read_npz(rule_file) if rule_file.exists() else {}
    count = max([k for k in mapping if k >= 0], default=-1) + 1
    write_npz(rule_file, **rule, numbers=np.array([mapping.get(k, k) for k in range(count)], dtype=np.int64))


def _summary(run: SavedRun, diff: CollectionDiff, started: float) -> UpdateSummary:
    """Where the extracted tracks landed in the run's best result, and how."""
    representation, algorithm = run.choose(None, None)
    seed = int(run.results["seed"].min())
    tracks = run.tracks.set_index("track_id", drop=False).loc[diff.extracted]
    labels = read_parquet(run.workspace.labels(representation, algorithm)).set_index("track_id")
    clusters = labels.reindex(diff.extracted)[f"seed_{seed}"].fillna(NOISE).astype(int).to_numpy()
    placed = pd.DataFrame({"track_id": diff.extracted, "path": tracks["path"].to_numpy(),
                           "status": tracks["status"].to_numpy(), "reason": tracks["reason"].to_numpy(),
                           "cluster": clusters})
    return UpdateSummary(diff, representation, algorithm, placed, placement(run, representation, algorithm, seed),
                         time.perf_counter() - started)


MAX_DELETED_SHARE = 0.2  # deleting more of a run's tracks in one update needs allow_deletes


def update_run(run_dir: Path, folder: Path | None = None, refit: bool = False, log: Log = print,
               replace: bool = False, allow_deletes: bool = False) -> UpdateSummary:
    """Take ``folder`` (default: the run's own audio folder; another one only with ``replace``)
    into the run without refitting (see the module docstring), or with ``refit`` run the grid
    again and keep cluster numbers where the new clusters match old ones; write the report and
    the map again. Deleting more than `MAX_DELETED_SHARE` of the run's tracks needs
    ``allow_deletes``. Safe to kill: a rerun finishes what a killed update left, the report included."""
    started = time.perf_counter()
    run = SavedRun.open(run_dir)
    config = run.config
    source = _source(run, folder, replace, log)
    collection = read_collection(source, run.label_columns)
    new = collection.tracks
    diff = diff_tracks(run.tracks, new)
    _check_deletions(diff, len(run.tracks), allow_deletes)
    if refit:
        return _refit(run, config, source, started)
    same_paths = run.tracks.set_index("track_id")["path"].astype(str).to_dict() == \
        new.set_index("track_id")["path"].astype(str).to_dict()
    moved_to = str(collection.audio_dir)  # stored only when it changed (a moved collection, an old relative path)
    if diff.unchanged and same_paths:
        _write_record(run, moved_to, None)
        if report_is_stale(run):
            log("the report was older than the run's data (an update was stopped): drawn again")
            rebuild_report(run.workspace.root)
        else:
            log("the run is up to date with its folder: nothing to do")
        return _summary(run, diff, started)
    extracted = new.set_index("track_id", drop=False).loc[diff.extracted].reset_index(drop=True)
    uses_network = bool(run.results["input"].isin(NETWORK_INPUTS).any())
    plan = AudioPlan.from_config(config.audio, config.device, uses_network)
    features = extract_tracks(run.workspace, extracted, plan, runner_for(config.distributed, config.audio.workers))
    ok = features.ok & (extracted["status"].to_numpy() == "ok")
    # embeddings and labels hold the analysed tracks: carried ones that were, new ones that could be
    old_status = run.tracks.set_index(run.tracks["track_id"].astype(str))["status"]
    placed_ok = {track_id for track_id, good in zip(diff.extracted, ok) if good}
    analysed = [t for t in new["track_id"].astype(str)
                if t in placed_ok or (t in diff.carried and old_status.get(diff.carried[t]) == "ok")]
    try:  # a run of fewer tracks could not be drawn or searched: refused before anything is written
        check_enough_tracks(len(analysed), None, "tracks could be analysed after this update")
    except PipelineError as error:
        raise LibraryError(f"{error}; the run is left as it was") from None
    updater = _Updater(run, diff, analysed, features, ok)
    for representation in run.results["representation"].unique():
        updater.representation(representation, log)
    # the order matters to a rerun after a kill: tracks.parquet, written after every per-track
    # artifact, is what the next update compares the folder with
    updater.write()
    if features.tags is not None and run.workspace.track_tags.exists():
        _update_tags(run, diff, analysed, features)
    write_parquet(_updated_tracks(run, new, diff, features, plan.settings), run.workspace.tracks)
    _write_record(run, moved_to, {"added": len(diff.added), "changed": len(diff.changed),
                                "deleted": len(diff.deleted), "moved": len(diff.moved), "tracks": len(new)})
    rebuild_report(run.workspace.root)
    return _summary(SavedRun.open(run.workspace.root), diff, started)


def _check_deletions(diff: CollectionDiff, tracks: int, allow_deletes: bool) -> None:
    """Refuse to delete more than `MAX_DELETED_SHARE` of a run's tracks without ``allow_deletes``."""
    if len(diff.deleted) > MAX_DELETED_SHARE * tracks and not allow_deletes:
        raise LibraryError(f"{len(diff.deleted)} of the run's {tracks} tracks are not in the folder any more "
                           f"(first: {diff.deleted[0]}); if they are really gone, add --allow-deletes")


def _write_record(run: SavedRun, audio_dir: str | None, update: dict[str, int] | None) -> None:
    """``run.json`` with the run's new audio folder (given ``audio_dir``: the collection moved)
    and, given ``update``, one more entry in its history; not written when neither changes."""
    record = dict(run.record)
    if audio_dir is not None:
        record["audio_dir"] = audio_dir
    if update is not None:
        record["updates"] = [*record.get("updates", []), update]
    if record != run.record:
        write_text(run.workspace.root / RUN_FILE, json.dumps(record, ensure_ascii=False, indent=2))


def report_is_stale(run: SavedRun) -> bool:
    """Whether the report or the map is missing or older than the run's data (an update or a
    run stopped after its data was written and before its report was)."""
    workspace = run.workspace
    index, page = workspace.report_dir / "index.html", workspace.report_dir / MAP_FILE
    if not index.is_file():
        return True
    data = [workspace.tracks, workspace.results_parquet, workspace.root / RUN_FILE,
            *(workspace.root / "labels").glob("*.parquet")]
    newest = max(path.stat().st_mtime_ns for path in data if path.is_file())
    return any(path.is_file() and path.stat().st_mtime_ns < newest for path in (index, page))
