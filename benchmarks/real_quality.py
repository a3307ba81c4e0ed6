"""Does the VAE family earn its place on real music? songscape's own grid on the real development sets.

    bash ../shared/data/debian-music/build.sh /work/data/debian-music      # once, ~2 min
    .venv/bin/python benchmarks/real_quality.py --debian-music /work/data/debian-music \
        --work /work/data/real-quality

Sets: debian-music-xl and debian-music (label ``source``; ``--debian-music-xl``,
``--debian-music``), jamendo-cc-20 (``tag``) and lyrics-bn-en-450 (Bangla rows by ``genre``,
English rows by ``genre``, all rows by ``language``), and with ``--clips`` a clip corpus from
`excerpt_corpus.py` (``track``: the track each clip was cut from; ``source`` also scored). Each set runs the preset (hard by default)
plus raw and PCA baselines on every input a VAE-family model reads, with k = the
number of label classes and 5 seeds. Features and models are cached under ``--work``, so a rerun
after a model change repeats only what changed.

Prints per set: NMI, ARI, stability and agreement per representation and clusterer (mean of the
seeds), the ratio of the best VAE-family result to the best raw/PCA result on the same input,
and the result the report would call best without labels (highest agreement) with its NMI. Results of
models conditioned on the scored label are left out of that ratio.
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from songscape.collection import load_collection, read_table
from songscape.config import PRESETS, RunConfig, load_config, preset, validate_config
from songscape.experiment import run_experiment
from songscape.report.tables import best_result
from songscape.workspace import Workspace

VAE_FAMILY = {"vae", "cvae", "conv-vae", "mvae", "vade", "group-vae"}
BASELINES = {"raw", "pca"}
SAME_INPUT = {"multimodal": "hybrid"}  # the multimodal VAE reads audio and lyrics: the hybrid block
BASELINE_INPUTS = ("audio", "pretrained", "fused", "hybrid", "lyrics")


@dataclass(frozen=True)
class RealSet:
    """One development set: where its files are, the label scored, and an optional row filter."""

    name: str
    label: str
    audio_dir: Path | None
    table: Path
    rows: tuple[str, str] | None = None  # (column, value): keep only these rows
    lyrics: Path | None = None  # a lyrics table whose texts are dealt to the tracks (see deal_lyrics)
    also_scored: tuple[str, ...] = ()  # further label columns whose NMI is printed


def real_sets(shared: Path, debian_music: Path | None, debian_music_xl: Path | None = None,
              clips: Path | None = None) -> list[RealSet]:
    """The development sets that exist on this machine (and the clip corpus when given)."""
    lyrics = shared / "lyrics-bn-en-450" / "lyrics.csv"
    jamendo = shared / "jamendo-cc-20"
    sets = []
    if debian_music_xl is not None and (debian_music_xl / "labels.csv").exists():
        sets.append(RealSet("debian-music-xl", "source", debian_music_xl, debian_music_xl / "labels.csv"))
    if debian_music is not None and (debian_music / "labels.csv").exists():
        sets.append(RealSet("debian-music", "source", debian_music, debian_music / "labels.csv"))
        if lyrics.exists():
            sets.append(RealSet("debian-music+lyrics", "language", debian_music, debian_music / "labels.csv",
                                lyrics=lyrics, also_scored=("source",)))
    if (jamendo / "tracks.csv").exists():
        sets.append(RealSet("jamendo-cc-20", "tag", jamendo, jamendo / "tracks.csv"))
    if lyrics.exists():
        sets += [RealSet("lyrics-bangla", "genre", None, lyrics, ("language", "bangla")),
                 RealSet("lyrics-english", "genre", None, lyrics, ("language", "english")),
                 RealSet("lyrics-all", "language", None, lyrics)]
    if clips is not None:
        sets.append(RealSet(clips.name, "track", clips, clips / "lyrics.csv", also_scored=("source",)))
    return sets


def deal_lyrics(tracks: pd.DataFrame, lyrics: pd.DataFrame) -> pd.DataFrame:
    """``tracks`` with a ``lyrics`` and a ``language`` column: Bangla and English lyrics (under
    3 000 characters) dealt in turn, in a fixed shuffled order, to all but every tenth track,
    which stays without lyrics. Language is then independent of the sound, so a multimodal
    model must keep both: language from the lyrics, the source from the audio."""
    short = lyrics[lyrics["lyrics"].str.len() < 3000].sample(frac=1.0, random_state=0)
    pools = {language: list(group["lyrics"]) for language, group in short.groupby("language")}
    order = tracks.sample(frac=1.0, random_state=0).index
    dealt = tracks.assign(lyrics="", language="")
    with_lyrics = [index for position, index in enumerate(order) if position % 10 != 9]
    for turn, index in enumerate(with_lyrics):
        language = sorted(pools)[turn % len(pools)]
        dealt.loc[index, ["lyrics", "language"]] = [pools[language][turn // len(pools)], language]
    return dealt


def set_table(real_set: RealSet, work: Path) -> Path:
    """The set's table, filtered to its rows or given dealt lyrics (written once under
    ``work``); a lyrics table's stale ``audio_path`` column is dropped."""
    frame = read_table(real_set.table)
    if real_set.rows is None and real_set.lyrics is None and "audio_path" not in frame.columns:
        return real_set.table
    frame = frame.drop(columns=["audio_path"], errors="ignore")
    if real_set.lyrics is not None:
        frame = deal_lyrics(frame, read_table(real_set.lyrics))
    if real_set.rows is not None:
        column, value = real_set.rows
        frame = frame[frame[column] == value]
    path = work / f"{real_set.name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    if not path.exists() or path.read_text(encoding="utf-8") != buffer.getvalue():
        path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def with_baselines(config: RunConfig, add: bool = True, **changes: object) -> RunConfig:
    """``config`` with ``changes``, plus (with ``add``) raw and PCA on every input a VAE-family
    model reads (unless present)."""
    specs = [spec.model_dump() for spec in config.representations]
    if not add:
        return validate_config({**config.model_dump(), **changes})
    present = {(spec["kind"], spec["input"]) for spec in specs}
    needed = {SAME_INPUT.get(spec.input, spec.input) for spec in config.representations
              if spec.kind in VAE_FAMILY} & set(BASELINE_INPUTS)
    for block in sorted(needed):
        for kind, params in (("raw", {}), ("pca", {"n_components": 16})):
            if (kind, block) not in present:
                specs.append({"name": f"{kind}-{block}", "kind": kind, "input": block, "params": params})
    return validate_config({**config.model_dump(), **changes, "representations": specs})


