from pathlib import Path

import numpy as np
import pytest

from songscape.workspace import atomic_path, content_key, read_npz, write_npz


def test_content_key_is_stable_and_sensitive() -> None:
    assert content_key({"a": 1, "b": [1, 2]}) == content_key({"b": [1, 2], "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 2})
    assert len(content_key("x")) == 12


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_npz_round_trip(tmp_path: Path) -> None:
    write_npz(tmp_path / "f" / "x.npz", a=np.arange(3), names=np.array(["x", "য়"]))
    loaded = read_npz(tmp_path / "f" / "x.npz")
    assert list(loaded["a"]) == [0, 1, 2] and list(loaded["names"]) == ["x", "য়"]
