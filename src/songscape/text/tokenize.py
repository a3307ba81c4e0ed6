"""Script-aware word tokens and stop words for Bangla and English.

scikit-learn's default token pattern (and ``re``'s ``\\w``) splits Bengali words at vowel signs
and the virama, which are combining marks (category M). Here a word is a run of letters, marks
and digits (Bengali digits included), with ZWNJ/ZWJ kept inside it; Bengali punctuation
(দাঁড়ি । and double দাঁড়ি ॥) and all other punctuation separate words.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex
import stopwordsiso
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

WORD = regex.compile(r"[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}\u200C\u200D]*[\p{L}\p{M}\p{N}])?")


def word_tokens(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``."""
    return [token.lower() for token in WORD.findall(text)]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English (scikit-learn's list) and Bangla (stopwords-iso) stop words, NFC, tokenized
    the way lyrics are, so that they match."""
    bangla = {unicodedata.normalize("NFC", word) for word in stopwordsiso.stopwords("bn")}
    words = set(ENGLISH_STOP_WORDS) | bangla
    return frozenset(token for word in words for token in word_tokens(word))


def content_tokens(text: str) -> list[str]:
    """Word tokens without stop words."""
    stops = stop_words()
    return [token for token in word_tokens(text) if token not in stops]