def score_table(results: pd.DataFrame, label: str, also_scored: tuple[str, ...] = ()) -> pd.DataFrame:
    """Mean NMI, ARI and stability per (representation, algorithm), best NMI first; the NMI's
    minimum over seeds, and the mean NMI of each ``also_scored`` column."""
    grouped = results.groupby(["representation", "kind", "input", "algorithm"], sort=False)
    table = grouped.agg(nmi=(f"nmi_{label}", "mean"), nmi_std=(f"nmi_{label}", "std"),
                        nmi_min=(f"nmi_{label}", "min"),
                        **{f"nmi_{column}": (f"nmi_{column}", "mean") for column in also_scored},
                        ari=(f"ari_{label}", "mean"), stability=("stability", "mean"),
                        agreement=("agreement", "mean"),
                        leak=("supervised_leak", "any"), fit_s=("fit_seconds", "mean")).reset_index()
    return table.sort_values("nmi", ascending=False, kind="stable").reset_index(drop=True)


def family_ratio(table: pd.DataFrame) -> dict[str, object]:
    """The best VAE-family row, the best raw/PCA row on its input, and their NMI ratio."""
    fair = table[~table["leak"]]
    family = fair[fair["kind"].isin(VAE_FAMILY)]
    if family.empty:
        return {}
    best = family.iloc[0]
    same_input = SAME_INPUT.get(best["input"], best["input"])
    baselines = fair[fair["kind"].isin(BASELINES) & (fair["input"] == same_input)]
    if baselines.empty:
        return {"family": best}
    reference = baselines.iloc[0]
    return {"family": best, "baseline": reference, "ratio": best["nmi"] / max(reference["nmi"], 1e-9)}


