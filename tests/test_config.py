from pathlib import Path

import pytest

from songscape.config import ConfigError, load_config, preset, with_overrides


def test_easy_preset() -> None:
    config = preset("easy")
    kinds = [spec.kind for spec in config.representations]
    assert "vae" in kinds and "pca" in kinds and config.clusterers[0].name == "kmeans"
    assert config.seeds == [0, 1, 2]


def test_unknown_preset_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean 'easy'"):
        preset("eays")


def test_typo_in_key_names_key_and_nearest(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("preset: easy\nn_cluster: 4\n")
    with pytest.raises(ConfigError, match="n_cluster: unknown key \\(did you mean 'n_clusters'\\?\\)"):
        load_config(path)
    path.write_text("preset: easy\naudio:\n  n_mel: 32\n")
    with pytest.raises(ConfigError, match="audio.n_mel: unknown key \\(did you mean 'n_mels'\\?\\)"):
        load_config(path)


def test_unknown_clusterer_and_bad_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'kmeans'"):
        with_overrides(preset("easy"), clusterers=[{"name": "kmean"}])
    with pytest.raises(ConfigError, match="n_clusters"):
        with_overrides(preset("easy"), n_clusters=1)


def test_yaml_round_trip(tmp_path: Path) -> None:
    config = with_overrides(preset("easy"), n_clusters=5, seeds=[7])
    path = tmp_path / "config.yaml"
    path.write_text(config.to_yaml())
    assert load_config(path) == config


def test_settings_import_no_audio_code() -> None:
    import subprocess
    import sys

    code = "import sys, songscape.config; print(sorted(m for m in sys.modules if m.startswith('songscape.audio')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
