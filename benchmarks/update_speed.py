"""How long `songscape update` takes when a few tracks join a finished run: a folder with all
but the last ``--add`` audio files of ``--audio`` (sorted by name) is run with the preset, then
the others are added and the run updated. With ``--reference-src`` the same is done with
another checkout's code (``git worktree add ../ref <commit>``, then ``--reference-src
../ref/src``) in the same run. Prints per version the first run's and the update's wall time
(each command a fresh process, start-up included).

    .venv/bin/python benchmarks/update_speed.py --audio /work/data/debian-music [--reference-src ../ref/src]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from songscape.collection import AUDIO_EXTENSIONS

from code_versions import code_versions, timed_command  # benchmarks/ is on the path when a benchmark runs


def run_then_update(files: list[Path], add: int, preset: str, src: Path, work: Path) -> tuple[float, float]:
    """(first run s, update s) of a folder that starts without the last ``add`` files."""
    folder, workspace = work / "music", work / "run"
    folder.mkdir()
    for path in files[:-add]:
        (folder / path.name).symlink_to(path)
    python = [sys.executable, "-m", "songscape"]
    first = timed_command([*python, "run", "--audio", str(folder), "--preset", preset, "--workspace", str(workspace)],
                          src, work / "run.log")
    for path in files[-add:]:
        (folder / path.name).symlink_to(path)
    return first, timed_command([*python, "update", str(workspace)], src, work / "update.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, required=True, help="a folder of audio files (e.g. debian-music)")
    parser.add_argument("--add", type=int, default=5, help="files added before the update")
    parser.add_argument("--preset", default="hard")
    parser.add_argument("--reference-src", type=Path, help="src/ of the checkout to compare against")
    args = parser.parse_args()
    files = sorted(p.resolve() for p in args.audio.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    versions = code_versions(args.reference_src)
    print(f"{len(files) - args.add} tracks, then {args.add} added; --preset {args.preset}\n")
    print("| version | first run s | update s |\n|---|---|---|")
    updates = {}
    for version, src in versions.items():
        with tempfile.TemporaryDirectory(prefix="update-speed-") as work:
            first, updates[version] = run_then_update(files, args.add, args.preset, src, Path(work))
        print(f"| {version} | {first:.1f} | {updates[version]:.1f} |", flush=True)
    if len(updates) == 2:
        print(f"\nupdate, reference / now: {updates['reference'] / updates['now']:.2f}×")


if __name__ == "__main__":
    main()
