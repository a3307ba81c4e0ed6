"""A whole run from nothing to the report, then an update of a few new tracks, timed per stage,
with this checkout's code and, with ``--reference-src``, another checkout's (``git worktree add
../ref <commit>``, then ``--reference-src ../ref/src``) in the same run. Each version gets a
fresh workspace (no cache of any kind) and each command a fresh process, start-up included.

    .venv/bin/python benchmarks/whole_run.py --audio /tmp/clips-1000 --table /tmp/clips-1000/lyrics.csv \
        --k 6 --labels track,source [--reference-src ../ref/src]

(the corpus from `benchmarks/excerpt_corpus.py`). The update adds ``--add`` new tracks: the last
clips of the folder at 0.9 of their gain (new contents, so no cache serves them), each with the
lyrics of its original plus a line naming it. Prints per version the run's wall time, the
front-end's and e5's own times (from their progress lines), the stage times the run reports
(``run.json`` ``stage_seconds``, where the version keeps them), the update's wall time, and per
label the best result's NMI (mean ± std over seeds) and that of the result chosen without labels.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd
import soundfile as sf

from songscape.collection import AUDIO_EXTENSIONS
from songscape.report.tables import best_result

from code_versions import code_versions, timed_command  # benchmarks/ is on the path when a benchmark runs

# a progress stage's last line, e.g. "e5 lyric embeddings: 1000 texts in 1m52s"
STAGE_LINE = re.compile(r"^(audio features[^:]*|e5 lyric embeddings): \d+ \w+ in (?:(\d+)m)?(\d+)s$")


def progress_seconds(log: Path) -> dict[str, float]:
    """Seconds of the front-end and e5 stages, from their progress lines in ``log``."""
    found: dict[str, float] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        match = STAGE_LINE.match(line.strip())
        if match:
            name = "front-end" if match[1].startswith("audio") else "e5"
            found[name] = found.get(name, 0.0) + int(match[2] or 0) * 60 + int(match[3])
    return found


def added_clips(audio: Path, table: pd.DataFrame, count: int, folder: Path) -> pd.DataFrame:
    """``count`` new tracks in ``folder``: the last clips of ``audio`` at 0.9 of their gain,
    FLAC; returns their table rows (their originals' lyrics and labels, plus a line naming them)."""
    originals = sorted(p for p in audio.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)[-count:]
    rows = []
    for index, path in enumerate(originals):
        samples, rate = sf.read(path, dtype="float32")
        name = f"added{index}.flac"
        sf.write(folder / name, 0.9 * samples, rate, format="FLAC")
        row = table[table["file"] == path.name].iloc[0].copy()
        row["file"], row["lyrics"] = name, f"{row['lyrics']}\n(added {index})"
        rows.append(row)
    return pd.DataFrame(rows)


def quality(run: Path, labels: list[str]) -> dict[str, str]:
    """Per label: the best result's NMI and the label-free choice's, each mean ± std over seeds."""
    results = pd.read_parquet(run / "results.parquet")
    chosen = best_result(results)
    found = {}
    for label in labels:
        scores = results.groupby(["representation", "algorithm"], sort=False)[f"nmi_{label}"].agg(["mean", "std"])
        best = scores["mean"].idxmax()
        found[label] = (f"best {scores.loc[best, 'mean']:.3f} ± {scores.loc[best, 'std']:.3f} ({best[0]} + {best[1]}); "
                        f"chosen {scores.loc[chosen, 'mean']:.3f} ± {scores.loc[chosen, 'std']:.3f} "
                        f"({chosen[0]} + {chosen[1]})")
    return found


def one_version(args: argparse.Namespace, src: Path, work: Path) -> dict[str, object]:
    """The run from nothing, then the update, in ``work`` with the code in ``src``."""
    audio, workspace = work / "audio", work / "run"
    audio.mkdir()
    for path in sorted(args.audio.iterdir()):
        if path.suffix.lower() in AUDIO_EXTENSIONS:
            (audio / path.name).symlink_to(path.resolve())
    table = pd.read_csv(args.table, dtype=str, keep_default_na=False)
    table_copy = work / "lyrics.csv"
    table.to_csv(table_copy, index=False)
    python = [sys.executable, "-m", "songscape"]
    run = [*python, "run", "--audio", str(audio), "--table", str(table_copy), "--preset", args.preset,
           "--k", str(args.k), "--labels", args.labels, "--workspace", str(workspace)]
    wall = timed_command(run, src, work / "run.log")
    record = json.loads((workspace / "run.json").read_text(encoding="utf-8"))
    added = added_clips(args.audio, table, args.add, audio)
    pd.concat([table, added]).to_csv(table_copy, index=False)
    update = timed_command([*python, "update", str(workspace)], src, work / "update.log")
    return {"wall": wall, "progress": progress_seconds(work / "run.log"), "stages": record.get("stage_seconds", {}),
            "update": update, "quality": quality(workspace, args.labels.split(","))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, required=True, help="a folder of audio files")
    parser.add_argument("--table", type=Path, required=True, help="its table (a `file` and a `lyrics` column)")
    parser.add_argument("--preset", default="hard")
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--labels", default="track,source", help="comma-separated label columns to score")
    parser.add_argument("--add", type=int, default=5, help="tracks added before the update")
    parser.add_argument("--reference-src", type=Path, help="src/ of the checkout to compare against")
    args = parser.parse_args()
    found = {}
    for version, src in code_versions(args.reference_src).items():
        with tempfile.TemporaryDirectory(prefix="whole-run-") as work:
            found[version] = one_version(args, src, Path(work))
        result = found[version]
        print(f"## {version}: run {result['wall']:.1f} s, update of {args.add} {result['update']:.1f} s", flush=True)
        print("progress lines: " + ", ".join(f"{k} {v:.0f} s" for k, v in result["progress"].items()))
        if result["stages"]:
            print("stage_seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in result["stages"].items()))
        for label, text in result["quality"].items():
            print(f"NMI by {label}: {text}")
        print(flush=True)
    if len(found) == 2:
        reference, now = found["reference"], found["now"]
        ratios = [f"run {reference['wall'] / now['wall']:.2f}×", f"update {reference['update'] / now['update']:.2f}×"]
        ratios += [f"{stage} {reference['progress'][stage] / now['progress'][stage]:.2f}×"
                   for stage in ("front-end", "e5") if stage in reference["progress"] and now["progress"].get(stage)]
        print("reference / now: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
