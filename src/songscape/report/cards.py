"""Clusters that explain themselves: one card per cluster of a result, with its size, its most
typical tracks (nearest to its centre), its distinctive tags of the pretrained network, its mix of labels, the
ranges of tempo and loudness, and the words that set its lyrics apart in each language. The
report, the map and the playlists' names all read the same cards."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import regex

from songscape.cluster.metrics import NOISE
from songscape.report.tags import typical_tags
from songscape.text.normalize import normalize_lyrics
from songscape.text.tokenize import content_tokens
from songscape.workspace import Workspace, read_npz, read_parquet

TYPICAL_TRACKS = 3
TAGS_SHOWN = 3
VALUES_SHOWN = 3
WORDS_SHOWN = 6
MIN_WORD_TRACKS = 2  # a word must occur in this many of the cluster's lyrics to describe it
RANGE_PERCENTILES = (10, 90)
SLUG_BYTES = 150  # a playlist name in bytes: room for ".m3u8" and repeats within 255
MIX_COLUMNS = ("language", "genre")  # described whenever the tracks have them: language first, genre last


@dataclass
class ClusterCard:
    """What one cluster holds, in words a listener reads."""

    cluster: int
    size: int
    typical: list[str]  # track ids, most typical first
    tags: list[str] = field(default_factory=list)  # "piano (×2.1)"
    mix: dict[str, list[str]] = field(default_factory=dict)  # column → ["rock 60%", …]
    tempo_bpm: list[float] = field(default_factory=list)  # [low, high]: 10th–90th percentile
    loudness_db: list[float] = field(default_factory=list)
    words: dict[str, list[str]] = field(default_factory=dict)  # language → distinctive words

    @property
    def title(self) -> str:
        """"cluster 3 · piano · english": the cluster, its top tag and its dominant values."""
        parts = ["noise" if self.cluster == NOISE else f"cluster {self.cluster}"]
        parts += [tag.split(" (")[0] for tag in self.tags[:1]]
        parts += [values[0].rsplit(" ", 1)[0] for values in self.mix.values() if values][:2]
        return " · ".join(parts)

    @property
    def slug(self) -> str:
        """The title as a file name: "cluster-3-piano-english"; letters of any script keep
        their vowel signs and marks (লোকগীতি), and the name is cut, between whole characters,
        to `SLUG_BYTES` of UTF-8 (file systems allow 255)."""
        slug = regex.sub(r"[^\w\p{M}.-]+", "-", self.title.replace(" · ", "-")).strip("-.")
        kept, size = [], 0
        for grapheme in regex.findall(r"\X", slug):
            size += len(grapheme.encode("utf-8"))
            if size > SLUG_BYTES:
                break
            kept.append(grapheme)
        return "".join(kept).rstrip("-.") or f"cluster-{self.cluster}"

    def facts(self) -> list[tuple[str, str]]:
        """(what, description) lines shown under the typical tracks, empty ones left out."""
        facts = [("sound tags", ", ".join(self.tags))]
        facts += [(column, ", ".join(values)) for column, values in self.mix.items()]
        for name, unit, values in (("tempo", "BPM", self.tempo_bpm), ("loudness", "dBFS", self.loudness_db)):
            if values:
                facts.append((name, f"{values[0]:g} to {values[1]:g} {unit} (10th–90th percentile)"))
        facts += [(f"words ({language})", ", ".join(words)) for language, words in self.words.items()]
        return [(what, text) for what, text in facts if text]


def display_names(tracks: pd.DataFrame) -> pd.Series:
    """"artist – title" (or the title, or the id) for each track."""
    title = tracks["title"].fillna("") if "title" in tracks else pd.Series("", index=tracks.index)
    title = title.where(title != "", tracks["track_id"])
    if "artist" not in tracks:
        return title
    artist = tracks["artist"].fillna("")
    return (artist + " – " + title).where(artist != "", title)


def _typical(embedding: pd.DataFrame, members: list[str]) -> list[str]:
    """The members nearest to their centre in the embedding."""
    points = embedding.reindex(members).dropna()
    if points.empty:
        return members[:TYPICAL_TRACKS]
    distances = np.linalg.norm(points.to_numpy() - points.to_numpy().mean(axis=0), axis=1)
    return list(points.index[np.argsort(distances, kind="stable")[:TYPICAL_TRACKS]])


def _mix(members: pd.DataFrame, columns: list[str]) -> dict[str, list[str]]:
    """Each column's most common values among the members, with their share."""
    mix = {}
    for column in columns:
        values = members[column].fillna("").astype(str) if column in members else pd.Series(dtype=str)
        values = values[values != ""]
        if len(values):
            counts = values.value_counts()
            mix[column] = [f"{value} {count / len(values):.0%}" for value, count in counts.head(VALUES_SHOWN).items()]
    return mix


