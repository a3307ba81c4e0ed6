from pathlib import Path

import numpy as np
import pandas as pd
import regex
import soundfile as sf

from songscape.audio.features import SpectralSettings, stat_names, track_features
from songscape.demo import DemoSettings, make_lyrics, write_demo_corpus
from songscape.demo.synth import STYLES, render_track


def test_corpus_has_styles_languages_and_files(tiny_corpus: Path) -> None:
    table = pd.read_csv(tiny_corpus, keep_default_na=False)
    assert list(table.columns) == ["track_id", "file", "title", "artist", "style", "language", "lyrics"]
    assert sorted(table["style"].unique()) == sorted(STYLES)
    assert table["style"].value_counts().nunique() == 1  # balanced
    for path in table["file"]:
        assert (tiny_corpus.parent / path).stat().st_size > 1000
    assert {Path(p).suffix for p in table["file"]} <= {".flac", ".wav", ".ogg", ".mp3"}


def test_same_seed_same_corpus_other_seed_differs(tmp_path: Path) -> None:
    settings = DemoSettings(tracks=8, seconds=2.0, seed=3)
    first = write_demo_corpus(tmp_path / "a", settings, workers=1)
    second = write_demo_corpus(tmp_path / "b", settings, workers=2)
    other = write_demo_corpus(tmp_path / "c", DemoSettings(tracks=8, seconds=2.0, seed=4), workers=1)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    for audio in sorted((tmp_path / "a" / "audio").iterdir()):
        # decoded samples, not bytes: libsndfile gives each Ogg stream a random serial number
        copy = tmp_path / "b" / "audio" / audio.name
        assert np.array_equal(sf.read(audio)[0], sf.read(copy)[0])


def test_existing_corpus_with_same_settings_is_kept(tmp_path: Path) -> None:
    settings = DemoSettings(tracks=8, seconds=2.0)
    table = write_demo_corpus(tmp_path, settings, workers=1)
    stamp = table.stat().st_mtime_ns
    write_demo_corpus(tmp_path, settings, workers=1)
    assert table.stat().st_mtime_ns == stamp


def test_lyrics_scripts_and_instrumentals() -> None:
    rng = np.random.default_rng(0)
    bangla = make_lyrics("folk", "bangla", rng)
    assert regex.search(r"\p{Bengali}", bangla) and not regex.search(r"[A-Za-z]", bangla)
    banglish = make_lyrics("rock", "banglish", rng)
    assert banglish.isascii() and banglish.strip()
    assert make_lyrics("ambient", "instrumental", rng) == ""


def test_default_corpus_mix_of_languages() -> None:
    """The table logic alone (no audio) over 240 tracks: ~10% instrumental, some Banglish."""
    from songscape.demo.corpus import _choose_language, _track_styles

    settings = DemoSettings()
    languages = [_choose_language(style, np.random.default_rng([0, i]))
                 for i, style in enumerate(_track_styles(settings))]
    counts = pd.Series(languages).value_counts(normalize=True)
    assert 0.05 < counts["instrumental"] < 0.16
    assert counts["banglish"] > 0.02 and counts["bangla"] > 0.25 and counts["english"] > 0.3


def test_styles_differ_in_rhythm_and_timbre() -> None:
    """Percussive styles have far more variable onsets than ambient pads; dense electronic beats have the most onset energy."""
    names = stat_names(SpectralSettings())

    def mean_features(style: str) -> dict[str, float]:
        vectors = [track_features(render_track(style, 4.0, 22050, np.random.default_rng(i),
                                               crossover_probability=0.0), SpectralSettings())[0]
                   for i in range(3)]
        return dict(zip(names, np.mean(vectors, axis=0)))

    styles = {style: mean_features(style) for style in STYLES}
    for percussive in ("rock", "folk", "electronic"):
        assert styles[percussive]["onset_std"] > 2 * styles["ambient"]["onset_std"]
    assert styles["electronic"]["onset_mean"] > 1.3 * styles["ambient"]["onset_mean"]
