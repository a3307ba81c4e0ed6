"""The report from saved artifacts: figures for maps, composition, training, k selection,
reconstructions and traversals; the same tables in HTML, Markdown and LaTeX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from songscape.config import validate_config
from songscape.pipeline import CollectionSource, rebuild_report, run_pipeline
from songscape.report.tables import best_result, choice_note, latex_escape, ranked_results, to_latex, to_markdown

SMALL = {"latent_dim": 3, "hidden": [16], "epochs": 8}


def test_markdown_and_latex_tables_escape_their_cells() -> None:
    frame = pd.DataFrame({"representation": ["β-vae_1"], "algorithm": ["k|means"], "nmi": ["0.91 ± 0.02"]})
    markdown = to_markdown(frame)
    assert markdown.splitlines()[:2] == ["| representation | algorithm | nmi |", "|---|---|---|"]
    assert "k\\|means" in markdown
    latex = to_latex(frame, "Results & more", "tab:x")
    assert r"β-vae\_1 & k|means & 0.91 $\pm$ 0.02 \\" in latex
    assert r"\caption{Results \& more}" in latex and r"\begin{tabular}{llr}" in latex
    assert latex_escape("50% {a}#") == r"50\% \{a\}\#"


@pytest.fixture(scope="module")
def report_dir(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = validate_config({
        "name": "report-test", "seeds": [0, 1], "label_columns": ["style", "language"],
        "lyrics": {"method": "tfidf", "n_components": 4, "min_df": 1}, "audio": {"patch_frames": 16},
        "representations": [
            {"name": "vae", "kind": "vae", "params": SMALL},
            {"name": "conv", "kind": "conv-vae", "input": "mel",
             "params": {**SMALL, "channels": [4, 8], "hidden": [16]}}],
        "clusterers": [{"name": "kmeans"}]})  # no k: chosen by silhouette, so k-selection curves
    workspace = tmp_path_factory.mktemp("report")
    run_pipeline(config, CollectionSource(tiny_corpus.parent, tiny_corpus), workspace)
    return workspace / "report"


def test_report_has_every_kind_of_figure(report_dir: Path) -> None:
    names = {path.name for path in report_dir.glob("*.png")}
    best, _ = best_result(pd.read_parquet(report_dir.parent / "results.parquet"))
    for expected in (f"map-{best}-umap.png", f"map-{best}-tsne.png", "compare-clusters.png", "compare-label.png",
                     f"composition-{best}.png", "training-curves.png", "k-selection.png",
                     "reconstructions-conv.png", "traversal-vae.png", "traversal-conv.png", "metrics.png"):
        assert expected in names
    others = [other for other in ("vae", "conv") if other != best]
    assert not {f"{figure}-{other}{end}" for figure, end in (("map", "-umap.png"), ("composition", ".png"))
                for other in others} & names  # the best result only
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(names)  # every figure inlined once
    assert "<figcaption>conv: reconstructions</figcaption>" in page and "href='map.html'" in page


def test_markdown_and_latex_hold_the_same_results(report_dir: Path) -> None:
    markdown = (report_dir / "results.md").read_text(encoding="utf-8")
    latex = (report_dir / "tables.tex").read_text(encoding="utf-8")
    results = pd.read_csv(report_dir.parent / "results.csv")
    nmi = results.groupby(["representation", "algorithm"])["nmi_style"].mean()
    for representation in ("vae", "conv"):
        for algorithm in ("kmeans", "consensus-kmeans"):  # two seeds of a neural model: also their consensus
            assert f"| {representation} | {algorithm} |" in markdown
            assert f"{representation} & {algorithm} & " in latex
            assert f"{nmi[(representation, algorithm)]:.3f} ± " in markdown
    assert latex.count(r"\begin{tabular}") == 2 and r"nmi\_style" in latex


def test_report_rebuilds_without_models(report_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(report_dir.parent, copy)
    shutil.rmtree(copy / "models")
    shutil.rmtree(copy / "report")
    index, map_path = rebuild_report(copy)
    assert index.exists() and map_path.exists()
    names = {path.name for path in (copy / "report").glob("*.png")}
    best, _ = best_result(pd.read_parquet(copy / "results.parquet"))
    assert f"map-{best}-umap.png" in names and "training-curves.png" not in names  # needs saved models


def test_a_report_built_again_redraws_only_what_changed(report_dir: Path, tmp_path: Path) -> None:
    """Figures whose inputs did not change are not drawn again; one whose input changed is."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(report_dir.parent, copy)
    drawn = {path.name: path.stat().st_mtime_ns for path in (copy / "report").glob("*.png")}
    rebuild_report(copy)
    assert {path.name: path.stat().st_mtime_ns for path in (copy / "report").glob("*.png")} == drawn
    results = pd.read_parquet(copy / "results.parquet")
    results["silhouette"] += 0.01  # the metric bars' input
    results.to_parquet(copy / "results.parquet")
    rebuild_report(copy)
    again = {path.name: path.stat().st_mtime_ns for path in (copy / "report").glob("*.png")}
    assert [name for name in drawn if again[name] != drawn[name]] == ["metrics.png"]


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_large_maps_fit_on_a_sample_and_place_the_rest(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from songscape.report import figures

    monkeypatch.setattr(figures, "MAP_FIT_SAMPLE", 60)
    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(3), 50)
    embedding = np.eye(3, 6)[truth] * 10.0 + rng.normal(0.0, 0.5, (150, 6))
    project = figures.map_2d if method == "tsne" else figures.umap_2d
    coordinates = project(embedding, random_state=3)
    assert coordinates.shape == (150, 2) and np.isfinite(coordinates).all()
    assert np.array_equal(coordinates, project(embedding, random_state=3))  # seeded
    sampled = figures._map_sample(150, 3)
    from sklearn.neighbors import KNeighborsClassifier

    placed = KNeighborsClassifier(3).fit(coordinates[sampled], truth[sampled]).predict(coordinates[~sampled])
    assert (placed == truth[~sampled]).mean() > 0.95  # the rest land among their own kind


