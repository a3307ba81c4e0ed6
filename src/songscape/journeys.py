"""Ordered lists of a finished run's tracks: a mix that starts at a track and walks through its
neighbourhood, and a path from one track to another in even steps, both in the run's
`track_space` (sound, and lyrics by a weight, as `similar` scores them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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
    space between them: of the routes of exactly ``count − 1`` steps in the graph that joins
    each track to its `PATH_NEIGHBOURS` nearest, the one whose squared step lengths sum least
    (for a given way, equal steps sum least), found by dynamic programming; a track the route
    passes twice is replaced by the free track nearest to the middle of its two neighbours.
    Deterministic: no choice is drawn."""
    space = track_space(SavedRun.open(run_dir), representation, lyrics_weight)
    first, last = space.position(start_id), space.position(end_id)
    if first == last:
        raise LibraryError("a path needs two different tracks")
    if not 2 <= count <= len(space.ids):
        raise LibraryError(f"a path has 2 to {len(space.ids)} tracks (this run's), not {count}")
    return _listed(space, _without_repeats(space.vectors, _least_squares_route(space.vectors, first, last, count)))


def _least_squares_route(vectors: np.ndarray, first: int, last: int, count: int) -> list[int]:
    """The ``count`` rows from ``first`` to ``last``, each a graph neighbour of the one before,
    whose squared step lengths sum least; the straight line's nearest rows when the graph has
    no such route."""
    if count == 2:
        return [first, last]
    graph = kneighbors_graph(vectors, min(PATH_NEIGHBOURS, len(vectors) - 1), mode="distance")
    graph = graph.maximum(graph.T).tocoo()
    sources, targets, squared = graph.row, graph.col, graph.data ** 2
    cost = np.full(len(vectors), np.inf)
    cost[first] = 0.0
    back = np.zeros((count - 1, len(vectors)), dtype=np.int64)
    for step in range(count - 1):
        reached = cost[sources] + squared
        order = np.lexsort((reached, targets))  # per target, its cheapest edge first
        targets_sorted = targets[order]
        cheapest = order[np.r_[True, targets_sorted[1:] != targets_sorted[:-1]]]
        cost = np.full(len(vectors), np.inf)
        cost[targets[cheapest]] = reached[cheapest]
        back[step, targets[cheapest]] = sources[cheapest]
    if not np.isfinite(cost[last]):
        return _straight_route(vectors, first, last, count)
    route = [last]
    for step in range(count - 2, -1, -1):
        route.append(int(back[step, route[-1]]))
    return route[::-1]


def _nearest_unused(vectors: np.ndarray, point: np.ndarray, used: np.ndarray) -> int:
    """The row nearest to ``point`` that is not ``used``; marked used."""
    distance = np.linalg.norm(vectors - point, axis=1)
    distance[used] = np.inf
    chosen = int(np.argmin(distance))
    used[chosen] = True
    return chosen


def _straight_route(vectors: np.ndarray, first: int, last: int, count: int) -> list[int]:
    """``first``, the nearest other rows to the points that cut the line between the two into
    equal parts, and ``last``."""
    used = np.zeros(len(vectors), dtype=bool)
    used[[first, last]] = True
    inner = [_nearest_unused(vectors, (1 - fraction) * vectors[first] + fraction * vectors[last], used)
             for fraction in np.linspace(0.0, 1.0, count)[1:-1]]
    return [first, *inner, last]


def _without_repeats(vectors: np.ndarray, route: list[int]) -> list[int]:
    """``route`` with each inner visit of a row already on it (an end included) replaced by
    the unused row nearest to the middle of its two neighbours on the route."""
    used = np.zeros(len(vectors), dtype=bool)
    used[route] = True
    seen = {route[0], route[-1]}
    for index in range(1, len(route) - 1):
        if route[index] in seen:
            route[index] = _nearest_unused(vectors, (vectors[route[index - 1]] + vectors[route[index + 1]]) / 2, used)
        seen.add(route[index])
    return route