def run_set(real_set: RealSet, base: RunConfig, work: Path, seeds: int,
            baselines: bool = True) -> tuple[pd.DataFrame, float, str]:
    """The grid on one set (with raw and PCA baselines on every input, unless not
    ``baselines``: the grid a user of the preset runs); returns its score table, the seconds it
    took, and the result the report calls best (chosen without labels, `best_result`) with its NMI."""
    table = set_table(real_set, work)
    collection = load_collection(real_set.audio_dir, table, label_columns=[real_set.label, *real_set.also_scored])
    classes = collection.tracks[real_set.label].replace("", pd.NA).dropna().nunique()
    config = with_baselines(base, baselines, name=real_set.name, seeds=list(range(seeds)), n_clusters=int(classes),
                            label_columns=[real_set.label, *real_set.also_scored])
    started = time.perf_counter()
    outcome = run_experiment(config, collection, Workspace(work / real_set.name), log=lambda _: None)
    seconds = time.perf_counter() - started
    table = score_table(outcome.results, real_set.label, real_set.also_scored)
    representation, algorithm = best_result(outcome.results)
    chosen = table[(table["representation"] == representation) & (table["algorithm"] == algorithm)].iloc[0]
    return table, seconds, f"{representation} + {algorithm} {chosen['nmi']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--debian-music", type=Path, default=None, help="the folder build.sh wrote")
    parser.add_argument("--debian-music-xl", type=Path, default=None,
                        help="the folder debian-music-xl's build.sh wrote")
    parser.add_argument("--clips", type=Path, default=None,
                        help="a clip corpus from excerpt_corpus.py (scored by the track each clip was cut from)")
    parser.add_argument("--work", type=Path, required=True, help="cache of features and models")
    parser.add_argument("--preset", default="hard", help="a preset's name, or a YAML config")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sets", nargs="*", default=None, help="names of the sets to run (default: all)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="run the preset's grid as it is (the label-free pick a user of it gets)")
    args = parser.parse_args()
    base = preset(args.preset) if args.preset in PRESETS else load_config(Path(args.preset))
    summary, started = [], time.perf_counter()
    for real_set in real_sets(args.shared, args.debian_music, args.debian_music_xl, args.clips):
        if args.sets and real_set.name not in args.sets:
            continue
        table, seconds, label_free_pick = run_set(real_set, base, args.work, args.seeds, not args.no_baselines)
        print(f"\n## {real_set.name} (label {real_set.label}), {args.seeds} seeds, {seconds:.0f} s")
        print(table.drop(columns=["kind"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        ratio = family_ratio(table)
        family, baseline = ratio.get("family"), ratio.get("baseline")
        summary.append({"set": real_set.name,
                        "best VAE-family": "" if family is None else f"{family['representation']} + {family['algorithm']}",
                        "nmi": float("nan") if family is None else family["nmi"],
                        "stability": float("nan") if family is None else family["stability"],
                        "best raw/PCA, same input": ("" if baseline is None
                                                     else f"{baseline['representation']} + {baseline['algorithm']}"),
                        "nmi ": float("nan") if baseline is None else baseline["nmi"],
                        "ratio": ratio.get("ratio", float("nan")),
                        "best overall": f"{table.iloc[0]['representation']} {table.iloc[0]['nmi']:.3f}",
                        "label-free pick": label_free_pick})
    print(f"\n## summary ({time.perf_counter() - started:.0f} s in all)")
    print(pd.DataFrame(summary).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