def _results(rows: list[tuple[str, str, float, float, bool]]) -> pd.DataFrame:
    return pd.DataFrame([{"representation": r, "algorithm": a, "seed": seed, "agreement": agree,
                          "nmi_genre": nmi, "supervised_leak": leak, "silhouette_common": 0.0}
                         for r, a, agree, nmi, leak in rows for seed in (0, 1)])


def test_the_best_result_is_chosen_without_labels() -> None:
    """The most agreeing result wins even where a label scores another higher; a result
    conditioned on a scored label never wins; the note says how it chose and what it missed."""
    results = _results([("pca", "kmeans", 0.5, 0.9, False), ("vae", "kmeans", 0.7, 0.4, False),
                        ("cvae", "kmeans", 0.9, 1.0, True)])
    assert ranked_results(results) == [("vae", "kmeans"), ("pca", "kmeans"), ("cvae", "kmeans")]
    note = choice_note(results, ["genre"])
    assert note.startswith("vae + kmeans was chosen without labels")
    assert "NMI 0.40" in note and "pca + kmeans (0.90)" in note
    older = results.drop(columns="agreement").assign(silhouette_common=[0.1, 0.1, 0.3, 0.3, 0.9, 0.9])
    assert ranked_results(older)[0] == ("vae", "kmeans")


