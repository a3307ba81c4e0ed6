"""Decode an audio file to a mono float32 excerpt at a target rate.

soundfile (libsndfile: wav, flac, ogg/vorbis, opus, mp3, aiff) reads only the samples the
excerpt needs; PyAV (bundled FFmpeg: m4a/aac, wma, anything else) is the fallback. Resampling
uses soxr. Every failure is a `DecodeError` whose message says what is wrong with the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf
import soxr

from songscape.filenames import stored_text

ExcerptMode = Literal["segments", "centre", "start", "crops"]
_SOUNDFILE_PREFIX = re.compile(r"^Error opening .*?: ")
MIN_SECONDS = 0.5  # shorter tracks are skipped rather than padded by repetition
INNER_PART = (0.1, 0.9)  # where `segments` are taken: the intro and the outro are left out


class DecodeError(ValueError):
    """A file that could not be turned into usable audio; the message says why."""


@dataclass(frozen=True)
class ExcerptSpec:
    """Which part of a track to analyse: the centre or the first ``seconds``; ``crops`` evenly
    spaced crops of ``seconds / crops`` each, joined; or ``segments``: ``crops`` segments of
    ``seconds / crops`` each, evenly spaced over the inner part of the track (`INNER_PART`),
    each analysed on its own. ``seconds=None`` takes the whole track."""

    mode: ExcerptMode = "centre"
    seconds: float | None = 30.0
    crops: int = 3

    @property
    def pieces(self) -> int:
        """How many pieces are analysed on their own (`segments`), else 1."""
        return self.crops if self.mode == "segments" and self.seconds is not None else 1


@dataclass(frozen=True)
class Decoded:
    """Mono excerpt at ``sample_rate``; the whole track's duration; whether the track was
    shorter than the excerpt and was padded (by repeating it) to the excerpt's length."""

    samples: np.ndarray
    sample_rate: int
    duration_s: float
    padded: bool = False


