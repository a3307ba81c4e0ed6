"""Progress of long stages: a bar on a terminal, plain log lines otherwise.

On a terminal (stderr is a tty) each stage shows a rich bar with done/total, rate and time
left. When output goes to a file or a pipe, a line ``stage: done/total, rate, ETA`` is printed
every `LOG_EVERY_S` seconds, so a long run never looks stuck.
Either way the stage ends with one line giving its elapsed time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

LOG_EVERY_S = 10.0
Advance = Callable[[int], None]


class _RateColumn(ProgressColumn):
    """Items per second."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0.0:.1f} {self.unit}/s")


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _interactive() -> bool:
    return sys.stderr.isatty()


@contextmanager
def stage(description: str, total: int, unit: str = "tracks",
          write: Callable[[str], None] | None = None) -> Iterator[Advance]:
    """Report the progress of a stage of ``total`` items; yields ``advance(count)``.
    ``write`` receives the plain lines (default: stderr)."""
    write = write or (lambda line: print(line, file=sys.stderr, flush=True))
    started = time.perf_counter()
    done = 0
    if _interactive():
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       _RateColumn(unit), TimeRemainingColumn(), console=Console(stderr=True),
                       transient=True)
        with bar:
            task = bar.add_task(description, total=total)

            def advance(count: int = 1) -> None:
                nonlocal done
                done += count
                bar.advance(task, count)

            yield advance
    else:
        last_line = 0.0

        def advance(count: int = 1) -> None:
            nonlocal done, last_line
            done += count
            now = time.perf_counter() - started
            if now - last_line >= LOG_EVERY_S and done < total:
                rate = done / now if now > 0 else 0.0
                eta = _duration((total - done) / rate) if rate > 0 else "?"
                write(f"{description}: {done}/{total} {unit}, {rate:.2f} {unit}/s, ETA {eta}")
                last_line = now

        yield advance
    if total:
        write(f"{description}: {done} {unit} in {_duration(time.perf_counter() - started)}")
