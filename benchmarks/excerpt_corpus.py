"""A large corpus of distinct real 30-s clips, for end-to-end timings (not committed: it is
built from third-party audio and lyrics given by path).

    .venv/bin/python benchmarks/excerpt_corpus.py --audio DEBIAN_MUSIC_DIR --audio ../shared/data/jamendo-cc-20 \
        --lyrics ../shared/data/lyrics-bn-en-450/lyrics.csv --count 1000 --out /tmp/clips-1000

Each source track is cut into 30-s clips starting every ``--step`` seconds (overlapping when
the step is shorter than a clip, so every clip's samples differ), round-robin over the tracks
until ``--count`` clips exist; clips are written as Ogg Vorbis (or ``--format flac``: encoding
Vorbis takes about 2 s per clip here, FLAC a fraction of that) at the source's rate and
channels. `lyrics.csv` gives clip i the lyrics of row i mod n of the lyrics table, with a last
line naming the clip (so no two texts are equal and none is served from the e5 cache), plus
the source folder as a `source` label and the track a clip was cut from as `track`.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pandas as pd
import soundfile as sf

from songscape.collection import AUDIO_EXTENSIONS

CLIP_S = 30.0
ENCODINGS = {"ogg": {"format": "OGG", "subtype": "VORBIS"}, "flac": {"format": "FLAC", "subtype": "PCM_16"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, action="append", required=True, help="folder of real tracks (repeatable)")
    parser.add_argument("--lyrics", type=Path, required=True, help="CSV with a lyrics column")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--step", type=float, default=15.0, help="seconds between clip starts")
    parser.add_argument("--format", choices=["ogg", "flac"], default="ogg")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sources = sorted(p for folder in args.audio for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    starts = {}
    for path in sources:
        info = sf.info(str(path))
        starts[path] = [s * args.step for s in range(int((info.duration - CLIP_S) // args.step) + 1)]
    order = [(path, start) for round_ in range(max(map(len, starts.values())))
             for path in sources if round_ < len(starts[path]) for start in [starts[path][round_]]][:args.count]
    args.out.mkdir(parents=True, exist_ok=True)
    table = pd.read_csv(args.lyrics, dtype=str, keep_default_na=False)
    column = next(c for c in table.columns if c.lower() in ("lyrics", "lyric", "text"))
    rows = []
    for index, (path, start) in enumerate(order):
        name = f"clip{index:04d}.{args.format}"
        with sf.SoundFile(str(path)) as handle:
            handle.seek(int(start * handle.samplerate))
            samples = handle.read(int(CLIP_S * handle.samplerate), dtype="float32")
            sf.write(args.out / name, samples, handle.samplerate, **ENCODINGS[args.format])
        lyrics = table[column].iloc[index % len(table)]
        rows.append({"file": name, "source": path.parent.name, "track": path.stem,
                     "lyrics": f"{lyrics}\n(clip {index})"})
    with open(args.out / "lyrics.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "source", "track", "lyrics"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} clips from {len(sources)} tracks → {args.out}")


if __name__ == "__main__":
    main()
