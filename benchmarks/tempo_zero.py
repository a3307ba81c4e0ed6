"""Where the tempo estimate says "no tempo": the segments whose onset envelope has no repeating
lag (the autocorrelation peak is not above zero). Only these segments changed when the estimate
stopped naming a tempo there (0 BPM instead of the lag that scored least badly); on every other
segment the statistics are the same as before, so the models and clusters are too.

    .venv/bin/python benchmarks/tempo_zero.py --audio ../shared/data/debian-music-xl [--audio DIR …]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from songscape.audio.extract import extract_collection
from songscape.audio.features import stat_names
from songscape.audio.plan import AudioPlan
from songscape.config import preset
from songscape.scan import scan_audio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, action="append", required=True, help="A folder of audio files.")
    args = parser.parse_args()
    plan = AudioPlan.from_config(preset("hard").audio, "cpu", with_network=False)
    names = stat_names(plan.settings)
    for folder in args.audio:
        files = [str(path) for path in scan_audio(folder).files]
        found = extract_collection(files, plan.settings, plan.excerpt, plan.workers)
        segments = np.asarray(found.segment_stats)[np.asarray(found.ok)]
        strength = segments[..., names.index("tempo_strength")]
        print(f"{folder}: {len(files)} tracks, {strength.size} segments; without a repeating lag (tempo now "
              f"0 BPM): {int((strength <= 0).sum())} segments in {int((strength <= 0).any(axis=1).sum())} tracks")


if __name__ == "__main__":
    main()
