"""`songscape mix` and `songscape path` on a run whose tracks lie on a circle (a feature table of
cos θ, sin θ), so that every step's length is known: a mix moves in small steps without
repeats, a path goes from one end to the other in even steps, both the same for the same seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from songscape.journeys import mix, path

runner = CliRunner()
TRACKS = 40
NEIGHBOUR_STEP = 2 * np.sin(np.pi / TRACKS)  # the chord between two tracks next to each other
CONFIG = """preset: easy
seeds: [0]
map_methods: [tsne]
representations: [{name: raw, kind: raw}]
clusterers: [{name: kmeans}]
"""


@pytest.fixture(scope="module")
def circle_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run on 40 tracks at even angles on the unit circle (shuffled rows)."""
    root = tmp_path_factory.mktemp("circle")
    angles = 2 * np.pi * np.arange(TRACKS) / TRACKS
    order = np.random.default_rng(0).permutation(TRACKS)
    pd.DataFrame({"id": [f"t{i:02d}" for i in order], "x": np.cos(angles[order]), "y": np.sin(angles[order]),
                  "half": ["a" if i < TRACKS // 2 else "b" for i in order]}).to_csv(root / "circle.csv", index=False)
    (root / "run.yaml").write_text(CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--features", str(root / "circle.csv"), "--config", str(root / "run.yaml"),
                                 "--k", "2", "--workspace", str(root / "run")])
    assert result.exit_code == 0, result.output
    return root / "run"


def _angle_index(track_id: str) -> int:
    return int(track_id.removeprefix("t"))


def test_a_mix_moves_in_small_steps_without_repeats(circle_run: Path) -> None:
    listed = mix(circle_run, "t00", count=20, seed=3)
    steps = listed["step"].to_numpy()[1:]
    assert listed["track_id"].iloc[0] == "t00" and listed["track_id"].is_unique and len(listed) == 20
    assert steps.max() <= 3.5 * NEIGHBOUR_STEP  # never a jump across the circle
    random_steps = np.linalg.norm(np.diff(np.random.default_rng(0).normal(size=(20, 2)), axis=0), axis=1)
    assert steps.mean() < 0.3 * random_steps.mean()
    assert listed.equals(mix(circle_run, "t00", count=20, seed=3))  # the same seed, the same mix


def test_a_path_goes_from_one_end_to_the_other_in_even_steps(circle_run: Path) -> None:
    listed = path(circle_run, "t00", "t10", count=6)  # a quarter of the circle
    ids = list(listed["track_id"])
    assert ids[0] == "t00" and ids[-1] == "t10" and len(set(ids)) == 6
    assert [_angle_index(t) for t in ids] == sorted(_angle_index(t) for t in ids)  # no step back
    steps = listed["step"].to_numpy()[1:]
    assert steps.max() < 1.6 * steps.min()  # even: 10 neighbour steps in 5 parts of 2 (and a 3 where it cannot split)
    assert np.isclose(steps.sum(), sum(2 * np.sin(np.pi * abs(_angle_index(b) - _angle_index(a)) / TRACKS)
                                       for a, b in zip(ids, ids[1:])), atol=1e-3)


def test_mix_and_path_on_the_command_line(circle_run: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["mix", str(circle_run), "t05", "-n", "4"])
    assert result.exit_code == 0 and result.output.count("\n") >= 5 and "t05" in result.output, result.output
    result = runner.invoke(app, ["path", str(circle_run), "t00", "t20", "-n", "5"])
    assert result.exit_code == 0 and "t10" in result.output, result.output  # halfway round
    for arguments, said in ((["path", str(circle_run), "t00", "t00"], "two different tracks"),
                            (["path", str(circle_run), "t00", "t01", "-n", "99"], "2 to 40"),
                            (["mix", str(circle_run), "t99"], "unknown track 't99'"),
                            (["mix", str(circle_run), "t00", "--minutes", "10"], "no track durations")):
        result = runner.invoke(app, arguments)
        assert result.exit_code == 2 and said in result.output, (arguments, result.output)
