"""Shared fixtures: tiny generated audio and collections (no data outside the repo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from songscape.demo import DemoSettings, write_demo_corpus

SAMPLE_RATE = 22050
# the smallest run config: PCA + K-Means, one seed, t-SNE maps (tests of what a run is used for)
PCA_RUN_CONFIG = """preset: easy
seeds: [0]
map_methods: [tsne]
representations: [{name: pca, kind: pca, params: {n_components: 4}}]
lyrics: {method: tfidf, n_components: 4, min_df: 1}
clusterers: [{name: kmeans}]
"""


def write_tone(path: Path, freq: float = 440.0, seconds: float = 1.0, sr: int = SAMPLE_RATE,
               channels: int = 1) -> Path:
    """A sine tone written with soundfile (format from the extension)."""
    t = np.arange(int(seconds * sr)) / sr
    tone = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    sf.write(path, np.stack([tone] * channels, axis=1) if channels > 1 else tone, sr)
    return path


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16-track, 3-second demo corpus; returns its lyrics table."""
    directory = tmp_path_factory.mktemp("corpus")
    return write_demo_corpus(directory, DemoSettings(tracks=16, seconds=3.0, seed=0), workers=2)


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated Gaussian blobs in 5-D, 30 points each, and their labels."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0] * 5, [8.0] * 5, [0.0, 8.0, 0.0, 8.0, 0.0]])
    truth = np.repeat(np.arange(3), 30)
    return centres[truth] + rng.standard_normal((90, 5)), truth
