"""One track, one pass: decode the file once and compute everything the run needs from it.

The excerpt is read at the file's own rate, then resampled once per rate a stage needs: the
analysis rate for the statistics and the log-mel patch, and the pretrained network's own rate
(16 kHz for musicnn, 32 kHz for EfficientAT). On the CPU the worker also runs the network (one
thread: see `songscape.threads`); when it runs on a GPU, the worker returns the network's input
(its log-mel) and the process that owns the GPU runs the network. A job asks only for the parts
that are not cached yet. Bad audio never raises: the result carries the reason instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from songscape.audio import efficientat, musicnn
from songscape.audio.decode import DecodeError, ExcerptSpec, SourceExcerpt, at_rate, read_excerpt, split_pieces
from songscape.audio.features import SpectralSettings, track_features
from songscape.audio.musicnn import Musicnn, TrackTags
from songscape.filenames import file_path
from songscape.scan import unusable_file

_SILENCE_PEAK = 1e-5  # -100 dBFS
NETWORKS = (*efficientat.MODELS, *musicnn.MODELS)


@dataclass(frozen=True)
class NetworkSpec:
    """Which pretrained network to run (``mn04_as``, ``MTT_musicnn`` or ``MSD_musicnn``), with
    which weights, on which PyTorch ``device``, and whether each worker runs it (the CPU case)
    or returns its input for the process that owns the device (a GPU: one process feeds it)."""

    model: str = "MTT_musicnn"
    weights: str | None = None
    device: str = "cpu"
    in_worker: bool = True


class PretrainedNetwork(Protocol):
    """What the one pass needs of a loaded pretrained network."""

    embedding_size: int
    tag_names: list[str]

    def track_patches(self, network_input: np.ndarray) -> TrackTags:
        """Tags and embeddings of the input's patches (`network_input`)."""


def network_rate(model: str) -> int:
    """The sample rate the network ``model`` reads."""
    return efficientat.SAMPLE_RATE if model in efficientat.MODELS else musicnn.SAMPLE_RATE


def network_input(model: str, audio: np.ndarray) -> np.ndarray:
    """The input of network ``model`` for mono audio at its rate: EfficientAT reads the audio
    as one clip (1, 128, frames), musicnn as consecutive 3-s patches (patches, 187, 96). A
    worker computes it without loading the network."""
    if model in efficientat.MODELS:
        return efficientat.log_mel(audio)[None]
    return musicnn.patches(musicnn.log_mel(audio))


class _AudioSetTagger:
    """EfficientAT as a `PretrainedNetwork` (its embedding from every block with ``all_blocks``)."""

    def __init__(self, weights: Path | None, device: str, all_blocks: bool = False) -> None:
        self.network = efficientat.EfficientAT(weights, device, all_blocks)
        self.embedding_size = efficientat.BLOCKS_EMBEDDING_SIZE if all_blocks else efficientat.EMBEDDING_SIZE
        self.tag_names = self.network.class_names

    def track_patches(self, network_input: np.ndarray) -> TrackTags:
        found = self.network.predict_log_mel(network_input)
        return TrackTags(found.probabilities, found.embeddings)


@lru_cache(maxsize=2)
def tagger(spec: NetworkSpec) -> PretrainedNetwork:
    """The network of ``spec``, loaded once per process (musicnn's `Musicnn` is one as it is)."""
    weights = Path(spec.weights) if spec.weights else None
    if spec.model in efficientat.MODELS:
        return _AudioSetTagger(weights, spec.device, all_blocks=spec.model == efficientat.BLOCKS_MODEL)
    return Musicnn(spec.model, weights, device=spec.device)


@dataclass(frozen=True)
class TrackJob:
    """What a worker computes for one track: the statistics and mel patch when ``settings``
    is given, the pretrained network when ``network`` is (each None when already cached)."""

    path: str
    settings: SpectralSettings | None
    excerpt: ExcerptSpec = ExcerptSpec()
    network: NetworkSpec | None = None


@dataclass(frozen=True)
class TrackFeatures:
    """One track's features, or the reason it has none: the statistics of each piece of the
    excerpt (``segment_stats``, one row per segment; one row for a single excerpt) and their
    mean (``stats``), the log-mel patch of the middle piece. ``network_input`` holds the
    network's input when the network is to run outside the worker."""

    stats: np.ndarray | None
    mel: np.ndarray | None
    duration_s: float
    padded: bool = False
    error: str = ""
    network_result: TrackTags | None = None
    network_input: np.ndarray | None = None
    segment_stats: np.ndarray | None = None


def failed_track(reason: str) -> TrackFeatures:
    """The result of a track that could not be analysed."""
    return TrackFeatures(None, None, float("nan"), error=reason)


def _statistics(source: SourceExcerpt, settings: SpectralSettings, excerpt: ExcerptSpec,
                ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Each piece's statistics (pieces, n_stats), the middle piece's log-mel patch, and
    whether the excerpt was padded."""
    decoded = at_rate(source, settings.sample_rate, excerpt)
    pieces = split_pieces(decoded.samples, excerpt)
    if pieces.shape[1] < settings.n_fft:
        raise DecodeError(f"too short ({pieces.shape[1]} samples per piece after decoding)")
    if max(decoded.samples.max(), -decoded.samples.min()) < _SILENCE_PEAK:
        raise DecodeError("silent (peak below -100 dBFS)")
    computed = [track_features(piece, settings) for piece in pieces]
    return np.stack([stats for stats, _ in computed]), computed[len(computed) // 2][1], decoded.padded


def run_job(job: TrackJob) -> TrackFeatures:
    """Decode the track once and compute the parts ``job`` asks for (what every runner
    executes)."""
    path = file_path(job.path)
    refused = unusable_file(path)
    if refused:  # only regular files are opened: a FIFO or a device would hang or fill the memory
        return failed_track(refused)
    try:
        source = read_excerpt(path, job.excerpt)
        segment_stats = stats = mel = None
        padded = False
        if job.settings is not None:
            segment_stats, mel, padded = _statistics(source, job.settings, job.excerpt)
            stats = segment_stats.mean(axis=0)
        tags = prepared = None
        if job.network is not None:
            model = job.network.model
            pieces = split_pieces(at_rate(source, network_rate(model), job.excerpt).samples, job.excerpt)
            prepared = np.concatenate([network_input(model, piece) for piece in pieces])
            if job.network.in_worker:
                try:
                    tags, prepared = tagger(job.network).track_patches(prepared), None
                except (RuntimeError, ValueError) as error:  # the network failed on this track
                    return failed_track(f"{job.network.model} failed: {error}")
        return TrackFeatures(stats, mel, source.duration_s, padded, network_result=tags, network_input=prepared,
                             segment_stats=segment_stats)
    except (DecodeError, OSError) as error:
        return failed_track(str(error))


def extract_track(path: str, settings: SpectralSettings, excerpt: ExcerptSpec = ExcerptSpec()) -> TrackFeatures:
    """Decode ``path``, cut the excerpt and compute its statistics and mel patch."""
    return run_job(TrackJob(path, settings, excerpt))
