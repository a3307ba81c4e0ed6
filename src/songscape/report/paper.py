"""`report/paper/`: an experiments section for a NeurIPS-style paper, written from a finished
run's artifacts: the setup (from the run's config, data and seeds), the main, accuracy and
stability tables (`paper_tables`) and vector figures with captions. ``experiments.tex``
`\\input`s into a paper; ``main.tex`` beside it compiles it on its own."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path


from songscape.cluster.consensus import CONSENSUS_PREFIX
from songscape.config import RunConfig
from songscape.experiment import NETWORK_INPUTS
from songscape.library import SavedRun
from songscape.report import gallery
from songscape.report.paper_tables import (
    LEAK_MARK,
    accuracy_columns,
    algorithm_name,
    latex_table,
    main_columns,
    paper_text,
    stability_columns,
)
from songscape.report.tables import best_result
from songscape.workspace import write_text

PAPER_FOLDER = "paper"
SECTION_FILE, STANDALONE_FILE = "experiments.tex", "main.tex"
PACKAGES = "booktabs,graphicx,amsmath"
COMPILE_SECONDS = 180
MODEL_NAMES = {"raw": "the standardized features", "pca": "PCA", "ae": "an autoencoder", "vae": "a VAE",
               "cvae": "a conditional VAE", "conv-vae": "a convolutional VAE", "mvae": "a multimodal VAE",
               "vade": "a GMM-prior VAE (VaDE)", "group-vae": "a group VAE", "contrastive": "a contrastive encoder"}
INPUT_NAMES = {"audio": "audio statistics", "mel": "log-mel patches", "pretrained": "pretrained embeddings",
               "fused": "audio statistics and pretrained embeddings (each scaled as a block)",
               "lyrics": "lyric vectors", "hybrid": "audio and lyrics", "multimodal": "audio and lyrics (per modality)"}
NETWORK_NAMES = {"mn04_as": "EfficientAT MobileNet mn04 trained on AudioSet",
                 "mn04_as_blocks": "EfficientAT MobileNet mn04 trained on AudioSet, pooled from every block",
                 "MTT_musicnn": "musicnn trained on MagnaTagATune", "MSD_musicnn": "musicnn trained on the Million Song Dataset"}
LYRICS_NAMES = {"tfidf": "TF-IDF of word and character n-grams reduced by SVD",
                "e5": "multilingual E5 sentence embeddings",
                "both": "TF-IDF of word and character n-grams reduced by SVD beside multilingual E5 sentence embeddings"}


class PaperError(RuntimeError):
    """The section was written but did not compile (the message names the log)."""


def _count(n: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{n:,} {noun if n == 1 else plural}".replace(",", "{,}")


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _representation_line(spec: object) -> str:
    """``name``: model on input, with its parameters."""
    model = MODEL_NAMES[spec.kind]
    if spec.kind == "vae" and float(spec.params.get("beta", 1.0)) != 1.0:
        model = rf"a $\beta$-VAE ($\beta={float(spec.params['beta']):g}$)"
    details = [f"{paper_text(k).replace(chr(92) + '_', ' ')} {paper_text(v)}" for k, v in spec.params.items()
               if k != "beta"]
    condition = f", conditioned on {paper_text(spec.condition)}" if spec.condition else ""
    extra = f" ({', '.join(details)})" if details else ""
    return rf"\textsf{{{paper_text(spec.name)}}}: {model} of the {INPUT_NAMES[spec.input]}{condition}{extra}"


def _setup(run: SavedRun, config: RunConfig) -> str:
    """The setup paragraphs, every figure in them read from the run."""
    tracks, results = run.tracks, run.results
    analysed = tracks[tracks["status"] == "ok"]
    with_lyrics = int((analysed["lyrics"].fillna("") != "").sum())
    languages = analysed["language"].fillna("unknown").value_counts()
    language_text = ", ".join(f"{paper_text(code)} {n}" for code, n in languages.items())
    labels = run.label_columns
    label_text = "; ".join(f"{paper_text(c)} ({_count(int(analysed[c].nunique()), 'class')})" for c in labels)
    audio = config.audio
    excerpt = {"segments": f"{audio.crops} segments over {audio.excerpt_seconds or 'the whole'} s",
               "centre": f"{audio.excerpt_seconds} s from the centre", "start": f"the first {audio.excerpt_seconds} s",
               "crops": f"{audio.crops} crops joined into {audio.excerpt_seconds} s"}[audio.excerpt]
    used = {spec.name: spec for spec in config.representations if spec.name in set(results["representation"])}
    reads_lyrics = any(spec.input in ("lyrics", "hybrid", "multimodal") for spec in used.values())
    reads_network = any(spec.input in NETWORK_INPUTS for spec in used.values())
    clusterers = sorted({a for a in results["algorithm"] if not a.startswith(CONSENSUS_PREFIX)},
                        key=list(results["algorithm"]).index)
    consensus = any(a.startswith(CONSENSUS_PREFIX) for a in results["algorithm"])
    k = (f"$k={config.n_clusters}$ clusters" if config.n_clusters
         else "$k$ chosen per clusterer from 2--10 by silhouette (by BIC for GMM) where it needs one")
    seeds = sorted(int(s) for s in results["seed"].unique())
    paragraphs = [
        rf"\paragraph{{Data.}} The collection \emph{{{paper_text(run.record['name'])}}} holds "
        f"{_count(len(tracks), 'track')}: {len(analysed)} analysed ({len(tracks) - len(analysed)} could not be "
        f"decoded), {with_lyrics} with lyrics. "
        f"Languages: {language_text}. "
        + (f"Labels, used only to score clusters: {label_text}." if labels else "No labels: only internal metrics."),
        rf"\paragraph{{Features.}} Audio is resampled to {audio.sample_rate} Hz and analysed over {excerpt}; "
        f"one STFT (window {audio.n_fft}, hop {audio.hop_length}) gives {audio.n_mels}-band log-mel spectrograms "
        f"and statistics of {audio.n_mfcc} MFCCs and spectral descriptors"
        + (f"; the pretrained network is {NETWORK_NAMES[audio.network]}" if reads_network else "")
        + (f". Lyrics become {LYRICS_NAMES[config.lyrics.method]}" if reads_lyrics else "") + ".",
        r"\paragraph{Representations.} " + "; ".join(_representation_line(spec) for spec in used.values()) + ".",
        r"\paragraph{Clustering and evaluation.} Each representation is clustered by "
        + _listed([algorithm_name(a) for a in clusterers]) + f" into {k}"
        + ("; with several seeds, a consensus of each clusterer over the seeds is added (one labelling: its "
           "scores against labels do not vary)" if consensus else "")
        + f". Every model and clusterer runs with {_count(len(seeds), 'seed')} "
        f"({', '.join(str(s) for s in seeds)}); tables give the mean"
        + (r" $\pm$ standard deviation over seeds" if len(seeds) > 1 else " (one seed: no deviation)")
        + ". Internal metrics are computed on non-noise tracks in the standardized features of the "
        "representation's input, so that the representations of one input are judged in one space; "
        "external metrics count noise as a group of its own. Labels never train or choose a model; "
        f"results of a model conditioned on a scored label are marked {LEAK_MARK} and are never bold.",
    ]
    return "\n\n".join(paragraphs)


def _figure(path: Path, caption: str, label: str) -> str:
    return "\n".join([r"\begin{figure}[htb]", r"\centering",
                      rf"\includegraphics[width=\linewidth]{{\songscapepaperdir figures/{path.name}}}",
                      rf"\caption{{{caption}}}", rf"\label{{{label}}}", r"\end{figure}"]) + "\n"


def _figures(run: SavedRun, config: RunConfig, folder: Path) -> list[str]:
    """The best result's map and every representation side by side, as PDFs (the metrics are in
    the tables)."""
    results, labels, tracks = run.results, run.label_columns, run.tracks
    representation, algorithm = best_result(results)
    parts = []
    maps = [f for f in gallery.latent_maps(run.workspace, results, tracks, labels, config.map_methods[:1],
                                           folder, "pdf") if f[1] is not None]
    method = {"tsne": "t-SNE", "umap": "UMAP"}[config.map_methods[0]]
    for _, path in maps:
        coloured = " and by ".join([f"its {algorithm_name(algorithm)} clusters", *map(paper_text, labels)])
        parts.append(_figure(path, rf"{method} map of \textsf{{{paper_text(representation)}}}, the result chosen "
                             f"without labels (first seed), coloured by {coloured}.", "fig:songscape-map"))
    for _, path in gallery.comparison_maps(run.workspace, results, tracks, labels, folder, "pdf"):
        colouring = ("its first clusterer's clusters" if path.stem == "compare-clusters"
                     else paper_text(labels[0]))
        parts.append(_figure(path, "Every representation on the first two principal components of its "
                             f"embedding (first seed), coloured by {colouring}.", f"fig:songscape-{path.stem}"))
    return parts


def _section(run: SavedRun) -> str:
    """The text of ``experiments.tex``."""
    config, results, labels = run.config, run.results, run.label_columns
    name = paper_text(run.record["name"])
    spread = r"mean $\pm$ std over seeds" if results["seed"].nunique() > 1 else "one seed"
    first = labels[0] if labels else None
    scored = f"; ARI, NMI and purity against {paper_text(first)}" if first else ""
    folder = run.workspace.report_dir / PAPER_FOLDER / "figures"
    representation, algorithm = best_result(results)
    tables = [latex_table(results, main_columns(first),
                          f"Clustering quality on {name} ({spread}). Silhouette, Calinski--Harabasz and "
                          f"Davies--Bouldin in the input's standardized features (compare them within one "
                          f"input){scored}. Best per column in bold.",
                          "tab:songscape-main")]
    if labels:
        tables.append(latex_table(results, accuracy_columns(labels),
                                  f"Hungarian accuracy of the clusters against each label ({spread}).",
                                  "tab:songscape-accuracy"))
    tables.append(latex_table(results, stability_columns(),
                              f"Clusters found, share of tracks not called noise, stability (mean pairwise ARI "
                              f"between seeds) and agreement (mean NMI with the run's other results), {spread}.",
                              "tab:songscape-stability"))
    chosen = (rf"The result chosen without labels (highest agreement) is \textsf{{{paper_text(representation)}}} "
              f"with {algorithm_name(algorithm)} (Figure~\\ref{{fig:songscape-map}}).")
    header = [f"% songscape experiments section for {name}, written by `songscape report --paper`.",
              f"% In your paper: \\usepackage{{{PACKAGES}}} in the preamble, then",
              "% \\newcommand{\\songscapepaperdir}{<this folder>/} and \\input{<this folder>/experiments}.",
              r"\providecommand{\songscapepaperdir}{}"]
    body = [r"\section{Experiments}", r"\label{sec:songscape-experiments}", r"\subsection{Setup}", _setup(run, config),
            r"\subsection{Results}",
            "Table~\\ref{tab:songscape-main} compares every representation and clusterer"
            + (", Table~\\ref{tab:songscape-accuracy} their accuracy" if labels else "")
            + " and Table~\\ref{tab:songscape-stability} their stability. " + chosen,
            *tables, *_figures(run, config, folder)]
    return "\n".join(header) + "\n\n" + "\n\n".join(body) + "\n"


def _standalone() -> str:
    return "\n".join([r"\documentclass{article}", r"\usepackage[T1]{fontenc}", r"\usepackage[utf8]{inputenc}", r"\usepackage{times}",
                      r"\usepackage[margin=1.5in]{geometry}", rf"\usepackage{{{PACKAGES}}}",
                      r"\begin{document}", rf"\input{{{Path(SECTION_FILE).stem}}}", r"\end{document}"]) + "\n"


def write_paper(run_dir: Path) -> Path:
    """Write ``report/paper/experiments.tex``, ``main.tex`` and ``figures/*.pdf`` for the
    finished run in ``run_dir``; return the folder."""
    run = SavedRun.open(run_dir)
    folder = run.workspace.report_dir / PAPER_FOLDER
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    write_text(folder / SECTION_FILE, _section(run))
    write_text(folder / STANDALONE_FILE, _standalone())
    return folder


def compile_paper(folder: Path) -> Path | None:
    """Compile ``main.tex`` in ``folder`` with pdfLaTeX (twice, for the references) and return
    the PDF; None when pdfLaTeX is not installed; a `PaperError` naming the log's first error
    when it fails."""
    engine = shutil.which("pdflatex")
    if engine is None:
        return None
    for _ in range(2):
        try:
            done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", STANDALONE_FILE],
                                  cwd=folder, capture_output=True, timeout=COMPILE_SECONDS, check=False)
        except subprocess.TimeoutExpired as error:
            raise PaperError(f"{folder / STANDALONE_FILE}: pdflatex took over {COMPILE_SECONDS} s") from error
        if done.returncode != 0:
            log = folder / "main.log"
            errors = re.findall(r"^! (.+)$", log.read_text(errors="replace"), re.M) if log.exists() else []
            raise PaperError(f"{folder / STANDALONE_FILE}: pdflatex failed: {errors[0] if errors else 'see'} ({log})")
    return folder / "main.pdf"
