"""Where a run's time went: the wall-clock seconds of each stage, in the order the stages ran,
kept in ``run.json`` (``stage_seconds``) and printed at the end of the run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class StageTimes:
    """Seconds per stage name; a stage measured twice adds up."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Add the wall-clock time of the ``with`` block to ``stage``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)

    def add(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` to ``stage``."""
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def summary(self) -> str:
        """One line: every stage with its seconds and share of their sum, then the sum."""
        total = sum(self.seconds.values())
        parts = [f"{stage} {seconds:.1f} s ({seconds / total:.0%})" if total > 0 else f"{stage} {seconds:.1f} s"
                 for stage, seconds in self.seconds.items()]
        return f"time: {', '.join(parts)}; {total:.1f} s in all"
