"""Decode an audio file to mono float32 at a target rate and cut an excerpt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr


class DecodeError(ValueError):
    """A file that could not be turned into usable audio; the message says why."""


@dataclass(frozen=True)
class Decoded:
    """Mono samples at ``sample_rate`` and the full track's duration in seconds."""

    samples: np.ndarray
    sample_rate: int
    duration_s: float


def decode(path: Path, sample_rate: int) -> Decoded:
    """Read ``path`` with soundfile, downmix to mono and resample to ``sample_rate`` with soxr."""
    try:
        data, native_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises several types for unreadable input
        raise DecodeError(f"cannot decode: {error}") from error
    if data.shape[0] == 0:
        raise DecodeError("no audio samples")
    mono = data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise DecodeError("audio contains NaN or infinite samples")
    if native_rate != sample_rate:
        mono = soxr.resample(mono, native_rate, sample_rate).astype(np.float32)
    return Decoded(mono, sample_rate, data.shape[0] / native_rate)


def centre_excerpt(samples: np.ndarray, sample_rate: int, seconds: float | None) -> np.ndarray:
    """The centre ``seconds`` of ``samples`` (all of it when shorter or when ``seconds`` is None)."""
    if seconds is None:
        return samples
    length = int(round(seconds * sample_rate))
    if len(samples) <= length:
        return samples
    start = (len(samples) - length) // 2
    return samples[start:start + length]
