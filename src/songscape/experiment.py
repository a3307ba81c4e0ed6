"""The grid: representations × clusterers × seeds → results, labels and embeddings.

Reads the collection, fills the workspace stage by stage (features, models, labels, results)
and reuses every artifact whose key still matches.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.audio.extract import cached_audio_features, track_descriptors
from songscape.audio.plan import AudioPlan
from songscape.audio.tagging import CollectionTags
from songscape.cluster.algorithms import Clustering, ClusteringError, cluster
from songscape.cluster.consensus import CONSENSUS_PREFIX, consensus_labels, consensus_stability
from songscape.cluster.metrics import NOISE, agreement, evaluate, stability
from songscape.collection import Collection
from songscape.config import RepresentationSpec, RunConfig
from songscape.models import REPRESENTATIONS, Representation, load_representation
from songscape.models.base import CONFIG_FILE, Standardizer, as_matrix
from songscape.models.neural import NeuralRepresentation
from songscape.rows import RowView
from songscape.runners import runner_for
from songscape.stage_times import StageTimes
from songscape.text.embed import cached_lyrics_features
from songscape.threads import choose_device, training_threads
from songscape.workspace import Workspace, content_key, write_csv, write_npz, write_parquet

Log = Callable[[str], None]
Labelings = dict[tuple[str, str, int], np.ndarray]  # cluster labels by (representation, algorithm, seed)
SEGMENTS_SUFFIX = "-segments"  # ends the input key of models that learnt from segments
MIN_TRACKS = 3  # fewer cannot be clustered into two or more groups and scored
_MISSING_INPUT = {"multimodal": "no track has both audio and lyrics", "mel": "no audio", "pretrained": "no audio",
                  "fused": "no audio"}
NETWORK_INPUTS = ("pretrained", "fused")  # the inputs that need the pretrained network's embeddings


class PipelineError(RuntimeError):
    """The run cannot go on; the message says why."""


@dataclass
class InputBlock:
    """Named model inputs over all tracks, the rows usable for them, the features that
    define the block's common space, and the key of its artifact. ``segments`` holds named
    inputs per segment, (tracks, segments, features), for models that read segments; they
    replace their track-level twins in `rows`."""

    arrays: dict[str, np.ndarray]
    usable: np.ndarray
    common: np.ndarray
    key: str
    segments: dict[str, np.ndarray] = field(default_factory=dict)

    def rows(self, selection: np.ndarray, segments: bool = False) -> dict[str, np.ndarray | RowView]:
        """Every named input restricted to ``selection`` (memmaps stay on disk as views), per
        segment where the block has segments and ``segments`` is asked for."""
        arrays = {**self.arrays, **self.segments} if segments else self.arrays
        return {name: RowView.select(values, selection) for name, values in arrays.items()}

    def input_key(self, segments: bool) -> str:
        """The key of what a model reads from this block: per segment or per track."""
        return f"{self.key}{SEGMENTS_SUFFIX}" if segments and self.segments else self.key


def reads_segments(spec: RepresentationSpec) -> bool:
    """Whether ``spec``'s model learns from segments where its input has them: models that take
    segments (`NeuralRepresentation.takes_segments`) unless the spec turns it off."""
    return spec.segments and getattr(REPRESENTATIONS[spec.kind], "takes_segments", False)


def single_block(values: np.ndarray, usable: np.ndarray, key: str) -> InputBlock:
    """A block with one feature array ``X`` (rows of features, or mel patches)."""
    return InputBlock({"X": values}, usable, values, key)


@dataclass
class RunOutcome:
    """What a run produced, as written to the workspace."""

    workspace: Workspace
    tracks: pd.DataFrame
    results: pd.DataFrame
    label_columns: list[str]
    models_trained: int
    models_reused: int
    times: StageTimes = field(default_factory=StageTimes)


def _model_inputs(spec: RepresentationSpec, block: InputBlock, tracks: pd.DataFrame) -> dict[str, np.ndarray]:
    """The named inputs of ``spec``'s model on the block's usable tracks: the block's arrays
    (per segment for models that read them), plus the conditioning column for conditional models."""
    inputs = block.rows(block.usable, reads_segments(spec))
    if spec.condition is not None:
        if spec.condition not in tracks.columns:
            raise PipelineError(f"{spec.name}: condition column '{spec.condition}' is not in the table; "
                                f"columns: {', '.join(map(str, tracks.columns))}")
        inputs["condition"] = tracks[spec.condition].to_numpy(dtype=object)[block.usable]
    return inputs


def _planned_model(spec: RepresentationSpec, seed: int, block: InputBlock, inputs: dict[str, np.ndarray],
                   config: RunConfig, workspace: Workspace) -> tuple[Representation, Path, dict[str, object]]:
    """The unfitted model for (spec, seed, inputs), the folder it is saved in (named by a key
    of its parameters, defaults too, and of its input) and the metadata saved with it. Models
    that cluster themselves (``predict``) get the run's k, neural models the run's device, and
    models on lyric vectors block scaling (an SVD's leading axes stay leading), unless their
    params set one."""
    cls = REPRESENTATIONS[spec.kind]
    params = dict(spec.params)
    if callable(getattr(cls, "predict", None)):
        params.setdefault("n_components", config.n_clusters)
    if "device" in cls.param_names():  # every neural model, also those that pass it on as **kwargs
        params.setdefault("device", config.device)
    if "scaling" in cls.param_names():
        params.setdefault("scaling", "block" if spec.input == "lyrics" else "dimension")
    model = cls(random_state=seed, **params)
    condition = list(map(str, inputs.get("condition", [])))
    input_key = block.input_key(reads_segments(spec))
    key = content_key(spec.kind, model.get_params(), input_key, spec.condition, condition)
    return model, workspace.model_dir(spec.name, key), {"input": input_key, "condition": spec.condition}


def _fitted_model(spec: RepresentationSpec, seed: int, block: InputBlock, inputs: dict[str, np.ndarray],
                  config: RunConfig, workspace: Workspace, log: Log, fitted_now: frozenset[Path] = frozenset(),
                  ) -> tuple[Representation, float, bool, Path]:
    """The model for (spec, seed, inputs): loaded when saved (by an earlier run, or by this
    run's workers: ``fitted_now``, not counted as reused), else fitted and saved.
    Returns the model, its fit time in seconds, whether it was reused and its folder."""
    model, directory, metadata = _planned_model(spec, seed, block, inputs, config, workspace)
    config_path = directory / CONFIG_FILE
    if config_path.exists():
        try:
            fit_seconds = json.loads(config_path.read_text()).get("metadata", {}).get("fit_seconds", np.nan)
            return load_representation(directory), float(fit_seconds), directory not in fitted_now, directory
        except Exception as error:  # corrupt, or saved by an older version: the cache is rebuilt
            log(f"{spec.name}, seed {seed}: saved model in {directory} cannot be loaded "
                f"({type(error).__name__}); training it again")
    fit_seconds = fit_and_save(model, inputs, directory, metadata)
    return model, fit_seconds, False, directory


def fit_and_save(model: Representation, inputs: dict[str, np.ndarray], directory: Path,
                 metadata: dict[str, object]) -> float:
    """Fit ``model`` on ``inputs`` and save it in ``directory`` with ``metadata`` and its fit
    time; returns the fit time in seconds."""
    started = time.perf_counter()
    model.fit(**inputs)
    fit_seconds = time.perf_counter() - started
    model.save(directory, metadata={"fit_seconds": fit_seconds, **metadata})
    return fit_seconds


PARALLEL_FIT_MAX_BYTES = 256 * 2**20  # models whose inputs are larger train in this process (no copy to workers)


@dataclass(frozen=True)
class _FitJob:
    """One model to fit and save in a worker process."""

    model: Representation
    inputs: dict[str, np.ndarray]
    directory: Path
    metadata: dict[str, object]


def _run_fit_job(job: _FitJob) -> str:
    """`fit_and_save` for one job in a worker; "" when done, else why not (the model is then
    fitted again in the main process, where its error, if any, is raised)."""
    try:
        fit_and_save(job.model, job.inputs, job.directory, job.metadata)
    except Exception as error:  # noqa: BLE001 — the main process fits it again and reports
        return f"{type(error).__name__}: {error}"
    return ""


def _fit_on_workers(runnable: list[tuple[RepresentationSpec, InputBlock]], tracks: pd.DataFrame,
                    config: RunConfig, workspace: Workspace) -> frozenset[Path]:
    """Fit the grid's neural models that are not saved yet on the run's workers (the local pool,
    one single-threaded process per core, or the Dask cluster), each on one CPU thread as in
    this process, so the weights are the same; returns the folders saved. Nothing when the models
    run on a GPU (one device: they train in turn in this process) or their inputs exceed
    `PARALLEL_FIT_MAX_BYTES` (copied to every worker)."""
    if choose_device(config.device) != "cpu":
        return frozenset()
    jobs = []
    for spec, block in runnable:
        if not issubclass(REPRESENTATIONS[spec.kind], NeuralRepresentation):
            continue
        inputs = _model_inputs(spec, block, tracks)
        if sum(int(np.prod(values.shape)) * values.dtype.itemsize for values in inputs.values()
               if hasattr(values, "shape")) > PARALLEL_FIT_MAX_BYTES:
            continue
        inputs = {name: np.asarray(values) if isinstance(values, RowView) else values
                  for name, values in inputs.items()}
        for seed in config.seeds:
            model, directory, metadata = _planned_model(spec, seed, block, inputs, config, workspace)
            if not (directory / CONFIG_FILE).exists():
                jobs.append(_FitJob(model, inputs, directory, metadata))
    runner = runner_for(config.distributed, config.audio.workers)
    outcomes = runner(_run_fit_job, jobs, lambda reason: reason)
    return frozenset(job.directory for job, failure in zip(jobs, outcomes) if not failure)


def _feature_blocks(config: RunConfig, collection: Collection, tracks: pd.DataFrame,
                    workspace: Workspace, log: Log, times: StageTimes) -> dict[str, InputBlock]:
    """The input blocks this collection has; marks tracks that cannot be analysed (audio that
    failed, bad feature rows, no lyrics in a lyrics-only run) as skipped in ``tracks``.

    The ``audio`` block is the extracted statistics, or the feature table's columns when one is
    given (audio files then still give the ``mel`` patches). ``mel`` needs audio, and so does
    ``pretrained`` (the network's embeddings, computed only when a representation uses it); ``hybrid`` and
    ``multimodal`` need an audio block and lyrics; a lyrics-only collection has ``lyrics`` alone.
    """
    ok = tracks["status"].to_numpy() == "ok"
    stats, stats_key, segment_stats, inputs = None, "", None, {}
    runner = runner_for(config.distributed, config.audio.workers)
    if collection.has_audio:
        uses_network = any(spec.input in NETWORK_INPUTS for spec in config.representations)
        plan = AudioPlan.from_config(config.audio, config.device, uses_network)
        with times.measure("audio features"):
            audio, audio_path = cached_audio_features(workspace, tracks, plan, log, runner)
        tracks["duration_s"], tracks["padded"] = audio.duration_s, audio.padded
        failed = ok & ~audio.ok
        tracks.loc[failed, "reason"] = np.asarray(audio.errors, dtype=object)[failed]
        ok &= audio.ok
        for column, values in track_descriptors(audio, plan.settings).items():
            tracks[column] = np.where(ok, values, np.nan)
        stats, stats_key = audio.stats, audio_path.name
        # mel patches are scored in the space of the same excerpts' statistics (their own
        # 8 192 values per track would cost O(n × 8 192) memory and say less)
        audio_stats = np.where(ok[:, None], audio.stats, 0.0).astype(np.float32)
        inputs["mel"] = InputBlock({"X": audio.mel}, ok, audio_stats, f"mel-{audio_path.name}")
        segment_stats = np.where(ok[:, None, None], audio.segment_stats, 0.0).astype(np.float32)
        if audio.tags is not None:
            inputs["pretrained"] = _network_block(audio.tags, tracks, ok, workspace, f"pretrained-{audio_path.name}")
            networks, fused_key = [inputs["pretrained"]], f"fused-{audio_path.name}"
            if config.audio.fused_network and any(spec.input == "fused" for spec in config.representations):
                second_plan = AudioPlan.from_config(config.audio.model_copy(update={"network": config.audio.fused_network,
                                                                                    "network_weights": None}),
                                                    config.device, True)
                with times.measure("audio features (fused network)"):
                    second, second_path = cached_audio_features(workspace, tracks, second_plan, log, runner)
                usable = ok & second.tags.ok
                networks.append(InputBlock({"X": second.tags.embeddings}, usable, second.tags.embeddings,
                                           second_path.name, {"X": second.tags.segment_embeddings}))
                fused_key = f"{fused_key}-{second_path.name}"
            inputs["fused"] = _fused_block(networks, audio.stats, segment_stats, fused_key)
    if collection.features is not None:  # a feature table has no segments
        stats, stats_key, segment_stats = collection.features, f"table-{collection.features_key}", None
    tracks["status"] = np.where(ok, "ok", "skipped")
    write_parquet(tracks, workspace.tracks)
    _log_skipped(tracks, log)
    if not ok.any():
        first = tracks.iloc[0]
        raise PipelineError(f"none of the {len(tracks)} tracks can be analysed; first: "
                            f"{_named(first['track_id'], first['path'])}: {first['reason']}")
    with times.measure("lyrics"):
        lyrics, lyrics_path = cached_lyrics_features(workspace, list(tracks["lyrics"]),
                                                     config.lyrics.settings(), log, runner)
    with_lyrics = ok & lyrics.has_lyrics
    lyric_segments = {} if lyrics.segments is None else {"X": lyrics.segments}  # e5 chunks, as audio segments
    inputs["lyrics"] = InputBlock({"X": lyrics.vectors}, with_lyrics, lyrics.vectors, lyrics_path.name, lyric_segments)
    if stats is not None:
        stats = np.where(ok[:, None], stats, 0.0).astype(np.float32)  # no NaN rows downstream
        audio_segments = {} if segment_stats is None else {"X": segment_stats}
        inputs["audio"] = InputBlock({"X": stats}, ok, stats, stats_key, audio_segments)
        hybrid = _hybrid(stats, ok, lyrics.vectors, with_lyrics)
        both_key = f"{stats_key}-{lyrics_path.name}"
        inputs["hybrid"] = single_block(hybrid, with_lyrics, f"hybrid-{both_key}")
        if with_lyrics.any():  # the multimodal VAE learns how lyrics and audio relate
            multimodal = {"audio": stats, "lyrics": lyrics.vectors, "lyrics_mask": lyrics.has_lyrics}
            multimodal_segments = ({} if segment_stats is None else {"audio": segment_stats}) | (
                {} if lyrics.segments is None else {"lyrics": lyrics.segments})
            inputs["multimodal"] = InputBlock(multimodal, ok, hybrid, f"multimodal-{both_key}", multimodal_segments)
    return inputs


def _network_block(found: CollectionTags, tracks: pd.DataFrame, ok: np.ndarray, workspace: Workspace,
                   key: str) -> InputBlock:
    """The network's embeddings as an input block (tracks it could not read are skipped already);
    the tag probabilities go to ``tags.parquet`` for the report."""
    write_parquet(pd.DataFrame(found.tags, columns=found.tag_names).assign(track_id=tracks["track_id"].to_numpy()),
                  workspace.track_tags)
    usable = ok & found.ok
    embeddings = np.where(usable[:, None], found.embeddings, 0.0).astype(np.float32)
    segments = np.where(usable[:, None, None], found.segment_embeddings, 0.0).astype(np.float32)
    return InputBlock({"X": embeddings}, usable, embeddings, key, {"X": segments})


def _unit_blocks(blocks: list[np.ndarray], usable: np.ndarray) -> np.ndarray:
    """Feature blocks side by side, (…, features) each, every block standardized per dimension
    over the ``usable`` tracks' rows and divided by the square root of its width, so each block
    weighs the same whatever its number of features; rows not usable are zero."""
    parts = []
    for values in blocks:
        rows = values[usable].reshape(-1, values.shape[-1])
        scaler = Standardizer().fit(rows)
        parts.append(scaler.transform(values) / np.sqrt(values.shape[-1]))
    fused = np.concatenate(parts, axis=-1).astype(np.float32)
    fused[~usable] = 0.0
    return fused


def _fused_block(networks: list[InputBlock], stats: np.ndarray, segment_stats: np.ndarray, key: str) -> InputBlock:
    """The audio statistics and the pretrained networks' embeddings as one input, each scaled as
    a block (`_unit_blocks`), per track and per segment (when every part has the same segments)."""
    usable = np.logical_and.reduce([network.usable for network in networks])
    parts = [np.where(usable[:, None], values, 0.0) for values in (stats, *(n.arrays["X"] for n in networks))]
    fused = _unit_blocks(parts, usable)
    segment_parts = [segment_stats, *(n.segments.get("X") for n in networks)]
    segments = {}
    if all(part is not None and part.shape[1] == segment_stats.shape[1] for part in segment_parts):
        segments = {"X": _unit_blocks([np.where(usable[:, None, None], np.nan_to_num(part), 0.0)
                                      for part in segment_parts], usable)}
    return InputBlock({"X": fused}, usable, fused, key, segments)


def _available(spec: RepresentationSpec, blocks: dict[str, InputBlock], specs: list[RepresentationSpec],
               log: Log) -> RepresentationSpec | None:
    """``spec`` as it can run on this collection: unchanged when its input exists; moved from
    audio to the lyrics vectors in a lyrics-only run (unless the same model already runs on
    them); None, with a logged reason, when its input is missing."""
    if spec.input in blocks:
        return spec
    if spec.input == "audio" and "lyrics" in blocks:
        moved = spec.model_copy(update={"input": "lyrics"})
        twin = next((other.name for other in specs if other.input == "lyrics" and other.kind == spec.kind
                     and other.params == spec.params and other.condition == spec.condition), None)
        if twin is None:
            log(f"{spec.name}: no audio in this collection; runs on the lyrics vectors")
            return moved
        log(f"{spec.name}: no audio in this collection; the same model on lyrics runs as {twin}")
        return None
    log(f"{spec.name}: skipped, this collection has no {spec.input} input "
        f"({_MISSING_INPUT.get(spec.input, 'not given')})")
    return None


def _named_for_what_it_reads(spec: RepresentationSpec, configured: RepresentationSpec, from_table: bool,
                             taken: set[str], log: Log) -> RepresentationSpec:
    """``spec`` renamed after what it reads when that is not what its name says: moved to the
    lyrics vectors (``raw-stats`` → ``raw-lyrics``, ``pca`` → ``pca-lyrics``), or reading a
    feature table's columns (``raw-stats`` → ``raw-features``); kept when the new name is
    another representation's."""
    parts = spec.name.split("-")
    reads = "lyrics" if spec.input != configured.input else "features" if from_table and spec.input == "audio" else ""
    if not reads or reads in parts or (reads == "features" and "stats" not in parts):
        return spec
    name = "-".join(reads if part == "stats" else part for part in parts) if "stats" in parts else f"{spec.name}-{reads}"
    if name in taken:
        return spec
    taken.add(name)
    log(f"{spec.name}: named {name}, after what it reads in this collection")
    return spec.model_copy(update={"name": name})


def _has_condition(spec: RepresentationSpec, tracks: pd.DataFrame, ok: np.ndarray, log: Log) -> bool:
    """Whether a conditional model's column has two values or more among the usable tracks (a
    collection of one language gives a CVAE on language nothing to condition on); said when not."""
    if spec.condition is None or spec.condition not in tracks.columns:
        return True  # a missing column is an error where the inputs are built
    values = tracks.loc[ok, spec.condition].dropna().astype(str)
    if values[values != ""].nunique() >= 2:
        return True
    log(f"{spec.name}: skipped, every track has the same {spec.condition} "
        f"({values.iloc[0] if len(values) else 'none'}): nothing to condition on")
    return False


def _hybrid(audio: np.ndarray, audio_ok: np.ndarray, lyrics: np.ndarray,
            with_lyrics: np.ndarray) -> np.ndarray:
    """Audio statistics (standardized over the tracks that have both) and lyric vectors side
    by side, each part scaled to unit root-mean-square row norm so that neither drowns the
    other; the lyric part is zero for tracks without lyrics, both parts for tracks whose
    audio failed."""
    hybrid = np.zeros((len(audio), audio.shape[1] + lyrics.shape[1]), dtype=np.float32)
    if with_lyrics.any():
        scaler = Standardizer().fit(as_matrix(audio[with_lyrics]))
        hybrid[audio_ok, :audio.shape[1]] = scaler.transform(audio[audio_ok]) / np.sqrt(audio.shape[1])
        hybrid[with_lyrics, audio.shape[1]:] = lyrics[with_lyrics]
    return hybrid


def _named(track_id: str, path: str) -> str:
    """A track as messages name it: its id, and its file when it has one."""
    return f"{track_id} ({path})" if path else str(track_id)


def _log_skipped(tracks: pd.DataFrame, log: Log) -> None:
    """One line per skipped track, then a count per kind of reason."""
    skipped = tracks[tracks["status"] != "ok"]
    for track_id, path, reason in zip(skipped["track_id"], skipped["path"], skipped["reason"]):
        log(f"skipped {_named(track_id, path)}: {reason}")
    if len(skipped):
        kinds = skipped["reason"].str.split(r" \(|:", regex=True).str[0].value_counts()
        summary = ", ".join(f"{kind} ({count})" for kind, count in kinds.items())
        log(f"skipped {len(skipped)} of {len(tracks)} tracks: {summary}")


@dataclass
class _Scoring:
    """What every representation's clusters are scored against, over the analysed tracks."""

    track_ids: np.ndarray
    truth: dict[str, np.ndarray]
    n_clusters: int | None


def _common_space(block: InputBlock, ok: np.ndarray) -> np.ndarray:
    """The block's own features, standardized, on the analysed tracks (zeros where the block
    has none; those tracks are noise for that representation)."""
    usable = block.usable[ok]
    values = as_matrix(block.common[block.usable])
    common = np.zeros((len(usable), values.shape[1]), dtype=np.float32)
    common[usable] = Standardizer().fit(values).transform(values)
    return common


MODEL_POSTERIOR = "posterior"  # the algorithm name of a model's own cluster assignments


def _clusterings(model: Representation, inputs: dict[str, np.ndarray], covered: np.ndarray,
                 config: RunConfig, seed: int, log: Log, name: str) -> list[tuple[str, Clustering, float]]:
    """(algorithm, clustering, seconds) for every configured clusterer on the embedding, and
    the model's own assignments when it clusters itself; a clusterer that cannot run is
    logged and left out."""
    clusterings = []
    for clusterer in config.clusterers:
        started = time.perf_counter()
        try:
            clustering = cluster(clusterer.name, covered, config.n_clusters, seed, **clusterer.params)
        except ClusteringError as error:  # one algorithm that cannot run does not stop the grid
            log(f"{name} + {clusterer.name}, seed {seed}: skipped: {error}")
            continue
        clusterings.append((clusterer.name, clustering, time.perf_counter() - started))
    if callable(getattr(model, "predict", None)):
        started = time.perf_counter()
        own = Clustering(np.asarray(model.predict(**inputs), dtype=np.int64))
        clusterings.append((MODEL_POSTERIOR, own, time.perf_counter() - started))
    return clusterings


@dataclass
class _SeedFit:
    """One seed's model of a representation: its embedding of the analysed tracks and how it
    was obtained."""

    embedding: np.ndarray
    reused: bool
    model_dir: str
    fit_seconds: float


def _run_representation(spec: RepresentationSpec, block: InputBlock, tracks: pd.DataFrame,
                        common: np.ndarray, ok: np.ndarray, config: RunConfig, scoring: _Scoring,
                        workspace: Workspace, counts: dict[str, int], log: Log,
                        fitted_now: frozenset[Path] = frozenset()) -> tuple[list[dict], list[dict], Labelings]:
    """Fit, embed, cluster and score one representation over every seed, and, for neural
    models with two seeds or more, the consensus of each clusterer over the seeds (`_consensus`);
    write its labels and embeddings. Returns result rows, k-selection rows, and its labelings by
    (representation, algorithm, seed) unless it is conditioned on a scored label (they stay out of
    `agreement`); a consensus enters them once, under the first seed."""
    usable = block.usable[ok]  # rows of the analysed tracks that this input covers
    inputs = _model_inputs(spec, block, tracks)
    leak = spec.condition is not None and spec.condition in scoring.truth
    fixed = {"representation": spec.name, "kind": spec.kind, "input": spec.input,
             "segments": reads_segments(spec) and bool(block.segments), "n_tracks": int(usable.sum()),
             "conditioned_on": spec.condition or "", "supervised_leak": leak}
    rows, k_rows, fits = [], [], {}
    labels_by_algorithm: dict[str, dict[str, np.ndarray]] = {}

    def add_row(algorithm: str, seed: int, labels: np.ndarray, cluster_seconds: float) -> None:
        fit = fits[seed]
        rows.append({**fixed, "algorithm": algorithm, "seed": seed, "model_reused": fit.reused,
                     "model_dir": fit.model_dir, "fit_seconds": fit.fit_seconds, "cluster_seconds": cluster_seconds,
                     **evaluate(fit.embedding, labels, scoring.truth, seed, common_space=common)})
        labels_by_algorithm.setdefault(algorithm, {})[f"seed_{seed}"] = labels

    for seed in config.seeds:
        model, fit_seconds, was_reused, model_dir = _fitted_model(spec, seed, block, inputs,
                                                                  config, workspace, log, fitted_now)
        counts["reused" if was_reused else "trained"] += 1
        covered = model.transform(**inputs)
        embedding = np.zeros((len(usable), covered.shape[1]), dtype=np.float32)
        embedding[usable] = covered
        fits[seed] = _SeedFit(embedding, was_reused, model_dir.name, fit_seconds)
        write_npz(workspace.embedding(spec.name, seed), track_id=scoring.track_ids,
                  embedding=np.where(usable[:, None], embedding, np.nan))
        for algorithm, clustering, cluster_seconds in _clusterings(model, inputs, covered, config,
                                                                   seed, log, spec.name):
            labels = np.full(len(usable), NOISE, dtype=np.int64)
            labels[usable] = clustering.labels
            if clustering.rule:
                write_npz(workspace.cluster_rule(spec.name, algorithm, seed), **clustering.rule)
            k_rows += [{"representation": spec.name, "algorithm": algorithm, "seed": seed,
                        "criterion": clustering.criterion, "k": k, "score": score}
                       for k, score in clustering.curve.items()]
            add_row(algorithm, seed, labels, cluster_seconds)
    seed_stability = {algorithm: stability(list(columns.values())) for algorithm, columns in labels_by_algorithm.items()}
    if issubclass(REPRESENTATIONS[spec.kind], NeuralRepresentation) and len(config.seeds) > 1:
        for algorithm, columns in list(labels_by_algorithm.items()):
            started = time.perf_counter()
            agreed, seed_stability[CONSENSUS_PREFIX + algorithm] = _consensus(list(columns.values()), usable,
                                                                              config.n_clusters)
            for seed in config.seeds:
                add_row(CONSENSUS_PREFIX + algorithm, seed, agreed, time.perf_counter() - started)
    for algorithm, columns in labels_by_algorithm.items():
        write_parquet(pd.DataFrame({"track_id": scoring.track_ids, **columns}),
                      workspace.labels(spec.name, algorithm))
    for row in rows:
        row["stability"] = seed_stability[row["algorithm"]]
    first = f"seed_{config.seeds[0]}"
    labelings = {} if leak else {(spec.name, algorithm, int(seed.removeprefix("seed_"))): labels
                                 for algorithm, columns in labels_by_algorithm.items()
                                 for seed, labels in columns.items()
                                 if seed == first or not algorithm.startswith(CONSENSUS_PREFIX)}
    return rows, k_rows, labelings


def _consensus(labelings: list[np.ndarray], usable: np.ndarray, n_clusters: int | None) -> tuple[np.ndarray, float]:
    """The consensus of one clusterer's labelings over the seeds on the ``usable`` tracks (the
    others noise), and its stability: the consensus of one half of the seeds against the other's."""
    covered = [labels[usable] for labels in labelings]
    agreed = np.full(len(usable), NOISE, dtype=np.int64)
    agreed[usable] = consensus_labels(covered, n_clusters)
    return agreed, consensus_stability(covered, n_clusters)


def _with_agreement(results: pd.DataFrame, labelings: Labelings) -> pd.DataFrame:
    """``results`` with an ``agreement`` column: each (representation, algorithm, seed)
    labeling's agreement with the other labelings in ``labelings``, each input one vote when the
    run has several (see `agreement`); NaN for results left out of them (conditioned on a scored
    label)."""
    if results.empty:
        return results
    input_of = dict(zip(results["representation"], results["input"]))
    scores = agreement(labelings, {key: input_of[key[0]] for key in labelings})
    keys = zip(results["representation"], results["algorithm"], results["seed"].astype(int))
    return results.assign(agreement=[scores.get(key, np.nan) for key in keys])


def check_enough_tracks(count: int, n_clusters: int | None, what: str = "tracks can be analysed") -> None:
    """A `PipelineError` when ``count`` tracks are too few to cluster (`MIN_TRACKS`) or fewer
    than the ``n_clusters`` asked for."""
    if count < MIN_TRACKS:
        raise PipelineError(f"only {count} {what}; clustering needs at least {MIN_TRACKS}")
    if n_clusters is not None and count < n_clusters:
        raise PipelineError(f"only {count} {what}, fewer than k = {n_clusters}")


def run_experiment(config: RunConfig, collection: Collection, workspace: Workspace,
                   log: Log = print, times: StageTimes | None = None) -> RunOutcome:
    """Run the whole grid on ``collection`` and write every artifact into ``workspace``; each
    stage's seconds (the features, the fits on workers, each representation's models and
    clusterings, the agreement) are added to ``times``."""
    times = times if times is not None else StageTimes()
    tracks = collection.tracks.copy()
    blocks = _feature_blocks(config, collection, tracks, workspace, log, times)
    ok = tracks["status"].to_numpy() == "ok"
    check_enough_tracks(int(ok.sum()), config.n_clusters)
    label_columns = config.label_columns if config.label_columns is not None else collection.label_columns
    scoring = _Scoring(tracks.loc[ok, "track_id"].to_numpy(dtype=str),
                       {column: tracks.loc[ok, column].to_numpy(dtype=object) for column in label_columns},
                       config.n_clusters)
    rows: list[dict] = []
    k_rows: list[dict] = []
    labelings: Labelings = {}
    counts = {"trained": 0, "reused": 0}
    common_spaces: dict[str, np.ndarray] = {}  # per input, shared by its representations
    runnable = []
    taken = {spec.name for spec in config.representations}
    for configured in config.representations:
        spec = _available(configured, blocks, config.representations, log)
        if spec is None or not _has_condition(spec, tracks, ok, log):
            continue
        spec = _named_for_what_it_reads(spec, configured, collection.features is not None, taken, log)
        covered = int(blocks[spec.input].usable[ok].sum())
        if covered < max(MIN_TRACKS, config.n_clusters or 0):
            log(f"{spec.name}: only {covered} tracks have {spec.input} features; skipped")
            continue
        runnable.append((spec, blocks[spec.input]))
    with times.measure("model fits on workers"):
        fitted_now = _fit_on_workers(runnable, tracks, config, workspace)
    for spec, block in runnable:
        if spec.input not in common_spaces:
            common_spaces[spec.input] = _common_space(block, ok)
        with training_threads(), times.measure(spec.name):
            spec_rows, spec_k_rows, spec_labelings = _run_representation(spec, block, tracks, common_spaces[spec.input],
                                                         ok, config, scoring, workspace, counts, log, fitted_now)
        rows += spec_rows
        k_rows += spec_k_rows
        labelings.update(spec_labelings)
        log(f"{spec.name}: {len(config.seeds)} seed(s) done")
    with times.measure("agreement"):
        results = _with_agreement(pd.DataFrame(rows), labelings)
    write_parquet(results, workspace.results_parquet)
    write_csv(results, workspace.results_csv)
    if k_rows:
        write_parquet(pd.DataFrame(k_rows), workspace.k_selection)
    return RunOutcome(workspace, tracks, results, label_columns, counts["trained"], counts["reused"], times)
