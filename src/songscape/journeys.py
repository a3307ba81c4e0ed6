"""Ordered lists of a finished run's tracks: a mix that starts at a track and walks through its
neighbourhood, and a path from one track to another in even steps, both in the run's
`track_space` (sound, and lyrics by a weight, as `similar` scores them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra
from sklearn.neighbors import kneighbors_graph

from songscape.library import LibraryError, SavedRun
from songscape.report.cards import display_names
from songscape.track_space import TrackSpace, track_space

MIX_ANCHOR = 0.3  # share of the similarity to the first track in a mix's next choice: it stays in its neighbourhood
MIX_CHOICES = 3  # the next track is drawn (by seed) among this many best candidates
MIX_TEMPERATURE = 0.02  # how much a better candidate is preferred (a softmax over their scores)
PATH_NEIGHBOURS = 10  # a path follows the graph of each track's nearest tracks


def _listed(space: TrackSpace, order: list[int]) -> pd.DataFrame:
    """A list of tracks as a table: position, id, "artist – title", the distance from the
    previous track in the space, and the minutes so far (where durations are known)."""
    points = space.vectors[order]
    steps = np.r_[np.nan, np.linalg.norm(np.diff(points, axis=0), axis=1)]
    rows = space.rows(order)
    duration = rows["duration_s"].astype(float) if "duration_s" in rows else pd.Series(np.nan, index=rows.index)
    return pd.DataFrame({"position": np.arange(1, len(order) + 1), "track_id": space.ids[order],
                         "track": display_names(rows).to_numpy(), "step": np.round(steps, 4),
                         "minutes": np.round(np.nancumsum(duration.to_numpy()) / 60.0, 1)})


def mix(run_dir: Path, track_id: str, count: int | None = 25, minutes: float | None = None,
        representation: str | None = None, lyrics_weight: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """A list that starts at ``track_id`` and walks through its neighbourhood without repeats:
    each next track is drawn, by ``seed``, among the `MIX_CHOICES` unplayed tracks most similar
    to the last one (with `MIX_ANCHOR` of the similarity to the first, so the walk stays
    near it), until ``count`` tracks or, given ``minutes``, that much music."""
    if minutes is None and (count is None or count < 1):
        raise LibraryError("give a number of tracks (at least 1) or of minutes")
    space = track_space(SavedRun.open(run_dir), representation, lyrics_weight)
    start = space.position(track_id)
    durations = space.rows(list(range(len(space.ids))))["duration_s"].astype(float).to_numpy() \
        if "duration_s" in space.run.tracks else np.full(len(space.ids), np.nan)
    if minutes is not None and not np.isfinite(durations).any():
        raise LibraryError("this run has no track durations: give a number of tracks (-n) instead of minutes")
    rng = np.random.default_rng(seed)
    order, played = [start], np.zeros(len(space.ids), dtype=bool)
    played[start] = True
    to_start = space.vectors @ space.vectors[start]

    def wanted() -> bool:
        if played.all():
            return False
        if minutes is not None:
            return np.nansum(durations[order]) < 60.0 * minutes
        return len(order) < count

    while wanted():
        score = (1 - MIX_ANCHOR) * (space.vectors @ space.vectors[order[-1]]) + MIX_ANCHOR * to_start
        score[played] = -np.inf
        best = np.argsort(-score, kind="stable")[:min(MIX_CHOICES, int((~played).sum()))]
        weights = np.exp((score[best] - score[best[0]]) / MIX_TEMPERATURE)
        chosen = int(rng.choice(best, p=weights / weights.sum()))
        order.append(chosen)
        played[chosen] = True
    return _listed(space, order)


def path(run_dir: Path, start_id: str, end_id: str, count: int = 12, representation: str | None = None,
         lyrics_weight: float = 0.0) -> pd.DataFrame:
    """``count`` tracks from ``start_id`` to ``end_id`` in even steps (AudioMuse-AI's "song
    path"), along where the collection's tracks are rather than straight through the empty
    space between them: the shortest route between the two in the graph that joins each track
    to its `PATH_NEIGHBOURS` nearest, cut into ``count − 1`` equal lengths, each cut taken by
    the nearest track not yet on the list. Deterministic: no choice is drawn."""
    space = track_space(SavedRun.open(run_dir), representation, lyrics_weight)
    first, last = space.position(start_id), space.position(end_id)
    if first == last:
        raise LibraryError("a path needs two different tracks")
    if not 2 <= count <= len(space.ids):
        raise LibraryError(f"a path has 2 to {len(space.ids)} tracks (this run's), not {count}")
    route = space.vectors[_graph_route(space.vectors, first, last)]
    used = np.zeros(len(space.ids), dtype=bool)
    used[[first, last]] = True
    inner = []
    for waypoint in _even_points(route, count)[1:-1]:
        distance = np.linalg.norm(space.vectors - waypoint, axis=1)
        distance[used] = np.inf
        nearest = int(np.argmin(distance))
        used[nearest] = True
        inner.append(nearest)
    return _listed(space, [first, *inner, last])


def _graph_route(vectors: np.ndarray, first: int, last: int) -> list[int]:
    """The rows on the shortest route from ``first`` to ``last`` in the symmetric graph of each
    row's `PATH_NEIGHBOURS` nearest rows (Euclidean); the two alone when the graph does not
    join them."""
    neighbours = min(PATH_NEIGHBOURS, len(vectors) - 1)
    graph = kneighbors_graph(vectors, neighbours, mode="distance")
    _, predecessors = dijkstra(graph.maximum(graph.T), directed=False, indices=first, return_predecessors=True)
    if predecessors[last] < 0:
        return [first, last]
    route = [last]
    while route[-1] != first:
        route.append(int(predecessors[route[-1]]))
    return route[::-1]


def _even_points(route: np.ndarray, count: int) -> np.ndarray:
    """``count`` points that cut the polyline through ``route``'s rows into equal lengths (its
    two ends included)."""
    lengths = np.linalg.norm(np.diff(route, axis=0), axis=1)
    along = np.r_[0.0, np.cumsum(lengths)]
    targets = np.linspace(0.0, along[-1], count)
    segment = np.clip(np.searchsorted(along, targets, side="right") - 1, 0, len(route) - 2)
    fraction = np.where(lengths[segment] > 0, (targets - along[segment]) / np.maximum(lengths[segment], 1e-12), 0.0)
    return route[segment] + fraction[:, None] * (route[segment + 1] - route[segment])
