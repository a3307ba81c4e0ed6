from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from songscape.audio.decode import DecodeError, ExcerptSpec, decode, excerpt_segments
from tests.audio_fixtures import SOUNDFILE_FORMATS, tone, write_format, write_unknown_codec_wav


@pytest.mark.parametrize("extension", [*SOUNDFILE_FORMATS, "m4a"])
def test_every_format_decodes(tmp_path: Path, extension: str) -> None:
    path = write_format(tmp_path, extension, seconds=2.0)
    decoded = decode(path, 22050, ExcerptSpec(seconds=None))
    assert decoded.sample_rate == 22050 and decoded.samples.dtype == np.float32
    assert decoded.duration_s == pytest.approx(2.0, abs=0.1)  # codecs add priming/padding
    assert abs(len(decoded.samples) - 44100) < 0.1 * 44100
    assert 0.2 < np.max(np.abs(decoded.samples)) < 0.6  # the tone survived at its level


def test_stereo_is_downmixed(tmp_path: Path) -> None:
    left_right = np.stack([tone(1.0, 22050), np.zeros(22050, np.float32)], axis=1)
    sf.write(tmp_path / "lr.wav", left_right, 22050, subtype="FLOAT")
    decoded = decode(tmp_path / "lr.wav", 22050, ExcerptSpec(seconds=None))
    assert np.allclose(decoded.samples, left_right[:, 0] / 2, atol=1e-6)


def test_excerpt_segments() -> None:
    assert excerpt_segments(1000, 10, ExcerptSpec("centre", 30.0)) == [(350, 300)]
    assert excerpt_segments(1000, 10, ExcerptSpec("start", 30.0)) == [(0, 300)]
    assert excerpt_segments(1000, 10, ExcerptSpec("crops", 30.0, crops=3)) == [(0, 100), (450, 100), (900, 100)]
    assert excerpt_segments(200, 10, ExcerptSpec("centre", 30.0)) == [(0, 200)]
    assert excerpt_segments(1000, 10, ExcerptSpec("centre", None)) == [(0, 1000)]


def test_segments_cover_the_inner_part_and_fall_back_on_short_tracks() -> None:
    spec = ExcerptSpec("segments", 32.0, crops=8)  # 8 segments of 4 s
    inner = excerpt_segments(3000, 10, spec)  # a 300-s track: 30 s … 270 s
    assert len(inner) == 8 and all(length == 40 for _, length in inner)
    assert inner[0][0] == 300 and inner[-1][0] + 40 == 2700
    short = excerpt_segments(60, 10, spec)  # 6 s: the inner part cannot hold two segments
    assert short[0] == (0, 40) and short[-1] == (20, 40) and len(short) == 8
    assert excerpt_segments(30, 10, spec) == [(0, 30)]  # shorter than a segment: whole, padded later
    assert spec.pieces == 8 and ExcerptSpec("crops", 32.0, crops=8).pieces == 1


def test_segments_are_cut_into_equal_pieces(tmp_path: Path) -> None:
    from songscape.audio.decode import split_pieces

    ramp = np.linspace(-0.5, 0.5, 22050 * 100, dtype=np.float32)  # 100 s, value encodes time
    sf.write(tmp_path / "ramp.wav", ramp, 22050, subtype="FLOAT")
    spec = ExcerptSpec("segments", 8.0, crops=4)
    decoded = decode(tmp_path / "ramp.wav", 22050, spec)
    pieces = split_pieces(decoded.samples, spec)
    assert pieces.shape == (4, 44100) and not decoded.padded
    starts = pieces[:, 0]
    assert starts[0] == pytest.approx(-0.4, abs=1e-3) and pieces[-1, -1] == pytest.approx(0.4, abs=1e-3)
    assert np.all(np.diff(starts) > 0.2)  # spread over 10 %–90 %, in order


def test_excerpt_modes_read_the_right_samples(tmp_path: Path) -> None:
    ramp = np.linspace(-0.5, 0.5, 22050 * 10, dtype=np.float32)  # 10 s, value encodes time
    sf.write(tmp_path / "ramp.wav", ramp, 22050, subtype="FLOAT")
    centre = decode(tmp_path / "ramp.wav", 22050, ExcerptSpec("centre", 2.0)).samples
    start = decode(tmp_path / "ramp.wav", 22050, ExcerptSpec("start", 2.0)).samples
    crops = decode(tmp_path / "ramp.wav", 22050, ExcerptSpec("crops", 3.0, crops=3)).samples
    assert len(centre) == len(start) == 44100 and len(crops) == 66150
    assert centre.mean() == pytest.approx(0.0, abs=1e-3) and start[0] == pytest.approx(-0.5)
    assert crops[0] == pytest.approx(-0.5) and crops[-1] == pytest.approx(0.5, abs=1e-4)


def test_short_track_is_padded_and_flagged(tmp_path: Path) -> None:
    sf.write(tmp_path / "short.wav", tone(2.0, 22050), 22050)
    decoded = decode(tmp_path / "short.wav", 22050, ExcerptSpec("centre", 5.0))
    assert decoded.padded and len(decoded.samples) == 5 * 22050
    assert np.array_equal(decoded.samples[44100:88200], decoded.samples[:44100])  # repeated
    assert decoded.duration_s == pytest.approx(2.0)
    assert not decode(tmp_path / "short.wav", 22050, ExcerptSpec("centre", 1.0)).padded


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _blip(path: Path) -> Path:
    sf.write(path, np.full(50, 0.5, np.float32), 22050)
    return path


@pytest.mark.parametrize("make,reason", [
    (lambda d: _written(d / "empty.wav", b""), "empty file \\(0 bytes\\)"),
    (lambda d: _written(d / "text.mp3", b"not audio at all"), "cannot decode"),
    (lambda d: write_unknown_codec_wav(d / "codec.wav"), "cannot decode"),
    (lambda d: _blip(d / "blip.wav"), "too short"),
])
def test_bad_files_raise_a_reason(tmp_path: Path, make, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(make(tmp_path), 22050)


def test_truncated_file(tmp_path: Path) -> None:
    whole = write_format(tmp_path, "flac", seconds=2.0).read_bytes()
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(whole[:60])  # cut inside the header
    with pytest.raises(DecodeError, match="cannot decode"):
        decode(truncated, 22050)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_format(tmp_path, "wav")
    real_open = open

    def refuse(file, *args, **kwargs):  # chmod 000 does not stop root, so refuse by hand
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(DecodeError, match="no permission to read the file"):
        decode(path, 22050)
