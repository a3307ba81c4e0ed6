import numpy as np

from songscape.text.embed import LyricsSettings, embed_lyrics
from songscape.text.normalize import normalize_lyrics
from songscape.text.tokenize import word_tokens


def test_bangla_words_stay_whole() -> None:
    # vowel signs (া, ো, ি), virama (্) and chandrabindu (ঁ) are combining marks
    text = "ভালোবাসায় স্বপ্ন বাঁশি, কৃষ্ণ। ২০২৪ Hello"
    assert word_tokens(text) == ["ভালোবাসায়", "স্বপ্ন", "বাঁশি", "কৃষ্ণ", "২০২৪", "hello"]


def test_normalize_nfc_and_invisible_characters() -> None:
    decomposed = "cafe\u0301"
    assert normalize_lyrics(decomposed) == "café"
    assert normalize_lyrics("a\u200bb  c\n\n d ") == "ab c\nd"
    # ZWNJ changes how a Bengali conjunct renders, so it is kept
    assert "\u200c" in normalize_lyrics("ক্\u200cষ")


def test_embed_lyrics_masks_missing_and_separates_scripts() -> None:
    lyrics = ["river boat village song"] * 3 + ["নদী নৌকা গ্রাম গান"] * 3 + ["", "  "]
    features = embed_lyrics(lyrics, LyricsSettings(n_components=4, min_df=1))
    assert list(features.has_lyrics) == [True] * 6 + [False, False]
    assert np.all(features.vectors[6:] == 0)
    norms = np.linalg.norm(features.vectors[:6], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)
    english, bangla = features.vectors[0], features.vectors[3]
    assert np.dot(english, features.vectors[1]) > 0.99 and abs(np.dot(english, bangla)) < 0.5
    assert "নৌকা" in features.vocabulary and "river boat" in features.vocabulary


def test_embed_lyrics_with_too_few_texts() -> None:
    features = embed_lyrics(["only one", ""], LyricsSettings())
    assert features.vectors.shape == (2, 0) and list(features.has_lyrics) == [True, False]
