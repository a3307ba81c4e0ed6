"""The pretrained network in the process that owns the device (a GPU), fed in large batches.

On a GPU the workers decode and compute the network's input (`songscape.audio.track`), and
one process runs the network. One track's input is a few clips or patches, far too few to
keep a GPU busy, so the inputs of many tracks are gathered and run as one batch: musicnn's
patches always have one shape; EfficientAT's clips share a batch when they have the same
number of frames (every clip of an excerpt does; whole tracks of one length do). Each
track gets back exactly its rows, and no more than one batch of tracks waits at a time. When a batch fails, its tracks run one by one, so only
the track that caused it is marked failed. The same code runs on the CPU (``device: cpu``
with ``in_worker`` off), which is how it is tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from songscape.audio.musicnn import TrackTags
from songscape.audio.track import NetworkSpec, TrackFeatures, failed_track, tagger

TRACKS_PER_BATCH = 32  # tracks whose inputs run together: 32 to 256 clips or patches


@dataclass
class _Waiting:
    """Tracks whose inputs have one shape, waiting for their batch."""

    rows: list[int] = field(default_factory=list)
    results: list[TrackFeatures] = field(default_factory=list)


class DeviceBatches:
    """Gathers the computed tracks that carry the network's input (`TrackFeatures.network_input`)
    and runs the network on them ``tracks_per_batch`` at a time; `add` and `flush` return
    ``(row, result)`` pairs whose result holds the network's output, or the reason it failed."""

    def __init__(self, network: NetworkSpec, tracks_per_batch: int = TRACKS_PER_BATCH) -> None:
        self.network = network
        self.tracks_per_batch = tracks_per_batch
        self.waiting: dict[tuple[int, ...], _Waiting] = {}

    def add(self, row: int, result: TrackFeatures) -> list[tuple[int, TrackFeatures]]:
        """Queue one track; once ``tracks_per_batch`` tracks wait, every group runs and its
        tracks come back with their output (so no more than that many inputs are ever held,
        even when every track has a length of its own)."""
        group = self.waiting.setdefault(tuple(result.network_input.shape[1:]), _Waiting())
        group.rows.append(row)
        group.results.append(result)
        if sum(len(waiting.rows) for waiting in self.waiting.values()) < self.tracks_per_batch:
            return []
        return self.flush()

    def flush(self) -> list[tuple[int, TrackFeatures]]:
        """Run every batch still waiting, however small."""
        done = [pair for group in self.waiting.values() for pair in self._run(group)]
        self.waiting.clear()
        return done

    def _run(self, group: _Waiting) -> list[tuple[int, TrackFeatures]]:
        inputs = [result.network_input for result in group.results]
        try:
            found = tagger(self.network).track_patches(np.concatenate(inputs))
        except (RuntimeError, ValueError):  # one track broke the batch: find it by running each alone
            return [(row, self._alone(result)) for row, result in zip(group.rows, group.results)]
        ends = np.cumsum([len(rows) for rows in inputs])
        return [(row, _with_output(result, TrackTags(found.patch_tags[end - len(rows):end],
                                                     found.patch_embeddings[end - len(rows):end])))
                for row, result, rows, end in zip(group.rows, group.results, inputs, ends)]

    def _alone(self, result: TrackFeatures) -> TrackFeatures:
        try:
            return _with_output(result, tagger(self.network).track_patches(result.network_input))
        except (RuntimeError, ValueError) as error:
            return failed_track(f"{self.network.model} failed: {error}")


def _with_output(result: TrackFeatures, output: TrackTags) -> TrackFeatures:
    """``result`` with the network's output in place of its input."""
    return replace(result, network_result=output, network_input=None)