def _range(values: pd.Series) -> list[float]:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return [round(float(v), 1) for v in np.percentile(values, RANGE_PERCENTILES)] if len(values) else []


def _word_sets(tracks: pd.DataFrame) -> pd.Series:
    """Each track's set of content words (Bangla words whole, stop words out)."""
    lyrics = tracks["lyrics"].fillna("").astype(str) if "lyrics" in tracks else pd.Series("", index=tracks.index)
    return lyrics.map(lambda text: set(content_tokens(normalize_lyrics(text))) if text else set())


def _distinctive_words(words: pd.Series, in_cluster: np.ndarray, language: pd.Series) -> dict[str, list[str]]:
    """Per language, the words whose share of the cluster's lyrics most exceeds their share of
    the other lyrics in that language (each in at least `MIN_WORD_TRACKS` of the cluster's)."""
    found = {}
    for name in sorted(set(language[in_cluster & words.map(bool).to_numpy()])):
        same = (language == name).to_numpy() & words.map(bool).to_numpy()
        inside, outside = words[same & in_cluster], words[same & ~in_cluster]
        counts_in = Counter(word for bag in inside for word in bag)
        counts_out = Counter(word for bag in outside for word in bag)
        scored = [(count / len(inside) - counts_out[word] / max(len(outside), 1), word)
                  for word, count in counts_in.items() if count >= MIN_WORD_TRACKS]
        best = [word for score, word in sorted(scored, key=lambda item: (-item[0], item[1])) if score > 0]
        if best:
            found[name or "lyrics"] = best[:WORDS_SHOWN]
    return found


def cluster_cards(workspace: Workspace, tracks: pd.DataFrame, representation: str, algorithm: str,
                  label_columns: list[str], seed: int) -> list[ClusterCard]:
    """A card for every cluster of (representation, algorithm) in ``seed``, noise last."""
    labels = read_parquet(workspace.labels(representation, algorithm)).set_index("track_id")[f"seed_{seed}"]
    by_id = tracks.set_index(tracks["track_id"].astype(str), drop=False).loc[labels.index.astype(str)]
    stored = read_npz(workspace.embedding(representation, seed))
    embedding = pd.DataFrame(stored["embedding"], index=stored["track_id"].astype(str))
    tags = (typical_tags(read_parquet(workspace.track_tags).set_index("track_id"), labels, TAGS_SHOWN)
            if workspace.track_tags.exists() else {})
    columns = list(dict.fromkeys([MIX_COLUMNS[0], *label_columns, *MIX_COLUMNS[1:]]))
    words = _word_sets(by_id)
    language = by_id["language"].fillna("").astype(str) if "language" in by_id else pd.Series("", index=by_id.index)
    cards = []
    for cluster in sorted(set(labels), key=lambda c: (c == NOISE, c)):
        in_cluster = (labels == cluster).to_numpy()
        members = by_id[in_cluster]
        card = ClusterCard(int(cluster), int(in_cluster.sum()), _typical(embedding, list(members.index)),
                           mix=_mix(members, columns), tempo_bpm=_range(members.get("tempo_bpm", pd.Series())),
                           loudness_db=_range(members.get("loudness_db", pd.Series())),
                           tags=tags.get(int(cluster), []), words=_distinctive_words(words, in_cluster, language))
        cards.append(card)
    return cards
