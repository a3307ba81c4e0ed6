"""Script-aware word tokens: letters with their combining marks and digits stay together.

scikit-learn's default token pattern (and ``re``'s ``\\w``) splits Bengali words at vowel signs
and the virama, which are combining marks (category M); ``[\\p{L}\\p{M}\\p{N}]+`` keeps them.
"""

from __future__ import annotations

import regex

WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")


def word_tokens(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``."""
    return [token.lower() for token in WORD.findall(text)]
