"""Using a finished run as a music library: playlists per cluster, assigning new files to its
clusters (similar songs and lyric search: `songscape.search`). Reads the run's artifacts (embeddings, labels, tracks, saved
models); nothing is retrained."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from songscape.audio.extract import CollectionFeatures, extract_collection
from songscape.audio.plan import AudioPlan
from songscape.cluster.algorithms import NEIGHBOURS, assign_by_neighbours, assign_with_rule, renumbered
from songscape.cluster.metrics import NOISE
from songscape.config import RunConfig, validate_config
from songscape.experiment import MODEL_POSTERIOR
from songscape.filenames import file_path, file_url, stored_path, stored_text
from songscape.models import Representation, load_representation
from songscape.models.base import CONFIG_FILE
from songscape.plaintext import printable
from songscape.report.cards import cluster_cards, display_names
from songscape.report.summary import RUN_FILE
from songscape.report.tables import ranked_results
from songscape.workspace import Workspace, make_folder, read_json, read_npz, read_parquet, write_text

PLAYLIST_SUFFIX = ".m3u8"


class LibraryError(ValueError):
    """The run cannot answer the request; the message says why."""


@dataclass
class SavedRun:
    """A finished run's tracks, results and its `run.json` record (config, label columns)."""

    workspace: Workspace
    tracks: pd.DataFrame
    results: pd.DataFrame
    record: dict

    @property
    def label_columns(self) -> list[str]:
        return self.record["label_columns"]

    @property
    def config(self) -> RunConfig:
        """The settings the run was made with."""
        return validate_config(yaml.safe_load(self.record["config_yaml"]))

    @classmethod
    def open(cls, run_dir: Path) -> SavedRun:
        """The finished run in ``run_dir``, read without creating or changing anything; a
        `LibraryError` when it is not one or when an artifact is missing (named, with the
        command that rebuilds it)."""
        root = Path(run_dir)
        if not root.is_dir():
            raise LibraryError(f"{run_dir}: {'not a run folder (a file)' if root.exists() else 'no such run folder'}")
        workspace = Workspace(root, create=False)
        if not (workspace.root / RUN_FILE).is_file() or not workspace.results_parquet.is_file():
            raise LibraryError(f"{run_dir}: not a finished songscape run (no {RUN_FILE} or results)")
        results = read_parquet(workspace.results_parquet)
        if results.empty:
            raise LibraryError(f"{run_dir}: the run has no results (every representation was skipped)")
        missing = missing_artifacts(workspace, results)
        if missing:
            shown = ", ".join(str(path.relative_to(root)) for path in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise LibraryError(f"{run_dir}: {shown}{more} missing; run `songscape run` again with this run's "
                               "options to rebuild it (cached features and models are reused)")
        record = read_json(workspace.root / RUN_FILE)
        return cls(workspace, read_parquet(workspace.tracks), results, record)

    def choose(self, representation: str | None, algorithm: str | None = None,
               suitable: Callable[[str], bool] | None = None) -> tuple[str, str]:
        """The named representation/algorithm (checked); what is not named comes from the
        run's best result (chosen without labels, `ranked_results`) that matches what is named
        and, given ``suitable``, whose representation it accepts (when one does)."""
        for what, value in (("representation", representation), ("algorithm", algorithm)):
            if value is not None and value not in set(self.results[what]):
                raise LibraryError(f"no {what} '{value}' in this run "
                                   f"(known: {', '.join(dict.fromkeys(self.results[what]))})")
        ranked = ranked_results(self.results)
        matching = [(r, a) for r, a in ranked if representation in (None, r) and algorithm in (None, a)]
        accepted = [(r, a) for r, a in matching if suitable is None or suitable(r)]
        return (accepted or matching or [(representation or ranked[0][0], algorithm or ranked[0][1])])[0]


def missing_artifacts(workspace: Workspace, results: pd.DataFrame) -> list[Path]:
    """The artifacts a finished run's results need that are not there: the track table, and
    every result's embedding (per seed) and labels."""
    needed = [workspace.tracks]
    for (representation, algorithm), rows in results.groupby(["representation", "algorithm"], sort=False):
        needed += [workspace.embedding(representation, int(seed)) for seed in rows["seed"].unique()]
        needed.append(workspace.labels(representation, algorithm))
    return [path for path in dict.fromkeys(needed) if not path.is_file()]


@dataclass
class ClusterPlaylist:
    """One cluster of a run's result as a playlist: its name (the cluster card's slug, unique
    in the run), a title and its tracks (rows of the track table that have audio)."""

    name: str
    title: str
    tracks: pd.DataFrame


def cluster_playlists(run: SavedRun, representation: str | None = None,
                      algorithm: str | None = None) -> list[ClusterPlaylist]:
    """One playlist per cluster (first seed) of ``representation`` + ``algorithm`` (default:
    the run's best result), named after the cluster's card ("cluster-3-piano-english": its top
    network tag and dominant labels); noise tracks (−1) get a playlist of their own."""
    representation, algorithm = run.choose(representation, algorithm)
    seed = int(run.results["seed"].min())
    labels = read_parquet(run.workspace.labels(representation, algorithm))
    clusters = labels.set_index("track_id")[f"seed_{seed}"]
    names = {card.cluster: card.slug for card in cluster_cards(run.workspace, run.tracks, representation,
                                                                algorithm, run.label_columns, seed)}
    tracks = run.tracks.set_index("track_id", drop=False).loc[clusters.index]
    if not tracks["path"].fillna("").astype(bool).any():
        raise LibraryError("this run has no audio files (lyrics or feature table only): nothing to play")
    playlists, used = [], set()
    for cluster, members in tracks.groupby(clusters.to_numpy(), sort=True):
        name = names[int(cluster)]
        while name in used:
            name += "-"
        used.add(name)
        playlists.append(ClusterPlaylist(name, f"{representation} + {algorithm}, cluster {cluster}",
                                         members[members["path"].fillna("").astype(bool)]))
    return playlists


def write_playlists(run_dir: Path, out_dir: Path, representation: str | None = None,
                    algorithm: str | None = None) -> list[tuple[Path, int]]:
    """One ``.m3u8`` per cluster (`cluster_playlists`) in ``out_dir``, with paths relative to
    the playlist. Returns each playlist with its number of tracks."""
    playlists = cluster_playlists(SavedRun.open(run_dir), representation, algorithm)
    out_dir = make_folder(out_dir)
    return [(out_dir / (playlist.name + PLAYLIST_SUFFIX),
             write_playlist(out_dir / (playlist.name + PLAYLIST_SUFFIX), playlist.tracks, playlist.title))
            for playlist in playlists]


def write_playlist(path: Path, tracks: pd.DataFrame, title: str) -> int:
    """Write ``tracks`` (rows of a run's track table, in order) that have audio as one
    ``.m3u8`` at ``path``: ``#EXTINF`` duration and "artist – title", then the file
    (`playlist_entry`). Returns how many tracks it lists."""
    members = tracks[tracks["path"].fillna("").astype(bool)]
    lines = ["#EXTM3U", f"#PLAYLIST:{printable(title, one_line=True)}"]
    for row, name in zip(members.itertuples(), display_names(members)):
        duration = getattr(row, "duration_s", np.nan)
        seconds = int(round(duration)) if pd.notna(duration) else -1
        lines += [f"#EXTINF:{seconds},{printable(name, one_line=True)}", playlist_entry(row.path, path.parent)]
    write_text(path, "\n".join(lines) + "\n")
    return len(members)


def playlist_entry(stored: str, out_dir: Path) -> str:
    """A track's line in a playlist in ``out_dir``: its path relative to the playlist, or, when
    the file's name holds a line break or bytes that are not UTF-8 (which no ``.m3u8`` line can
    hold), its ``file://`` URI with those bytes percent-encoded."""
    file = file_path(stored)
    relative = os.path.relpath(file, out_dir.resolve()).replace(os.sep, "/")
    if stored_text(relative) != relative or any(c in relative for c in "\r\n\u2028\u2029\x85"):
        return "file://" + file_url(file.absolute())
    return relative


def assign(run_dir: Path, files: list[Path], representation: str | None = None,
           algorithm: str | None = None) -> pd.DataFrame:
    """Put new audio files into a saved run's clusters: extract them with the run's audio
    settings, encode them with the saved model (first seed) and place them with the
    clusterer's saved rule (nearest K-Means centre; most probable Gaussian-mixture component),
    the model's own posterior (VaDE), or, for clusterers without a rule (spectral,
    agglomerative, DBSCAN, HDBSCAN), the cluster of their nearest neighbours in the run's
    embedding (`assign_by_neighbours`). The ``rule`` column says which. A file that cannot be
    decoded is reported in its row with cluster −1; the others are still assigned."""
    run = SavedRun.open(run_dir)
    seed = int(run.results["seed"].min())
    representation, algorithm = run.choose(representation, algorithm,
                                           suitable=lambda name: can_encode(run, name, seed))
    model_dir = encoding_model(run, representation, seed)
    config = run.config
    rows = run.results[run.results["representation"] == representation]
    features, errors = _audio_inputs(files, str(rows["input"].iloc[0]), learnt_from_segments(rows), config)
    usable = [i for i, error in enumerate(errors) if not error]
    clusters = np.full(len(files), NOISE, dtype=np.int64)
    rule = placement(run, representation, algorithm, seed)
    if usable:
        inputs = np.stack([features[i] for i in usable])
        clusters[usable] = place(run, representation, algorithm, seed, load_representation(model_dir), inputs)
    return pd.DataFrame({"file": [stored_path(path) for path in files], "cluster": clusters,
                         "status": ["skipped" if error else "ok" for error in errors], "reason": errors,
                         "rule": ["" if error else rule for error in errors]})


def encoding_model(run: SavedRun, representation: str, seed: int) -> Path:
    """The folder of the saved model that turns new audio into ``representation``'s code."""
    row = run.results[(run.results["representation"] == representation) & (run.results["seed"] == seed)].iloc[0]
    model_dir = run.workspace.root / "models" / str(row.get("model_dir", ""))
    if row["input"] not in ENCODABLE or not (model_dir / CONFIG_FILE).exists():
        raise LibraryError(f"{representation} is not a saved model on extracted audio (input {row['input']}); "
                           "assign needs one on audio statistics, log-mel patches or the pretrained network")
    if not read_json(model_dir / CONFIG_FILE)["metadata"].get("input", "").startswith(
            ("audio-", "mel-audio-", "pretrained-")):
        raise LibraryError(f"{representation} was trained on a feature table: new audio cannot be encoded")
    if str(row.get("conditioned_on") or ""):
        raise LibraryError(f"{representation} is conditioned on '{row['conditioned_on']}', which new files do "
                           "not have yet; choose another --representation")
    return model_dir


def can_encode(run: SavedRun, representation: str, seed: int) -> bool:
    """Whether new audio can be encoded into ``representation`` (see `encoding_model`)."""
    try:
        encoding_model(run, representation, seed)
    except LibraryError:
        return False
    return True


def placement(run: SavedRun, representation: str, algorithm: str, seed: int) -> str:
    """How new tracks are placed in the clusters of (representation, algorithm)."""
    if algorithm == MODEL_POSTERIOR:
        return "model posterior"
    rule_file = run.workspace.cluster_rule(representation, algorithm, seed)
    if rule_file.exists():
        return "nearest centre" if "centers" in read_npz(rule_file) else "most probable mixture component"
    return f"{NEIGHBOURS} nearest neighbours"


def place(run: SavedRun, representation: str, algorithm: str, seed: int, model: Representation,
          inputs: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
    """Clusters of new tracks (``inputs`` to the saved ``model`` of that seed; ``codes``: their
    ``model.transform`` when already computed) in the run's clustering: the model's posterior,
    the saved rule, else the run's nearest neighbours (numbered as the run numbers them, also
    after a refit renumbered them)."""
    rule_file = run.workspace.cluster_rule(representation, algorithm, seed)
    rule = read_npz(rule_file) if rule_file.exists() else None
    if algorithm == MODEL_POSTERIOR:
        return renumbered(rule or {}, model.predict(inputs))
    codes = model.transform(inputs) if codes is None else codes
    if rule is not None:
        return assign_with_rule(rule, codes)
    stored = read_npz(run.workspace.embedding(representation, seed))
    labels = read_parquet(run.workspace.labels(representation, algorithm)).set_index("track_id")[f"seed_{seed}"]
    embedded = np.all(np.isfinite(stored["embedding"]), axis=1)
    known_labels = labels.loc[stored["track_id"].astype(str)[embedded]].to_numpy()
    return assign_by_neighbours(stored["embedding"][embedded], known_labels, codes)


ENCODABLE = ("audio", "mel", "pretrained")  # inputs that new audio files can be turned into


def learnt_from_segments(rows: pd.DataFrame) -> bool:
    """Whether the representation of these result rows learnt from segments (runs written
    before segments existed did not)."""
    return bool(rows["segments"].iloc[0]) if "segments" in rows else False


def model_inputs(features: CollectionFeatures, input_name: str, segments: bool) -> np.ndarray:
    """Extracted tracks as the input ``input_name`` of a saved model (statistics, log-mel
    patches or network embeddings), per segment when the model learnt from segments."""
    if input_name == "pretrained":
        return np.asarray(features.tags.segment_embeddings if segments else features.tags.embeddings)
    if input_name == "audio":
        return np.asarray(features.segment_stats if segments else features.stats)
    return np.asarray(features.mel)


def _audio_inputs(files: list[Path], input_name: str, segments: bool,
                  config: RunConfig) -> tuple[list[np.ndarray], list[str]]:
    """Each file as the model input ``input_name`` with the run's audio settings, and the
    reason where it failed ("" where not)."""
    plan = AudioPlan.from_config(config.audio, config.device, with_network=input_name == "pretrained")
    found = extract_collection([str(path) for path in files], plan.settings, plan.excerpt, plan.workers,
                               network=plan.network)
    return list(model_inputs(found, input_name, segments)), found.errors



