"""The code a before/after benchmark runs: this checkout's ``src/`` and, when given, another
checkout's (``git worktree add ../ref <commit>``, then ``--reference-src ../ref/src``), each
imported by a fresh process through ``PYTHONPATH``."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

THIS_CHECKOUT = Path(__file__).resolve().parents[1] / "src"


def code_versions(reference_src: Path | None) -> dict[str, Path]:
    """The ``src/`` folder of each version by name: ``reference`` first when given, then ``now``."""
    versions = {"reference": reference_src.resolve()} if reference_src else {}
    return {**versions, "now": THIS_CHECKOUT}


def timed_command(command: list[str], src: Path, log: Path) -> float:
    """Wall seconds of ``command`` run with songscape imported from ``src``, its output written
    to ``log``; when it fails, the error quotes the log's end."""
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(src)}, stdout=out,
                              stderr=subprocess.STDOUT, text=True)
    if done.returncode:
        tail = log.read_text(encoding="utf-8")[-2000:]
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{tail}")
    return time.perf_counter() - started
