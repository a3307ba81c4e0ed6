"""The code a before/after benchmark runs: this checkout's ``src/`` and, when given, another
checkout's (``git worktree add ../ref <commit>``, then ``--reference-src ../ref/src``), each
imported by a fresh process through ``PYTHONPATH``."""

from __future__ import annotations

from pathlib import Path

THIS_CHECKOUT = Path(__file__).resolve().parents[1] / "src"


def code_versions(reference_src: Path | None) -> dict[str, Path]:
    """The ``src/`` folder of each version by name: ``reference`` first when given, then ``now``."""
    versions = {"reference": reference_src.resolve()} if reference_src else {}
    return {**versions, "now": THIS_CHECKOUT}
