"""The embedded demo corpus: synthetic tracks in four styles (`synth`), lyrics in English,
Bangla and Banglish from small vocabularies (`vocabulary`), written as a folder of audio files
plus a lyrics table (`corpus`)."""

from songscape.demo.corpus import DemoSettings, make_lyrics, write_demo_corpus

__all__ = ["DemoSettings", "make_lyrics", "write_demo_corpus"]
