"""`songscape report RUN --paper`: the experiments section's tables (names, mean ± std, the best
in bold) and a section that real pdfLaTeX compiles alone and inside a NeurIPS-style preamble
(texlive and poppler from Debian, installed by .ci/system-deps like the browser)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from songscape.config import validate_config
from songscape.pipeline import CollectionSource, run_pipeline
from songscape.report.paper_tables import latex_table, main_columns, paper_text, stability_columns

SMALL = {"latent_dim": 3, "hidden": [16], "epochs": 8}
NEURIPS_LIKE_PREAMBLE = r"""\documentclass{article}
\usepackage[textwidth=5.5in,textheight=9in]{geometry}
\usepackage{times}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\usepackage{hyperref}
\usepackage{url}
\usepackage{booktabs}
\usepackage{amsfonts}
\usepackage{microtype}
\usepackage{xcolor}
\usepackage[numbers]{natbib}
\usepackage{graphicx,amsmath}
"""


def _results() -> pd.DataFrame:
    rows = []
    for seed, (a, b, leak) in enumerate([(0.30, 0.50, 0.90), (0.32, 0.54, 0.92)]):
        for representation, silhouette, nmi, db, purity, leaked in (
                ("raw", 0.1, 0.2, 2.5, 0.6, False), ("pca", a, 0.61, 1.2, 0.7, False), ("vae", b, 0.40, 1.9, 0.7, False),
                ("cvae-style", 0.1, leak, 0.8, 0.9, True)):
            rows.append({"representation": representation, "algorithm": "kmeans", "seed": seed,
                         "silhouette_common": silhouette, "calinski_harabasz_common": 10.0 + seed,
                         "davies_bouldin_common": db, "ari_style": nmi - 0.1, "nmi_style": nmi,
                         "purity_style": purity, "n_clusters": 4, "coverage": 1.0, "stability": np.nan,
                         "agreement": 0.5, "supervised_leak": leaked})
    return pd.DataFrame(rows)


def _row(table: str, name: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(name))


def test_the_main_table_names_metrics_and_bolds_the_best_of_each_column() -> None:
    table = latex_table(_results(), main_columns("style"), "Results", "tab:main")
    header = next(line for line in table.splitlines() if line.startswith("Representation"))
    for name in ("Silhouette", "Calinski--Harabasz", "Davies--Bouldin", "ARI", "NMI", "Purity"):
        assert name in header
    assert "_" not in header  # no snake_case column names
    assert r"$\mathbf{0.520 \pm 0.028}$" in _row(table, "vae")  # highest silhouette
    assert r"$\mathbf{0.610 \pm 0.000}$" in _row(table, "pca")  # highest NMI among results without a leak
    assert r"$\mathbf{1.20 \pm 0.00}$" in _row(table, "pca")  # Davies-Bouldin: lower is better
    leaked = _row(table, "cvae-style")
    assert r"$^\dagger$" in leaked and r"\mathbf" not in leaked  # its NMI 0.91 and DB 0.80 are not bold
    assert all(r"$\mathbf{0.700 \pm 0.000}$" in _row(table, name) for name in ("pca", "vae"))  # purity: a tie


def test_one_seed_shows_no_deviation_and_counts_are_never_bold() -> None:
    one_seed = _results().query("seed == 0")
    table = latex_table(one_seed, main_columns("style") + stability_columns(), "Results", "tab:main")
    assert r"\pm" not in table and r"$\mathbf{0.610}$" in _row(table, "pca")
    assert "Stability" not in table  # no value: the column is left out
    assert r"\mathbf{4.0}" not in table and "$4.0$" in table
    assert r"\mathbf{1.00}" not in table  # coverage: every result ties, none stands out


def test_names_that_latex_cannot_set_still_compile() -> None:
    assert paper_text("β-vae_1 50%") == r"$\beta$-vae\_1 50\%"
    assert paper_text("café") == "café"
    assert paper_text("বাংলা").count("?") == len("বাংলা")


@pytest.fixture(scope="module")
def paper_run(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = validate_config({
        "name": "paper-test", "seeds": [0, 1], "label_columns": ["style", "language"], "n_clusters": 2,
        "lyrics": {"method": "tfidf", "n_components": 4, "min_df": 1}, "map_methods": ["tsne"],
        "representations": [{"name": "pca", "kind": "pca", "params": {"n_components": 4}},
                            {"name": "β-vae", "kind": "vae", "params": {**SMALL, "beta": 4.0}}],
        "clusterers": [{"name": "kmeans"}, {"name": "agglomerative"}]})
    workspace = tmp_path_factory.mktemp("paper") / "run"
    run_pipeline(config, CollectionSource(tiny_corpus.parent, tiny_corpus), workspace)
    result = CliRunner().invoke(app, ["report", str(workspace), "--paper"])
    assert result.exit_code == 0, result.output
    assert "main.pdf" in result.output
    return workspace


def _pdf_text(pdf: Path) -> tuple[int, str]:
    pages = int(re.search(r"^Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                              check=True).stdout, re.M).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return pages, text


def test_the_section_compiles_alone_with_its_tables_and_figures(paper_run: Path) -> None:
    paper = paper_run / "report" / "paper"
    figures = sorted(paper.glob("figures/*.pdf"))
    assert {f.name for f in figures} >= {"compare-label.pdf", "compare-clusters.pdf"}
    assert any(f.name.startswith("map-") for f in figures)
    for figure in figures:  # vector: drawn as paths, no embedded bitmap
        data = figure.read_bytes()
        assert data.startswith(b"%PDF") and b"/Subtype /Image" not in data
    pages, text = _pdf_text(paper / "main.pdf")
    assert pages >= 2
    for expected in ("Experiments", "Setup", "Calinski", "Davies", "Silhouette", "ARI", "NMI", "Purity",
                     "Hungarian accuracy", "K-Means", "agglomerative", "consensus", "2 seeds (0, 1)",
                     "pca", "Table 1", "Figure 1", "paper-test"):
        assert expected in text, expected
    assert "β-VAE(β=4)" in re.sub(r"\s+", "", text)  # a Greek name set in math
    assert "??" not in text  # every reference resolved
    fonts = subprocess.run(["pdffonts", str(paper / "main.pdf")], capture_output=True, text=True, check=True).stdout
    assert "Type 3" not in fonts  # outline fonts only, no bitmaps
    section = (paper / "experiments.tex").read_text(encoding="utf-8")
    assert section.count(r"\begin{table}") == 3 and r"\mathbf{" in section
    assert r"\begin{tabular}" in section and "snake" not in section


def test_the_section_inputs_into_a_neurips_style_paper(paper_run: Path, tmp_path: Path) -> None:
    shutil.copytree(paper_run / "report" / "paper", tmp_path / "songscape")
    (tmp_path / "paper.tex").write_text(
        NEURIPS_LIKE_PREAMBLE + "\\newcommand{\\songscapepaperdir}{songscape/}\n\\title{A study}\n\\begin{document}\n"
        "\\maketitle\n\\section{Introduction}\nWe cluster music.\n\\input{songscape/experiments}\n\\end{document}\n",
        encoding="utf-8")
    for _ in range(2):
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout[-2000:]
    pages, text = _pdf_text(tmp_path / "paper.pdf")
    text = " ".join(text.split())
    assert pages >= 2 and "1 Introduction" in text and "2 Experiments" in text and "Table 1" in text
