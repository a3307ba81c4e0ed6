"""Warnings for the user that are worth reading once: a notice said again for every seed,
figure or track would drown the output it is about."""

from __future__ import annotations

import logging

_said: set[str] = set()


def say_once(logger: logging.Logger, message: str) -> None:
    """Log ``message`` as a warning on ``logger`` the first time this process meets it."""
    if message not in _said:
        _said.add(message)
        logger.warning(message)