def test_a_missing_font_is_said_once_and_only_for_characters_no_font_draws(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import matplotlib
    import matplotlib.pyplot as plt

    from songscape.report import figures
    assert matplotlib.rcParams["axes.unicode_minus"] is False  # no font needs U+2212
    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["DejaVu Sans"])
    monkeypatch.setattr(figures, "_fallback_families", lambda: ())  # a machine with DejaVu Sans only
    monkeypatch.setattr(figures, "_missing_glyphs_said", [])
    latin, bengali, runic = plt.figure(), plt.figure(), plt.figure()
    latin.suptitle("rock - folk")
    bengali.suptitle("ফোক গান")
    runic.suptitle("ᚠᚢᚦ")
    with caplog.at_level("WARNING", logger=figures.__name__):
        figures._fit_fonts(latin)
        assert not caplog.records
        for figure in (bengali, bengali, runic):
            figures._fit_fonts(figure)
    assert len(caplog.records) == 1 and "apt-get install fonts-noto-core" in caplog.records[0].getMessage()
    plt.close("all")


def test_other_scripts_and_emoji_draw_without_a_glyph_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Devanagari, katakana, emoji and runic tags draw in a composition figure with the fonts
    `.ci/system-deps` installs: no "Glyph missing" warning, no notice."""
    import warnings

    from songscape.report.figures import plot_composition

    labels = np.repeat(np.arange(2), 8)
    tags = np.array(["हिन्दी", "カタカナ", "🎸 rock", "ᚠᚢᚦ", "লোকগীতি", "Ελλάδα", "ሰላም", "plain"] * 2, dtype=object)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level("WARNING"):
        warnings.simplefilter("always")
        plot_composition(labels, {"genre": tags}, "scripts", tmp_path / "composition.png")
    assert (tmp_path / "composition.png").exists()
    assert [str(w.message) for w in caught] == [] and [r.getMessage() for r in caplog.records] == []


def test_training_curves_below_one_draw_without_a_glyph_warning(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Losses under 1 give negative powers of ten on the log axis; their minus sign is ASCII, so
    no installed font (Noto Sans lacks U+2212) makes matplotlib warn."""
    import warnings

    from songscape.report.figures import plot_training_curves

    history = pd.DataFrame({"train_loss": np.geomspace(0.9, 0.002, 30), "val_loss": np.geomspace(1.1, 0.004, 30)})
    with warnings.catch_warnings(record=True) as caught, caplog.at_level("WARNING"):
        warnings.simplefilter("always")
        plot_training_curves({"vae": history, "ae": history * 3}, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").exists()
    assert [str(w.message) for w in caught] == [] and [r.getMessage() for r in caplog.records] == []


def test_a_layout_grows_with_the_collection_and_is_fitted_again_when_tracks_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An embedding that only gained a few tracks keeps the cached layout (the new tracks are
    placed among their neighbours); more new tracks than `GROWN_LAYOUT_SHARE`, or a kept track
    whose embedding changed, fit the layout again."""
    from songscape.report import gallery
    from songscape.workspace import Workspace, write_npz

    fits = []

    def counted(values: np.ndarray, random_state: int) -> np.ndarray:
        fits.append(len(values))
        return values @ np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 1.0]])

    monkeypatch.setitem(gallery.MAP_METHODS, "umap", counted)
    workspace = Workspace(tmp_path)
    rng = np.random.default_rng(0)
    values = np.repeat(np.eye(4) * 10.0, 10, axis=0) + rng.normal(0.0, 0.1, (40, 4))  # 4 tight groups
    ids = np.array([f"t{i}" for i in range(80)])

    def embed(rows: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        write_npz(workspace.embedding("vae", 0), track_id=ids[:count], embedding=rows)
        return gallery.layout(workspace, "vae", 0, "umap")

    _, first = embed(values, 40)
    grown_values = np.vstack([values, values[::5] + 0.01])  # 8 new tracks, 2 in each group
    track_ids, grown = embed(grown_values, 48)
    assert fits == [40] and len(track_ids) == 48
    assert np.array_equal(grown[:40], first)
    assert np.allclose(grown[40:], first[::5], atol=1.0)  # placed in their own group
    changed = grown_values.copy()
    changed[0] += 1.0
    embed(changed, 48)
    assert fits == [40, 48]
    embed(np.vstack([changed, rng.normal(size=(20, 4))]), 68)  # 20 new of 68: more than a quarter
    assert fits == [40, 48, 68]
