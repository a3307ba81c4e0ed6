"""Audio files in every supported format, and broken ones, generated inside the tests."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf

# extension → (soundfile format, subtype, sample rate); m4a is written with PyAV below
SOUNDFILE_FORMATS = {
    "wav": ("WAV", "PCM_16", 44100),
    "flac": ("FLAC", "PCM_24", 44100),
    "ogg": ("OGG", "VORBIS", 44100),
    "opus": ("OGG", "OPUS", 48000),
    "mp3": ("MP3", "MPEG_LAYER_III", 44100),
    "aiff": ("AIFF", "PCM_16", 22050),
}


def tone(seconds: float, sr: int, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    """A sine with a slow tremolo, float32, shape (n,) or (n, channels)."""
    t = np.arange(int(seconds * sr)) / sr
    mono = (0.3 * np.sin(2 * np.pi * freq * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


def write_m4a(path: Path, samples: np.ndarray, sr: int) -> Path:
    """AAC in an MP4 container, encoded by PyAV's bundled FFmpeg."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=sr)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
        frame.sample_rate = sr
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return path


def write_format(directory: Path, extension: str, seconds: float = 2.0, channels: int = 1) -> Path:
    """A tone in the format named by ``extension``."""
    path = directory / f"tone.{extension}"
    if extension == "m4a":
        return write_m4a(path, tone(seconds, 44100), 44100)
    fmt, subtype, sr = SOUNDFILE_FORMATS[extension]
    sf.write(path, tone(seconds, sr, channels=channels), sr, format=fmt, subtype=subtype)
    return path


def write_unknown_codec_wav(path: Path) -> Path:
    """A RIFF/WAVE file whose format tag (0x1234) no decoder knows."""
    data = b"\x00\x01" * 4000
    fmt_chunk = (b"fmt " + (16).to_bytes(4, "little") + (0x1234).to_bytes(2, "little")
                 + (1).to_bytes(2, "little") + (22050).to_bytes(4, "little")
                 + (44100).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little"))
    body = b"WAVE" + fmt_chunk + b"data" + len(data).to_bytes(4, "little") + data
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    return path
