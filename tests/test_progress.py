"""Progress when output is not a terminal: plain lines with done/total, rate and ETA, then the
stage's elapsed time."""

from __future__ import annotations

import pytest

from songscape import progress


def test_plain_lines_when_not_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "_interactive", lambda: False)
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    lines: list[str] = []
    with progress.stage("musicnn", 3, write=lines.append) as advance:
        for _ in range(3):
            advance(1)
    assert lines[0].startswith("musicnn: 1/3 tracks, ") and "tracks/s, ETA " in lines[0]
    assert lines[-1].startswith("musicnn: 3 tracks in ") and len(lines) == 3  # 1/3, 2/3, end


def test_quiet_stage_prints_only_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "_interactive", lambda: False)
    lines: list[str] = []
    with progress.stage("e5 lyric embeddings", 2, unit="texts", write=lines.append) as advance:
        advance(2)
    assert lines == ["e5 lyric embeddings: 2 texts in 0s"]
