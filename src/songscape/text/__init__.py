"""Lyrics: Unicode-correct normalisation, script-aware tokens, vector representations."""
