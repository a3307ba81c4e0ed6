"""How well `songscape search --sound` finds what a query names, in English and Bangla.

- ``--styles RUN:LABEL``: precision at 10 of style queries against a label column (the demo
  corpus: `songscape demo --preset hard`, label ``style``): the share of the ten best tracks
  whose label is the query's style.
- ``--synonyms RUN``: on a real run (debian-music), the overlap of the ten best tracks for a
  class's own name and for other words or languages for it (1.0: the same ten tracks).

    .venv/bin/python benchmarks/sound_search.py --styles songscape-runs/demo:style --synonyms songscape-runs/debian-music

``--without-glossary`` measures e5 alone (the class names without their Bangla names).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from songscape import sound_search
from songscape.library import SavedRun
from songscape.sound_search import search_sound

STYLE_QUERIES = {  # the demo corpus's styles, each asked for in English and in Bangla
    "rock": ["rock music", "রক গান"], "ambient": ["ambient", "শান্ত সংগীত"],
    "folk": ["folk music", "লোকগীতি"], "electronic": ["electronic music", "ইলেকট্রনিক সংগীত"],
}
SYNONYMS = {  # a class's own name, then other words and languages for it
    "flute": ["বাঁশি", "Flöte", "flauta"], "drum": ["ঢোল", "Trommel", "tambor"],
    "guitar": ["গিটার", "Gitarre", "guitarra"], "violin": ["বেহালা", "Geige", "violín"],
    "rock music": ["রক গান", "Rockmusik", "música rock"], "piano": ["পিয়ানো", "Klavier", "piano music"],
}


def precision_at_10(run_dir: Path, label: str) -> pd.DataFrame:
    """One row per style query: the share of its ten best tracks with that style."""
    labels = SavedRun.open(run_dir).tracks.set_index("track_id")[label].astype(str)
    rows = []
    for style, queries in STYLE_QUERIES.items():
        for query in queries:
            found, classes = search_sound(run_dir, query, 10)
            rows.append({"style": style, "query": query, "precision@10": (labels.loc[found["track_id"]] == style).mean(),
                         "nearest class": f"{classes.index[0]} ({classes.iloc[0]:.2f})"})
    return pd.DataFrame(rows)


def synonym_overlap(run_dir: Path) -> pd.DataFrame:
    """One row per other word: how many of the ten best tracks it shares with the class's name."""
    rows = []
    for name, others in SYNONYMS.items():
        reference = set(search_sound(run_dir, name, 10)[0]["track_id"])
        for word in others:
            found, classes = search_sound(run_dir, word, 10)
            rows.append({"class name": name, "word": word, "overlap@10": len(reference & set(found["track_id"])) / 10,
                         "nearest class": f"{classes.index[0]} ({classes.iloc[0]:.2f})"})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", help="RUN:LABEL, a run with style labels (the demo's).")
    parser.add_argument("--synonyms", type=Path, help="A real run (debian-music).")
    parser.add_argument("--without-glossary", action="store_true", help="e5 alone: no Bangla class names.")
    args = parser.parse_args()
    if args.without_glossary:
        sound_search.bangla_names = lambda: {}
    if args.styles:
        run_dir, label = args.styles.rsplit(":", 1)
        table = precision_at_10(Path(run_dir), label)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        print(f"mean precision@10: English {table.iloc[0::2]['precision@10'].mean():.2f}, "
              f"Bangla {table.iloc[1::2]['precision@10'].mean():.2f} (chance: the styles' shares)\n")
    if args.synonyms:
        table = synonym_overlap(args.synonyms)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        bangla = table["word"].str.contains(r"[\u0980-\u09FF]")
        print(f"mean overlap@10: Bangla {table.loc[bangla, 'overlap@10'].mean():.2f}, "
              f"other languages and words {table.loc[~bangla, 'overlap@10'].mean():.2f}")


if __name__ == "__main__":
    main()
