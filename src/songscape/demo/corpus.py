"""The embedded demo corpus: real audio files plus a lyrics table, generated from a seed.

`write_demo_corpus` writes exactly what a user brings: a folder of audio files in several
formats and a `lyrics.csv` with `track_id`, `file`, `title`, `artist`, `style`, `language`
and `lyrics` columns. The same seed and sizes give the same table and the same decoded audio
(Ogg files differ in their stream serial numbers, which libsndfile draws at random).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from songscape.demo.synth import STYLES, render_track
from songscape.demo.vocabulary import ARTIST_WORDS, VOCABULARIES
from songscape.threads import interrupts_held, worker_setup
from songscape.workspace import atomic_path

MANIFEST = "corpus.json"
TABLE = "lyrics.csv"

# (extension, soundfile format, subtype, share of tracks)
_FORMATS = (
    ("flac", "FLAC", "PCM_16", 0.6),
    ("wav", "WAV", "PCM_16", 0.2),
    ("ogg", "OGG", "VORBIS", 0.1),
    ("mp3", "MP3", "MPEG_LAYER_III", 0.1),
)
_INSTRUMENTAL_PROBABILITY = {"ambient": 0.2, "rock": 0.07, "folk": 0.07, "electronic": 0.07}
_BANGLA_PROBABILITY = {"ambient": 0.4, "rock": 0.35, "folk": 0.6, "electronic": 0.35}
_BANGLISH_PROBABILITY = 0.06
_THEME_SHARE, _COMMON_SHARE = 0.45, 0.45  # the rest comes from another style's theme


@dataclass(frozen=True)
class DemoSettings:
    """What determines the demo corpus; equal settings give identical files."""

    tracks: int = 240
    seconds: float = 10.0
    seed: int = 0
    sample_rate: int = 22050


def _choose_language(style: str, rng: np.random.Generator) -> str:
    if rng.random() < _INSTRUMENTAL_PROBABILITY[style]:
        return "instrumental"
    if rng.random() < _BANGLISH_PROBABILITY:
        return "banglish"
    return "bangla" if rng.random() < _BANGLA_PROBABILITY[style] else "english"


def make_lyrics(style: str, language: str, rng: np.random.Generator) -> str:
    """Lines of words drawn from the style's theme, a shared pool and other themes, with a
    repeated chorus. Returns "" for instrumental tracks."""
    if language == "instrumental":
        return ""
    vocabulary = VOCABULARIES[language]
    others = [s for s in STYLES if s != style]

    def line() -> str:
        words = []
        for _ in range(int(rng.integers(3, 8))):
            draw = rng.random()
            if draw < _THEME_SHARE:
                pool = vocabulary[style]
            elif draw < _THEME_SHARE + _COMMON_SHARE:
                pool = vocabulary["common"]
            else:
                pool = vocabulary[str(rng.choice(others))]
            words.append(str(rng.choice(pool)))
        return " ".join(words)

    chorus = [line() for _ in range(2)]
    verses = [[line() for _ in range(int(rng.integers(3, 6)))] for _ in range(2)]
    blocks = [verses[0], chorus, verses[1], chorus]
    return "\n\n".join("\n".join(block) for block in blocks)


def _title(lyrics: str, style: str, rng: np.random.Generator) -> str:
    words = lyrics.split() or [str(rng.choice(VOCABULARIES["english"][style])), "instrumental"]
    count = min(len(words), int(rng.integers(1, 4)))
    start = int(rng.integers(0, len(words) - count + 1))
    return " ".join(words[start:start + count]).title()


def _format_for(rng: np.random.Generator) -> tuple[str, str, str]:
    shares = np.array([share for *_, share in _FORMATS])
    extension, fmt, subtype, _ = _FORMATS[int(rng.choice(len(_FORMATS), p=shares / shares.sum()))]
    return extension, fmt, subtype


def _track_styles(settings: DemoSettings) -> list[str]:
    """Balanced styles in a seeded order."""
    styles = [STYLES[i % len(STYLES)] for i in range(settings.tracks)]
    order = np.random.default_rng(settings.seed).permutation(settings.tracks)
    return [styles[i] for i in order]


def _write_track(directory: Path, settings: DemoSettings, index: int, style: str) -> dict[str, str]:
    """Render, encode and write one track; return its table row."""
    rng = np.random.default_rng([settings.seed, index])
    seconds = settings.seconds * rng.uniform(0.85, 1.15)
    audio = render_track(style, seconds, settings.sample_rate, rng)
    extension, fmt, subtype = _format_for(rng)
    track_id = f"demo-{index + 1:04d}"
    file_name = f"{track_id}.{extension}"
    with atomic_path(directory / "audio" / file_name) as tmp:
        sf.write(tmp, audio, settings.sample_rate, format=fmt, subtype=subtype)
    language = _choose_language(style, rng)
    lyrics = make_lyrics(style, language, rng)
    artist = " ".join(str(w) for w in rng.choice(ARTIST_WORDS, size=2, replace=False))
    return {"track_id": track_id, "file": f"audio/{file_name}", "title": _title(lyrics, style, rng),
            "artist": artist, "style": style, "language": language, "lyrics": lyrics}


def write_demo_corpus(directory: Path, settings: DemoSettings = DemoSettings(),
                      workers: int | None = None) -> Path:
    """Write the corpus under ``directory`` (``audio/`` and ``lyrics.csv``) on ``workers``
    processes (default: all cores) and return the table's path. A corpus already there with
    the same settings is kept as it is."""
    directory = Path(directory)
    manifest_path, table_path = directory / MANIFEST, directory / TABLE
    if manifest_path.exists() and table_path.exists():
        if json.loads(manifest_path.read_text()) == asdict(settings):
            return table_path
    styles = _track_styles(settings)
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count(), initializer=worker_setup) as pool:
        with interrupts_held():  # the workers are forked on the first submission
            results = pool.map(_write_track, [directory] * len(styles), [settings] * len(styles),
                               range(len(styles)), styles, chunksize=8)
        rows = list(results)
    with atomic_path(table_path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, encoding="utf-8")
    with atomic_path(manifest_path) as tmp:
        tmp.write_text(json.dumps(asdict(settings)))
    return table_path