def excerpt_segments(n_frames: int, rate: int, spec: ExcerptSpec) -> list[tuple[int, int]]:
    """(start, length) of each segment to read, in source frames. ``segments`` are spread over
    the inner part when it holds one segment's length twice, else over the whole track (they
    may overlap); a track shorter than one segment is read whole (and padded later)."""
    if spec.seconds is None:
        return [(0, n_frames)]
    total = int(round(spec.seconds * rate))
    if spec.mode == "segments":
        length = int(round(spec.seconds / spec.crops * rate))
        if n_frames <= length:
            return [(0, n_frames)]
        first, last = (int(share * n_frames) for share in INNER_PART)
        if last - first < 2 * length:
            first, last = 0, n_frames
        starts = np.linspace(first, last - length, spec.crops).astype(int)
        return [(int(start), length) for start in starts]
    if n_frames <= total:
        return [(0, n_frames)]
    if spec.mode == "start":
        return [(0, total)]
    if spec.mode == "centre":
        return [((n_frames - total) // 2, total)]
    length = total // spec.crops
    starts = np.linspace(0, n_frames - length, spec.crops).astype(int)
    return [(int(start), length) for start in starts]


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration: libmpg123 prints warnings there
    (bit reservoir after a seek, resync notes on broken files) that say nothing a user can act
    on; real failures still arrive as exceptions."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _read_soundfile(path: Path, spec: ExcerptSpec) -> tuple[np.ndarray, int, float]:
    with sf.SoundFile(os.fsencode(path)) as handle:  # bytes: a name that is not UTF-8 opens too
        rate, n_frames = handle.samplerate, handle.frames
        pieces = []
        for start, length in excerpt_segments(n_frames, rate, spec):
            handle.seek(start)
            pieces.append(handle.read(length, dtype="float32", always_2d=True))
    data = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    return mono, rate, n_frames / rate


def _to_float(array: np.ndarray) -> np.ndarray:
    """Integer PCM scaled to [-1, 1]; float samples as they are."""
    if array.dtype.kind == "i":
        return array.astype(np.float32) / -float(np.iinfo(array.dtype).min)
    if array.dtype.kind == "u":
        middle = (float(np.iinfo(array.dtype).max) + 1) / 2
        return (array.astype(np.float32) - middle) / middle
    return array.astype(np.float32, copy=False)


def _read_pyav(path: Path, spec: ExcerptSpec) -> tuple[np.ndarray, int, float]:
    import av  # imported here: only files libsndfile cannot read need it

    try:
        with ExitStack() as stack:
            name = str(path)  # a name that is not UTF-8 cannot be given to FFmpeg as text: the open file is
            container = stack.enter_context(av.open(name if stored_text(name) == name
                                                    else stack.enter_context(open(path, "rb"))))
            if not container.streams.audio:
                raise DecodeError("no audio stream in the file")
            stream = container.streams.audio[0]
            chunks = []
            for frame in container.decode(stream):
                array = _to_float(frame.to_ndarray())
                if frame.format.is_planar:
                    chunks.append(array.mean(axis=0))
                else:  # interleaved: one row of channels × samples
                    chunks.append(array.reshape(-1, len(frame.layout.channels)).mean(axis=1))
            rate = stream.rate or stream.codec_context.sample_rate
    except av.error.DecoderNotFoundError:
        raise DecodeError("cannot decode: unsupported codec (no decoder for it)") from None
    except av.error.FFmpegError as error:
        raise DecodeError(f"cannot decode: {error.strerror}") from None
    mono = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    duration = len(mono) / rate if rate else 0.0
    pieces = [mono[start:start + length] for start, length in excerpt_segments(len(mono), rate, spec)]
    return np.concatenate(pieces), rate, duration


@dataclass(frozen=True)
class SourceExcerpt:
    """The excerpt's samples at the file's own rate, before resampling; decoded once and
    resampled to every rate a stage needs (`at_rate`)."""

    samples: np.ndarray
    rate: int
    duration_s: float


def read_excerpt(path: Path, spec: ExcerptSpec = ExcerptSpec()) -> SourceExcerpt:
    """The excerpt of ``path`` given by ``spec`` as mono float32 at the file's own rate."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise DecodeError("empty file (0 bytes)")
        with open(path, "rb"):
            pass
    except PermissionError:
        raise DecodeError("no permission to read the file") from None
    except FileNotFoundError:
        raise DecodeError("file not found") from None
    try:
        with _native_stderr_silenced():
            mono, rate, duration = _read_soundfile(path, spec)
    except (sf.LibsndfileError, RuntimeError, ValueError) as soundfile_error:
        try:
            mono, rate, duration = _read_pyav(path, spec)
        except DecodeError as error:
            detail = _SOUNDFILE_PREFIX.sub("", str(soundfile_error))
            raise DecodeError(f"{error} (soundfile: {detail})") from None
    if len(mono) == 0:
        raise DecodeError("no audio samples")
    if len(mono) < MIN_SECONDS * rate:
        raise DecodeError(f"too short ({len(mono)} samples; at least {MIN_SECONDS} s needed)")
    return SourceExcerpt(mono, rate, duration)


def split_pieces(samples: np.ndarray, spec: ExcerptSpec) -> np.ndarray:
    """The excerpt's pieces as rows (pieces, samples): its `segments` (cut equal; the last
    samples of an uneven length are dropped), else the whole excerpt as one row."""
    pieces = spec.pieces
    length = len(samples) // pieces
    return samples[:pieces * length].reshape(pieces, length)


def at_rate(source: SourceExcerpt, sample_rate: int, spec: ExcerptSpec = ExcerptSpec()) -> Decoded:
    """The excerpt resampled to ``sample_rate`` and padded (by repetition) to the excerpt's
    length when the track is shorter."""
    mono = source.samples
    if source.rate != sample_rate:
        mono = soxr.resample(mono, source.rate, sample_rate)
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    if not np.isfinite(mono.sum()):
        raise DecodeError("audio contains NaN or infinite samples")
    wanted = None if spec.seconds is None else spec.pieces * int(round(spec.seconds / spec.pieces * sample_rate))
    padded = wanted is not None and len(mono) < wanted - spec.pieces  # rounding of the pieces is no padding
    if padded:
        mono = np.pad(mono, (0, wanted - len(mono)), mode="wrap")
    return Decoded(mono, sample_rate, source.duration_s, padded)


def decode(path: Path, sample_rate: int, spec: ExcerptSpec = ExcerptSpec()) -> Decoded:
    """The excerpt of ``path`` given by ``spec`` as mono float32 at ``sample_rate``."""
    return at_rate(read_excerpt(path, spec), sample_rate, spec)
