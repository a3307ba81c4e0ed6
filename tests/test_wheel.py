"""The wheel holds what an installed songscape needs: both networks' weights with their
licences, the AudioSet class names, the map's page template and the `songscape` command.
(`.ci/wheel-demo` installs it into a clean environment and runs the demo from it.)"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
NEEDED = ["songscape/audio/weights/mn04_as_mAP_432.pt", "songscape/audio/weights/MTT_musicnn.npz",
          "songscape/audio/weights/MSD_musicnn.npz", "songscape/audio/weights/LICENSE-efficientat.txt",
          "songscape/audio/weights/LICENSE-musicnn.txt", "songscape/audio/weights/audioset_labels.txt",
          "songscape/report/map_template.html", "songscape/text/sound_names_bn.tsv", "songscape/cli.py",
          "beetsplug/songscape.py"]


def test_the_wheel_holds_the_weights_their_licences_and_the_command(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(REPOSITORY)], check=True, timeout=600)
    wheel = next(tmp_path.glob("songscape-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(name).decode() for name in names if name.endswith("entry_points.txt"))
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    assert [name for name in NEEDED if name not in names] == []
    assert sizes["songscape/audio/weights/mn04_as_mAP_432.pt"] > 1_000_000  # the weights, not an LFS pointer
    assert "songscape = songscape.cli:main" in entry_points
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)
